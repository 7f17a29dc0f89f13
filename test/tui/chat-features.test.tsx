/** @jsxRuntime automatic */
/** @jsxImportSource react */
// The interactive chat beyond one question and answer: Markdown replies rendered as they
// stream, Up/Down history kept per data folder, Ctrl-C that stops a reply, type-ahead during
// a streaming reply, and the /sources, /agent, /history and /open commands.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { cleanup, render } from 'ink-testing-library';
import { ChatApp } from '../../src/tui/ChatApp.js';
import { chatBackend } from '../../src/tui/backend.js';
import { openPromptHistory, promptHistoryFile } from '../../src/tui/history.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { addProvider, createAgent, fixture, storedCounts, upload, waitFor } from '../helpers/chat.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { DEADLINE_MS, frame, typeLine, waitForText, type Screen } from '../helpers/screen.js';
import { tempDir } from '../helpers/temp.js';

const UP = '\u001b[A';
const DOWN = '\u001b[B';
const CTRL_C = '\u0003';

const flat = (text: string) => text.replace(/\s+/g, ' ');

/** The prompt's line as shown (the cursor is an inverse space at its end). */
const promptLine = (screen: Screen) => (frame(screen).split('\n').findLast((line) => line.startsWith('> ')) ?? '').slice(2).trimEnd();

describe('the interactive chat: features', () => {
  let ctx: TestContext;
  let agent: Agent;
  let fake: FakeOpenAi | undefined;

  beforeEach(async () => {
    ctx = await openTestContext();
    agent = await createAgent(ctx, {}, 'Ada');
    await upload(ctx, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: agent.id });
  });
  afterEach(async () => {
    cleanup();
    await fake?.close();
    fake = undefined;
    await ctx.close();
  });

  const open = (props: Partial<Parameters<typeof ChatApp>[0]> = {}) => render(<ChatApp backend={chatBackend(ctx, agent)} {...props} />);

  async function pacedAgent(reply: string, intervalMs: number): Promise<Agent> {
    fake = await startFakeOpenAi(reply, intervalMs);
    await addProvider(ctx, 'fake', fake.baseUrl);
    return createAgent(ctx, { provider: 'fake', model: 'paced', timeout: 60 }, 'Writer');
  }

  describe('Markdown replies', () => {
    it('are rendered while they stream: no **, # or list dashes left', async () => {
      const writer = await pacedAgent('# Photosynthesis\n\n**Chlorophyll** absorbs `light`.\n\n- red light\n- blue light\n\nMore words follow here slowly', 150);
      const screen = render(<ChatApp backend={chatBackend(ctx, writer)} />);
      await typeLine(screen, 'Explain');
      const midway = await waitForText(screen, '• red light');
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 0, messages: 0 });
      expect(midway).to.contain('Photosynthesis').and.contain('Chlorophyll absorbs light.');
      expect(midway).to.not.contain('**').and.not.contain('# Photosynthesis').and.not.contain('- red');
      await waitFor(async () => (await storedCounts(ctx)).messages === 2, DEADLINE_MS, 'the reply to be stored');
      const done = await waitForText(screen, 'slowly');
      expect(done).to.contain('• blue light').and.not.contain('**');
    });
  });

  describe('Up and Down', () => {
    it('recall the lines typed before, and give back the line being written', async () => {
      const screen = open();
      await typeLine(screen, '/help');
      await waitForText(screen, '/exit');
      await typeLine(screen, '/new');
      await waitForText(screen, 'New conversation');
      screen.stdin.write('draft');
      await waitForText(screen, '> draft');
      screen.stdin.write(UP);
      await waitFor(() => promptLine(screen) === '/new', DEADLINE_MS, `"/new" recalled: ${promptLine(screen)}`);
      screen.stdin.write(UP);
      await waitFor(() => promptLine(screen) === '/help', DEADLINE_MS, `"/help" recalled: ${promptLine(screen)}`);
      screen.stdin.write(DOWN);
      screen.stdin.write(DOWN);
      await waitFor(() => promptLine(screen) === 'draft', DEADLINE_MS, `the draft back: ${promptLine(screen)}`);
    });

    it('are kept per data folder, in a file only the owner can read', async () => {
      const file = promptHistoryFile(tempDir());
      const first = open({ promptHistory: openPromptHistory(file) });
      await typeLine(first, '/help');
      await waitForText(first, '/exit');
      first.unmount();
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600);

      const next = open({ promptHistory: openPromptHistory(file) });
      await waitForText(next, 'Chatting with Ada');
      next.stdin.write(UP);
      await waitFor(() => promptLine(next) === '/help', DEADLINE_MS, `"/help" recalled from the file: ${promptLine(next)}`);
      expect(path.basename(file)).to.equal('chat_history');
    });
  });

  describe('Ctrl-C', () => {
    it('at a prompt holding text clears the line and stays', async () => {
      const screen = open();
      screen.stdin.write('half a thought');
      await waitForText(screen, '> half a thought');
      screen.stdin.write(CTRL_C);
      await waitFor(() => promptLine(screen) !== 'half a thought', DEADLINE_MS, 'the line cleared');
      await typeLine(screen, '/help');
      await waitForText(screen, '/exit');
    });
  });

  describe('typing while a reply streams', () => {
    it('keeps every key: the next question is sent whole once the reply ends', async () => {
      const writer = await pacedAgent('Chlorophyll is green because it reflects green light back', 100);
      const screen = render(<ChatApp backend={chatBackend(ctx, writer)} />);
      await typeLine(screen, 'Why green?');
      await waitForText(screen, 'Chlorophyll');
      for (const char of 'And blue?') screen.stdin.write(char);
      screen.stdin.write('\r');
      await waitFor(async () => (await storedCounts(ctx)).messages === 4, DEADLINE_MS, 'both turns stored');
      const sent = await ctx.knex('messages').where({ sender: 'user' }).orderBy('id').pluck('content');
      expect(sent).to.deep.equal(['Why green?', 'And blue?']);
    });
  });

  describe('slash commands', () => {
    it('/sources shows the last reply\'s sources in full', async () => {
      const screen = open();
      await typeLine(screen, 'What does chlorophyll absorb?');
      await waitForText(screen, 'Sources:');
      await typeLine(screen, '/sources');
      const shown = await waitForText(screen, 'Sources of the last reply:');
      const [stored] = await ctx.knex('messages').where({ sender: 'agent' }).pluck('sources');
      const [source] = JSON.parse(stored);
      expect(shown).to.contain(`[1] photosynthesis.pdf (document ${source.document_id})`);
      expect(flat(shown)).to.contain(flat(source.snippet));
    });

    it('/agent ID switches agents, in a new conversation', async () => {
      const bob = await createAgent(ctx, {}, 'Bob');
      const screen = open();
      await typeLine(screen, 'What does chlorophyll absorb?');
      await waitFor(async () => (await storedCounts(ctx)).messages === 2, DEADLINE_MS, 'the first turn stored');
      await typeLine(screen, `/agent ${bob.id}`);
      await waitForText(screen, `Now chatting with Bob (agent ${bob.id})`);
      await typeLine(screen, 'Hello Bob');
      await waitFor(async () => (await storedCounts(ctx)).messages === 4, DEADLINE_MS, 'the second turn stored');
      const conversations = await ctx.knex('conversations').orderBy('id').select('title', 'agent_id');
      expect(conversations).to.deep.equal([{ title: 'What does chlorophyll absorb?', agent_id: agent.id }, { title: 'Hello Bob', agent_id: bob.id }]);
    });

    it('/agent with an unknown id says so and keeps the agent', async () => {
      const screen = open();
      await typeLine(screen, '/agent 99');
      await waitForText(screen, 'Error: Agent not found');
    });

    it('/history lists this agent\'s conversations and /open ID continues one, with its sources', async () => {
      const first = await ctx.services.chat.send({ message: 'Tell me about chlorophyll', agent_id: agent.id });
      await ctx.services.chat.send({ message: 'And glucose?', agent_id: agent.id });
      const screen = open();
      await typeLine(screen, '/history');
      const listed = await waitForText(screen, 'Recent conversations with Ada');
      expect(listed).to.contain('Tell me about chlorophyll').and.contain('And glucose?');

      await typeLine(screen, `/open ${first.conversation_id}`);
      const opened = await waitForText(screen, `Continuing conversation ${first.conversation_id}.`);
      expect(opened).to.contain('Tell me about chlorophyll').and.contain('Sources: photosynthesis.pdf');
      await typeLine(screen, 'And the light reactions?');
      await waitFor(async () => (await ctx.services.conversations.get(first.conversation_id)).messages.length === 4, DEADLINE_MS, 'the turn added to the opened conversation');
    });

    it('/open refuses another agent\'s conversation', async () => {
      const bob = await createAgent(ctx, {}, 'Bob');
      const theirs = await ctx.services.chat.send({ message: 'Hi Bob', agent_id: bob.id });
      const screen = open();
      await typeLine(screen, `/open ${theirs.conversation_id}`);
      await waitForText(screen, `belongs to agent ${bob.id}`);
    });
  });
});
