// One per-document run shared by workers: two worker pools on one database (two contexts
// on the same SQLite file or PostgreSQL schema) answer its documents together, each once;
// a helper's claims that lapse, or that it gives back when it stops, are finished by the
// run's owner; a cancel stops every worker on it.
import path from 'node:path';
import { expect } from 'chai';
import { createContext, type DanaContext } from '../../src/core/context.js';
import { RunWorkerPool, type FinishedRun } from '../../src/core/runs/worker.js';
import { DOCUMENTS_AT_ONCE } from '../../src/core/runs/executor.js';
import type { RunEvent } from '../../src/core/schemas.js';
import { dropSchema, freshPostgresUrl, isPostgres } from '../helpers/backend.js';
import { testConfig } from '../helpers/context.js';
import { startFakeOpenAi, promptOf, type FakeOpenAi } from '../helpers/fake-openai.js';
import { tempDir } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';
import { waitFor } from '../helpers/chat.js';

const LEASE_MS = 600;

describe('a run shared by workers', function () {
  this.timeout(60_000);
  let fake: FakeOpenAi;
  let first: DanaContext;
  let second: DanaContext;
  let drop: () => Promise<void>;
  let pools: RunWorkerPool[];
  let finished: FinishedRun[];
  let said: Record<string, string[]>;

  beforeEach(async () => {
    fake = await startFakeOpenAi('one two three four', 40);
    const home = tempDir();
    const postgres = isPostgres ? await freshPostgresUrl() : undefined;
    const env: Record<string, string> = {
      DANA_RUN_LEASE_MS: String(LEASE_MS),
      ...(postgres && { DANA_DATABASE_URL: postgres.url, DANA_UPLOAD_DIR: path.join(home, 'uploads') }),
    };
    first = await createContext(testConfig(home, env));
    second = await createContext(testConfig(home, env));
    drop = async () => (postgres ? dropSchema(postgres.schema) : undefined);
    pools = [];
    finished = [];
    said = {};
    await first.services.providers.add({ name: 'fake', base_url: fake.baseUrl, model: 'fake-model' });
  });
  afterEach(async () => {
    for (const pool of pools) await pool.stop();
    await first.close();
    await second.close();
    await drop();
    await fake.close();
  });

  const startPool = (ctx: DanaContext, name: string) => {
    said[name] = [];
    const pool = new RunWorkerPool(ctx, {
      concurrency: 1,
      name,
      idlePollMs: 50,
      log: (_level, message) => said[name].push(message),
      onFinished: (run) => finished.push(run),
    });
    pools.push(pool);
    pool.start();
    return pool;
  };

  /** A paced-model agent with `count` documents, each with a text of its own. */
  async function agentWithReports(count: number) {
    const agent = await first.services.agents.create({ name: 'Reader', description: '', config: { provider: 'fake', model: 'paced' } });
    const texts = Array.from({ length: count }, (_, i) => `Report number ${i} of the survey.`);
    for (const [i, text] of texts.entries()) await uploadBytes(first, text, `report-${i}.txt`, { agent_id: agent.id });
    return { agent, texts };
  }

  /** How many model requests asked about each text. */
  const askedPerText = (texts: string[]) => texts.map((text) => fake.requests.filter((request) => promptOf(request).includes(text)).length);

  /** Which worker took which documents, from the run's log. */
  async function takenBy(runId: number): Promise<Map<string, number[]>> {
    const taken = new Map<string, number[]>();
    for (const event of await first.services.runs.events(runId)) {
      const match = event.type === 'log' && /^Worker (\S+) took documents? ([\d, ]+)$/.exec(event.data.message);
      if (match) taken.set(match[1], [...(taken.get(match[1]) ?? []), ...match[2].split(', ').map(Number)]);
    }
    return taken;
  }

  async function allEvents(runId: number): Promise<RunEvent[]> {
    const events: RunEvent[] = [];
    for await (const event of first.services.runs.watch(runId)) events.push(event);
    return events;
  }

  it('two pools answer one run together: every document once, both answered some, the run succeeds', async () => {
    const { agent, texts } = await agentWithReports(30);
    startPool(first, 'owner');
    const run = await first.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    await waitFor(async () => (await first.services.runs.get(run.id)).status === 'running', 5000, 'the owner to start the run');
    startPool(second, 'helper');
    const events = await allEvents(run.id);
    const ended = await first.services.runs.get(run.id);
    expect(ended).to.include({ status: 'succeeded', done: 30, total: 30, attempts: 1, error: null });
    // Exactly one model call per document, and one result each.
    expect(fake.requests).to.have.length(30);
    expect(askedPerText(texts)).to.deep.equal(texts.map(() => 1));
    const results = await first.services.runs.results(run.id, { limit: '100' });
    expect(results.total).to.equal(30);
    expect(new Set(results.items.map((result) => result.document_id)).size).to.equal(30);
    expect(results.items.every((result) => result.output === fake.reply)).to.equal(true);
    // Both took documents, none twice.
    const taken = await takenBy(run.id);
    expect([...taken.keys()].sort()).to.deep.equal(['helper', 'owner']);
    const all = [...taken.values()].flat();
    expect(all).to.have.length(30);
    expect(new Set(all).size).to.equal(30);
    // The helper says how many it answered (once its last answer is stored, maybe just after the run ended).
    const helped = () => said.helper
      .map((line) => new RegExp(`^run ${run.id}: answered (\\d+) of its documents`).exec(line))
      .reduce((sum, match) => sum + (match ? Number(match[1]) : 0), 0);
    await waitFor(() => helped() === taken.get('helper')!.length, 2000, 'the helper to say what it answered');
    expect(finished.map((entry) => [entry.runId, entry.status])).to.deep.equal([[run.id, 'succeeded']]);
    // Events in commit order, progress counting every answer by whichever worker stored it.
    expect(events.map((event) => event.id)).to.deep.equal([...events.map((event) => event.id)].sort((a, b) => a - b));
    const progress = events.filter((event) => event.type === 'progress').map((event) => (event.data as { done: number }).done);
    expect(progress).to.deep.equal(Array.from({ length: 31 }, (_, i) => i));
    // Nothing is left to claim once the run has ended.
    expect(await first.services.runs.queue.lookForWork()).to.deep.equal({ runs: false });
  });

  it("a helper whose claims lapse (it died): the owner takes its documents once they lapse and finishes the run", async () => {
    const { agent, texts } = await agentWithReports(20);
    startPool(first, 'owner');
    const run = await first.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    await waitFor(async () => (await first.services.runs.get(run.id)).status === 'running', 5000, 'the owner to start the run');
    // A helper claims documents and vanishes before answering: nothing renews its claims.
    const { queue } = second.services.runs;
    const dead = queue.itemClaim('dead-helper', run.id);
    const deadIds = (await waitFor(async () => {
      const ids = await queue.claimItems(dead, 2);
      return ids.length > 0 && ids;
    }, 5000, 'free documents to claim')) as number[];
    const claimedAt = Date.now();
    await waitFor(async () => (await first.services.runs.get(run.id)).status === 'succeeded', 20_000, 'the owner to finish the run');
    // Its documents were answered once, by the owner, only after the claims lapsed.
    expect(askedPerText(texts)).to.deep.equal(texts.map(() => 1));
    const taken = await takenBy(run.id);
    expect([...taken.keys()]).to.deep.equal(['owner']);
    expect(taken.get('owner')!.slice().sort((a, b) => a - b)).to.include.members(deadIds);
    const results = await first.services.runs.results(run.id, { limit: '100' });
    expect(results.total).to.equal(20);
    expect(Date.now() - claimedAt).to.be.at.least(LEASE_MS - 100);
    // The vanished helper's late answer is refused.
    expect(await queue.addItemResult(dead, { document_id: deadIds[0], output: 'late', sources: [], error: null })).to.equal('ended');
  });

  it('a helper that stops gives its documents back; the owner answers them, each document stored once', async () => {
    const { agent, texts } = await agentWithReports(24);
    startPool(first, 'owner');
    const run = await first.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    await waitFor(async () => (await first.services.runs.get(run.id)).status === 'running', 5000, 'the owner to start the run');
    const helper = startPool(second, 'helper');
    await waitFor(async () => (await takenBy(run.id)).has('helper'), 5000, 'the helper to take documents');
    await helper.stop();
    const stoppedAt = Date.now();
    await waitFor(async () => (await first.services.runs.get(run.id)).status === 'succeeded', 20_000, 'the owner to finish the run');
    // Given back, not left to lapse: the owner did not wait a lease for them.
    const results = await first.services.runs.results(run.id, { limit: '100' });
    expect(results.total).to.equal(24);
    expect(new Set(results.items.map((result) => result.document_id)).size).to.equal(24);
    const taken = await takenBy(run.id);
    const helperIds = taken.get('helper')!;
    expect(helperIds.length).to.be.at.least(1);
    // The helper's unanswered documents were taken again by the owner; only answers cut short by the stop were asked twice.
    const asked = askedPerText(texts);
    expect(asked.every((count) => count >= 1)).to.equal(true);
    expect(asked.reduce((sum, count) => sum + count, 0) - 24).to.be.at.most(DOCUMENTS_AT_ONCE);
    expect(Date.now() - stoppedAt).to.be.below(20_000);
  });

  it('cancel while shared: the owner and the helper stop within a second, and nothing more is stored', async () => {
    const { agent } = await agentWithReports(30);
    startPool(first, 'owner');
    const run = await first.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    await waitFor(async () => (await first.services.runs.get(run.id)).status === 'running', 5000, 'the owner to start the run');
    startPool(second, 'helper');
    await waitFor(async () => (await takenBy(run.id)).has('helper') && (await first.services.runs.get(run.id)).done >= 2, 10_000, 'both to be at work');
    await second.services.runs.cancel(run.id);
    const cancelledAt = Date.now();
    await waitFor(() => finished.some((entry) => entry.runId === run.id), 1000, 'the owner to notice the cancel');
    await waitFor(() => said.helper.some((line) => line === `run ${run.id} cancelled: stopped helping`), 1000, `the helper to notice the cancel (it said: ${said.helper.join('; ')})`);
    expect(Date.now() - cancelledAt).to.be.below(1000);
    expect(finished.find((entry) => entry.runId === run.id)!.status).to.equal('cancelled');
    const ended = await first.services.runs.get(run.id);
    expect(ended.status).to.equal('cancelled');
    expect(ended.done).to.be.below(30);
    expect((await first.services.runs.results(run.id, { limit: '100' })).total).to.equal(ended.done);
    const events = await first.services.runs.events(run.id);
    expect(events.at(-1)!.data).to.deep.equal({ status: 'cancelled' });
    // Its items went with the cancel: idle workers find nothing to help with.
    expect(await first.services.runs.queue.lookForWork()).to.deep.equal({ runs: false });
    // Besides the answers stored, only those in flight at both workers were asked.
    expect(fake.requests.length - ended.done).to.be.within(1, 2 * DOCUMENTS_AT_ONCE);
  });
});
