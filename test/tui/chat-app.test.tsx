/** @jsxRuntime automatic */
/** @jsxImportSource react */
// (The pragmas above: tsx applies the project's tsconfig, and its "jsx": "react-jsx", only to
// the files it includes, src/; test files would otherwise be compiled for the classic runtime.)
// The interactive chat screen, rendered with ink-testing-library over the real chat
// service of a test context: what a user sees and types.
import { useEffect, type ReactNode } from 'react';
import { expect } from 'chai';
import { cleanup, render } from 'ink-testing-library';
import { ChatApp } from '../../src/tui/ChatApp.js';
import { chatBackend, conversationHistory } from '../../src/tui/backend.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { addProvider, createAgent, fixture, storedCounts, upload, waitFor } from '../helpers/chat.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { DEADLINE_MS, frame, typeLine, waitForText, type Screen } from '../helpers/screen.js';


const QUESTION = 'What does chlorophyll absorb?';
const QUOTE = 'Chlorophyll absorbs sunlight';

/** Calls `onUnmount` when ink takes the tree down (as it does when the app exits). */
function UnmountProbe({ onUnmount, children }: { onUnmount: () => void; children: ReactNode }) {
  useEffect(() => onUnmount, [onUnmount]);
  return <>{children}</>;
}



describe('the interactive chat (ChatApp)', () => {
  let ctx: TestContext;
  let agent: Agent;

  beforeEach(async () => {
    ctx = await openTestContext();
    agent = await createAgent(ctx, {}, 'Ada');
    await upload(ctx, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: agent.id });
  });
  afterEach(async () => {
    cleanup();
    await ctx.close();
  });

  function open(props: { conversationId?: number; history?: Parameters<typeof ChatApp>[0]['history']; forAgent?: Agent } = {}) {
    const backend = chatBackend(ctx, props.forAgent ?? agent);
    return render(<ChatApp backend={backend} conversationId={props.conversationId} history={props.history} />);
  }

  it('names the agent in its header', async () => {
    const screen = open();
    expect(await waitForText(screen, 'Ada')).to.include(`Chatting with Ada (agent ${agent.id})`);
  });

  it('shows "You", the message, then the reply with its sources', async () => {
    const screen = open();
    await typeLine(screen, QUESTION);
    const shown = await waitForText(screen, 'Sources:');
    const at = (text: string) => shown.indexOf(text);
    expect(at('You')).to.be.greaterThan(-1);
    expect(at(QUESTION)).to.be.greaterThan(at('You'));
    expect(at(QUOTE)).to.be.greaterThan(at(QUESTION));
    expect(at('Sources:')).to.be.greaterThan(at(QUOTE));
    expect(shown).to.match(/Sources: photosynthesis\.pdf/);
    const { messages } = await ctx.services.conversations.get(1);
    expect(messages.map((m) => m.sender)).to.deep.equal(['user', 'agent']);
  });

  it('shows the history it is given', async () => {
    const earlier = await ctx.services.chat.send({ message: 'Tell me about chlorophyll', agent_id: agent.id });
    const history = await conversationHistory(ctx, earlier.conversation_id);
    const screen = open({ conversationId: earlier.conversation_id, history });
    const shown = await waitForText(screen, QUOTE);
    expect(shown).to.include(`in conversation ${earlier.conversation_id}`);
    expect(shown.indexOf('Tell me about chlorophyll')).to.be.lessThan(shown.indexOf(QUOTE));
    expect(shown).to.include('You');
  });

  it('continues the conversation it was opened on', async () => {
    const earlier = await ctx.services.chat.send({ message: 'Tell me about chlorophyll', agent_id: agent.id });
    const screen = open({ conversationId: earlier.conversation_id, history: await conversationHistory(ctx, earlier.conversation_id) });
    await typeLine(screen, 'And glucose?');
    // The earlier reply is shown with its stored sources, the new one with its own.
    await waitForText(screen, 'Sources:', 2);
    expect(frame(screen).split(QUOTE)).to.have.length(3);
    expect(await storedCounts(ctx)).to.deep.equal({ conversations: 1, messages: 4 });
  });

  it('lists /new and /exit on /help', async () => {
    const screen = open();
    await typeLine(screen, '/help');
    const shown = await waitForText(screen, '/exit');
    expect(shown).to.include('/new');
    expect(shown).to.include('/help');
  });

  it('says so for an unknown command', async () => {
    const screen = open();
    await typeLine(screen, '/frobnicate');
    expect(await waitForText(screen, 'Error:')).to.include('/frobnicate');
    expect(await storedCounts(ctx)).to.deep.equal({ conversations: 0, messages: 0 });
  });

  it('starts a new conversation after /new', async () => {
    const screen = open();
    await typeLine(screen, QUESTION);
    await waitForText(screen, 'Sources:', 1);
    await typeLine(screen, 'And sunlight?');
    await waitForText(screen, 'Sources:', 2);
    expect(await storedCounts(ctx)).to.deep.equal({ conversations: 1, messages: 4 });

    await typeLine(screen, '/new');
    await typeLine(screen, 'What about oxygen?');
    await waitForText(screen, 'Sources:', 3);
    const conversations = await ctx.knex('conversations').select('id', 'title', 'agent_id').orderBy('id');
    expect(conversations).to.deep.equal([
      { id: 1, title: QUESTION, agent_id: agent.id },
      { id: 2, title: 'What about oxygen?', agent_id: agent.id },
    ]);
    expect(await storedCounts(ctx)).to.deep.equal({ conversations: 2, messages: 6 });
  });

  describe('typing ahead of the screen', () => {
    it('keeps "/new", Enter and the next words in one chunk as two lines', async () => {
      const screen = open();
      await waitForText(screen, 'Chatting with Ada');
      screen.stdin.write('/new\rWhat about oxygen?');
      screen.stdin.write('\r');
      await waitForText(screen, 'Sources:');
      const shown = frame(screen);
      expect(shown).to.include('New conversation: your next message starts it.');
      expect(shown).to.not.include('Unknown command');
      const conversations = await ctx.knex('conversations').select('title').orderBy('id');
      expect(conversations).to.deep.equal([{ title: 'What about oxygen?' }]);
    });

    it('applies backspaces that arrive in the same chunk as the text', async () => {
      const screen = open();
      await waitForText(screen, 'Chatting with Ada');
      screen.stdin.write('/hepx\x7f\x7flp\r');
      expect(await waitForText(screen, '/exit')).to.not.include('Unknown command');
    });

    it('starts the next line with keys typed right after Enter, while the reply is on its way', async () => {
      const screen = open();
      await waitForText(screen, 'Chatting with Ada');
      // Back to back, without waiting for the screen: the first reply is still being written.
      screen.stdin.write(QUESTION);
      screen.stdin.write('\r');
      screen.stdin.write('/new');
      screen.stdin.write('\r');
      for (const char of 'What about oxygen?') screen.stdin.write(char);
      screen.stdin.write('\r');
      await waitForText(screen, 'Sources:', 2);
      expect(frame(screen)).to.not.include('Unknown command');
      const conversations = await ctx.knex('conversations').select('id', 'title').orderBy('id');
      expect(conversations).to.deep.equal([
        { id: 1, title: QUESTION },
        { id: 2, title: 'What about oxygen?' },
      ]);
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 2, messages: 4 });
    });
  });

  it('shows a runner failure as "Error: …" and keeps accepting input', async () => {
    await addProvider(ctx, 'unreachable', 'http://127.0.0.1:1/v1');
    const broken = await createAgent(ctx, { provider: 'unreachable', model: 'fake', timeout: 2 }, 'Broken');
    const screen = open({ forAgent: broken });
    await typeLine(screen, 'hello?');
    const shown = await waitForText(screen, 'Error:');
    expect(shown).to.match(/Error: Agent runner failed: /);
    expect(await storedCounts(ctx)).to.deep.equal({ conversations: 0, messages: 0 });

    await typeLine(screen, '/help');
    await waitForText(screen, '/exit');
    await typeLine(screen, 'hello again?');
    await waitForText(screen, 'Error: Agent runner failed', 2);
  });

  describe('leaving', () => {
    let fake: FakeOpenAi | undefined;
    afterEach(async () => {
      await fake?.close();
      fake = undefined;
    });

    /** Renders the app for `forAgent`; `gone` resolves when ink unmounts it. */
    function openWatched(forAgent: Agent) {
      let unmounted!: () => void;
      const gone = new Promise<void>((resolve) => {
        unmounted = resolve;
      });
      const screen = render(
        <UnmountProbe onUnmount={unmounted}>
          <ChatApp backend={chatBackend(ctx, forAgent)} />
        </UnmountProbe>,
      );
      let isGone = false;
      void gone.then(() => {
        isGone = true;
      });
      const expectGone = () => waitFor(() => isGone, DEADLINE_MS, `the app to unmount:\n${frame(screen)}`);
      return { screen, expectGone };
    }

    it('ends on /exit', async () => {
      const { screen, expectGone } = openWatched(agent);
      await waitForText(screen, 'Chatting with Ada');
      await typeLine(screen, '/exit');
      await expectGone();
    });

    it('ends on Ctrl-C', async () => {
      const { screen, expectGone } = openWatched(agent);
      await waitForText(screen, 'Chatting with Ada');
      screen.stdin.write('\x03');
      await expectGone();
    });

    it('shows a reply as it streams; Ctrl-C stops it without storing the turn, and a second Ctrl-C leaves', async () => {
      // One word a second: the reply is far from its end when Ctrl-C comes.
      fake = await startFakeOpenAi(`Chlorophyll is green${' and this reply goes on'.repeat(6)}`, 1000);
      await addProvider(ctx, 'fake', fake.baseUrl);
      const stalling = await createAgent(ctx, { provider: 'fake', model: 'paced', timeout: 60 }, 'Stalling');
      const { screen, expectGone } = openWatched(stalling);
      await typeLine(screen, 'Why is it green?');
      await waitForText(screen, 'Chlorophyll');
      screen.stdin.write('\x03');
      await waitForText(screen, 'Stopped: nothing of this reply is stored.');
      // The runner saw its request cut short: the turn is over, with nothing stored.
      await waitFor(() => fake?.paced.cutShort === 1, DEADLINE_MS, 'the reply to be cut short');
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 0, messages: 0 });
      screen.stdin.write('\x03');
      await expectGone();
    });
  });
});
