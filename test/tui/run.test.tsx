/** @jsxRuntime automatic */
/** @jsxImportSource react */
// /run in the interactive chat: starts a run for the chat's agent and shows its progress
// and its answer on the chat screen, working on it in the chat's own process when no
// worker takes it.
import { expect } from 'chai';
import { cleanup, render } from 'ink-testing-library';
import { ChatApp } from '../../src/tui/ChatApp.js';
import { chatBackend } from '../../src/tui/backend.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { addProvider, createAgent, upload, waitFor } from '../helpers/chat.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { DEADLINE_MS, frame, typeLine, waitForText } from '../helpers/screen.js';

const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('the interactive chat: /run', () => {
  let ctx: TestContext;
  let agent: Agent;
  let fake: FakeOpenAi | undefined;

  beforeEach(async () => {
    ctx = await openTestContext();
    agent = await createAgent(ctx, {}, 'Ada');
  });
  afterEach(async () => {
    cleanup();
    await fake?.close();
    fake = undefined;
    await ctx.close();
  });

  it('is listed in /help', async () => {
    const screen = render(<ChatApp backend={chatBackend(ctx, agent)} />);
    await typeLine(screen, '/help');
    expect(await waitForText(screen, '/run TEXT')).to.contain('start a run');
  });

  it('asks for the text when none is given', async () => {
    const screen = render(<ChatApp backend={chatBackend(ctx, agent)} />);
    await typeLine(screen, '/run');
    await waitForText(screen, 'Say what the agent should do: /run TEXT');
    expect((await ctx.services.runs.list({})).total).to.equal(0);
  });

  it('Ctrl-C stops following the run; a run worked on here goes back to the queue', async () => {
    fake = await startFakeOpenAi('slowly '.repeat(400), 50);
    await addProvider(ctx, 'slow', fake.baseUrl);
    const slow = await createAgent(ctx, { provider: 'slow', model: 'paced' }, 'Slow');
    const screen = render(<ChatApp backend={chatBackend(ctx, slow)} />);
    await typeLine(screen, '/run Take your time');
    await waitFor(async () => (await ctx.services.runs.list({ status: 'running' })).total === 1, DEADLINE_MS, 'the run to be running');
    screen.stdin.write('\u0003');
    await waitForText(screen, 'Stopped following run');
    const [run] = (await ctx.services.runs.list({})).items;
    await waitFor(async () => (await ctx.services.runs.get(run.id)).status === 'queued', DEADLINE_MS, 'the run back in the queue');
  });

  it('starts a run of the chat\'s agent, works on it when no worker does, and shows its answer', async () => {
    await upload(ctx, 'photosynthesis.txt', 'Photosynthesis turns light into chemical energy in the chloroplasts.', { agent_id: agent.id });
    const screen = render(<ChatApp backend={chatBackend(ctx, agent)} />);
    await typeLine(screen, '/run What does photosynthesis turn light into?');
    const started = await waitForText(screen, 'started');
    expect(flat(started)).to.match(/Run \d+ started: Ada works on it in the background/);
    expect(flat(started)).to.match(/Run \d+ queued/);
    await waitFor(() => flat(frame(screen)).includes('working on it here'), DEADLINE_MS, `the fallback notice:\n${frame(screen)}`);
    const done = await waitForText(screen, 'succeeded.');
    expect(done).to.contain('chemical energy');
    const [run] = (await ctx.services.runs.list({})).items;
    expect(run).to.include({ agent_id: agent.id, status: 'succeeded', input: 'What does photosynthesis turn light into?' });
    // The prompt is free again, and the answer's sources are those of /sources.
    await typeLine(screen, '/sources');
    await waitForText(screen, 'photosynthesis.txt (document');
  });
});
