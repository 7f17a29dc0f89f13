import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { uploadBytes } from '../helpers/uploads.js';
import { startFakeOpenAi, promptOf, type FakeOpenAi } from '../helpers/fake-openai.js';
import { waitFor } from '../helpers/chat.js';
import { RunWorkerPool, type FinishedRun } from '../../src/core/runs/worker.js';
import { MAX_ATTEMPTS } from '../../src/core/runs/queue.js';
import { DOCUMENTS_AT_ONCE } from '../../src/core/runs/executor.js';
import type { RunEvent } from '../../src/core/schemas.js';

describe('run execution', () => {
  let ctx: TestContext;
  let fake: FakeOpenAi;
  let pools: RunWorkerPool[];
  let finished: FinishedRun[];

  const startPool = (concurrency = 1) => {
    const pool = new RunWorkerPool(ctx, { concurrency, onFinished: (run) => finished.push(run) });
    pools.push(pool);
    pool.start();
    return pool;
  };
  const collect = async (runId: number) => {
    const events: RunEvent[] = [];
    for await (const event of ctx.services.runs.watch(runId)) events.push(event);
    return events;
  };

  beforeEach(async () => {
    fake = await startFakeOpenAi('A short answer.', 60);
    ctx = await openTestContext({ DANA_RUN_LEASE_MS: '600' });
    pools = [];
    finished = [];
    await ctx.services.providers.add({ name: 'fake', base_url: fake.baseUrl, model: 'fake-model' });
  });
  afterEach(async () => {
    for (const pool of pools) await pool.stop();
    await ctx.close();
    await fake.close();
  });

  async function localAgentWithDocuments(texts: Record<string, string>) {
    const agent = await ctx.services.agents.create({ name: 'Local', description: '', config: { provider: 'local' } });
    const documents = [];
    for (const [name, text] of Object.entries(texts)) documents.push(await uploadBytes(ctx, text, name, { agent_id: agent.id }));
    return { agent, documents };
  }

  it('answers a run once from the documents in scope, with logs of the passages found', async () => {
    const { agent, documents } = await localAgentWithDocuments({
      'volcanoes.txt': 'Volcanoes erupt when magma rises through the crust.',
      'oceans.txt': 'Oceans cover most of the planet and hold volcanoes too.',
      'cakes.txt': 'Cakes need flour, eggs and sugar.',
    });
    startPool();
    const run = await ctx.services.runs.create(agent.id, { input: 'What do volcanoes do?', document_ids: [documents[0].id, documents[2].id] });
    const events = await collect(run.id);
    const ended = await ctx.services.runs.get(run.id);
    expect(ended).to.include({ status: 'succeeded', total: 1, done: 1, attempts: 1, error: null });
    expect(ended.output).to.include('magma');
    expect(ended.sources!.map((source) => source.document_id)).to.deep.equal([documents[0].id]);
    expect(ended.started_at).to.be.a('string');
    expect(ended.finished_at).to.be.a('string');
    const results = await ctx.services.runs.results(run.id);
    expect(results).to.deep.equal({ total: 1, items: [{ document_id: null, output: ended.output, sources: ended.sources, error: null }] });
    expect(events.filter((event) => event.type === 'status').map((event) => event.data)).to.deep.equal([
      { status: 'queued' }, { status: 'running' }, { status: 'succeeded' },
    ]);
    const logs = events.filter((event) => event.type === 'log').map((event) => (event.data as { message: string }).message);
    expect(logs.join('\n')).to.match(/Found 1 passage in volcanoes\.txt \(document \d+\)/);
    // Ids grow, and follow each other as stored: a follower resuming after any id misses nothing.
    expect(events.map((event) => event.id)).to.deep.equal([...events.map((event) => event.id)].sort((a, b) => a - b));
    expect(finished).to.deep.include({ runId: run.id, runner: 'local', status: 'succeeded', seconds: finished[0].seconds });
  });

  it('answers each document from that document alone; one failing fails alone; results are paged', async () => {
    const agent = await ctx.services.agents.create({ name: 'Model', description: '', config: { provider: 'fake' } });
    const texts = ['Alpha report.', 'Bravo report. BROKEN', 'Charlie report.', 'Delta report.', 'Echo report.'];
    const documents = [];
    for (const [i, text] of texts.entries()) documents.push(await uploadBytes(ctx, text, `doc-${i}.txt`, { agent_id: agent.id }));
    fake.failWhen = (request) => promptOf(request).includes('BROKEN');
    startPool();
    const run = await ctx.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    const events = await collect(run.id);
    const ended = await ctx.services.runs.get(run.id);
    expect(ended).to.include({ status: 'succeeded', total: 5, done: 5, output: null, error: null });
    // Each request held one document's text (found by the fallback to its first passages), each document once.
    expect(fake.requests).to.have.length(5);
    const asked = fake.requests.map((request) => texts.filter((text) => promptOf(request).includes(text.replace(' BROKEN', ''))));
    expect(asked.map((found) => found.length)).to.deep.equal([1, 1, 1, 1, 1]);
    expect(asked.flat()).to.have.members(texts);
    const all = await ctx.services.runs.results(run.id, { limit: '100' });
    expect(all.items.map((result) => result.document_id)).to.deep.equal(documents.map((document) => document.id));
    expect(all.items[1]).to.include({ output: null });
    expect(all.items[1].error).to.match(/fake failure|HTTP 500/);
    for (const i of [0, 2, 3, 4]) expect(all.items[i]).to.include({ output: 'A short answer.', error: null });
    expect(all.items[0].sources[0].document_id).to.equal(documents[0].id);
    const page = await ctx.services.runs.results(run.id, { skip: '2', limit: '2' });
    expect(page.total).to.equal(5);
    expect(page.items).to.deep.equal(all.items.slice(2, 4));
    const progress = events.filter((event) => event.type === 'progress').map((event) => event.data);
    expect(progress[0]).to.deep.equal({ done: 0, total: 5 });
    expect(progress.at(-1)).to.deep.equal({ done: 5, total: 5 });
    const logs = events.filter((event) => event.type === 'log').map((event) => (event.data as { message: string }).message).join('\n');
    expect(logs).to.match(/Model "fake-model" at http:\/\/127\.0\.0\.1:\d+\/v1 answered in \d+ ms, \d+ prompt \+ 3 completion tokens/);
    expect(logs).to.match(/doc-1\.txt \(document \d+\): Agent runner failed/);
    // What the agent did for a document is told before its answer.
    for (const [i, document] of documents.entries()) {
      const result = events.find((event) => event.type === 'result' && event.data.document_id === document.id)!;
      const told = events.find((event) => event.type === 'log' && event.data.message.includes(`passage of doc-${i}.txt`))!;
      expect(told.id, `doc-${i}.txt`).to.be.below(result.id);
    }
  });

  it("a run narrowed to a topic answers from the agent's documents in that topic only", async () => {
    const rocks = await ctx.services.topics.create({ name: 'Rocks', description: '' });
    const ice = await ctx.services.topics.create({ name: 'Ice', description: '' });
    const agent = await ctx.services.agents.create({ name: 'Geo', description: '', config: { provider: 'local', topic_ids: [rocks.id, ice.id] } });
    await uploadBytes(ctx, 'Basalt forms when lava cools quickly.', 'basalt.txt', { topic_id: rocks.id });
    const glacier = await uploadBytes(ctx, 'Glacier ice forms when snow is pressed and cools.', 'glacier.txt', { topic_id: ice.id });
    startPool();
    const run = await ctx.services.runs.create(agent.id, { input: 'What forms when it cools?', topic_id: ice.id });
    await collect(run.id);
    const ended = await ctx.services.runs.get(run.id);
    expect(ended).to.include({ status: 'succeeded', topic_id: ice.id });
    expect(ended.sources!.map((source) => source.document_id)).to.deep.equal([glacier.id]);
    const each = await ctx.services.runs.create(agent.id, { input: 'Summarise', topic_id: rocks.id, each_document: true });
    await collect(each.id);
    expect((await ctx.services.runs.get(each.id)).total).to.equal(1);
    expect((await ctx.services.runs.results(each.id)).items[0].output).to.include('Basalt');
  });

  it('a run answered once fails when its answer fails', async () => {
    const agent = await ctx.services.agents.create({ name: 'Broken', description: '', config: { provider: 'fake', model: 'fail-500' } });
    startPool();
    const run = await ctx.services.runs.create(agent.id, { input: 'Anything?' });
    const events = await collect(run.id);
    const ended = await ctx.services.runs.get(run.id);
    expect(ended.status).to.equal('failed');
    expect(ended.error).to.match(/^Agent runner failed: .*HTTP 500/);
    expect(events.at(-1)!.data).to.deep.equal({ status: 'failed', error: ended.error });
    expect((await ctx.services.runs.results(run.id)).items[0]).to.include({ document_id: null, output: null, error: ended.error });
  });

  it('cancel mid-run: status cancelled within a second, the answer in flight cut short, no further results', async () => {
    const agent = await ctx.services.agents.create({ name: 'Slow', description: '', config: { provider: 'fake', model: 'paced' } });
    fake.reply = 'one two three four five six seven eight nine ten eleven twelve';
    for (let i = 0; i < 12; i++) await uploadBytes(ctx, `Report number ${i}.`, `r-${i}.txt`, { agent_id: agent.id });
    startPool();
    const run = await ctx.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    await waitFor(async () => (await ctx.services.runs.get(run.id)).done >= 1 && fake.requests.length >= 2, 10_000, 'the first result');
    const cancelled = await ctx.services.runs.cancel(run.id);
    const cancelledAt = Date.now();
    expect(cancelled.status).to.equal('cancelled');
    // The worker notices and stops the model's reply mid-stream.
    await waitFor(() => finished.some((entry) => entry.runId === run.id), 1000, 'the worker to notice the cancel');
    expect(Date.now() - cancelledAt).to.be.below(1000);
    expect(finished.find((entry) => entry.runId === run.id)!.status).to.equal('cancelled');
    await waitFor(() => fake.paced.cutShort >= 1, 1000, 'the reply in flight to be cut short');
    const ended = await ctx.services.runs.get(run.id);
    expect(ended.status).to.equal('cancelled');
    expect((await ctx.services.runs.results(run.id)).total).to.equal(ended.done);
    expect(ended.done).to.be.below(12);
    const events = await ctx.services.runs.events(run.id);
    expect(events.at(-1)!.data).to.deep.equal({ status: 'cancelled' });
    // Besides the answers stored, only those in flight when the cancel came were asked (a few documents go at once).
    expect(fake.requests.length - ended.done).to.be.within(1, DOCUMENTS_AT_ONCE);
  });

  it('a run whose worker vanished is taken up again after its lease, and fails after 3 attempts', async () => {
    const { agent } = await localAgentWithDocuments({ 'a.txt': 'Apples are red.' });
    const run = await ctx.services.runs.create(agent.id, { input: 'Apples?' });
    const { queue } = ctx.services.runs;
    // Workers that claim the run and die: nothing renews their leases.
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const claimed = (await waitFor(() => queue.claim(`dead-${attempt}`), 5000, `claim ${attempt}`))!;
      expect(claimed.run.attempts).to.equal(attempt);
      expect(await queue.claim('other')).to.equal(undefined);
    }
    // After the last lease lapses, no one may claim it; it fails, saying why.
    await waitFor(async () => (await queue.failExhausted()) === 1, 5000, 'the last lease to lapse');
    expect(await queue.claim('late')).to.equal(undefined);
    const ended = await ctx.services.runs.get(run.id);
    expect(ended).to.include({ status: 'failed', attempts: 3 });
    expect(ended.error).to.match(/after 3 attempts/);
    // A lapsed worker's writes are refused.
    expect((await ctx.services.runs.events(run.id)).at(-1)!.data).to.deep.equal({ status: 'failed', error: ended.error });
  });

  it('a lapsed lease is taken over by another worker, which finishes the run; the first one can no longer write', async () => {
    const { agent } = await localAgentWithDocuments({ 'a.txt': 'Apples are red.', 'b.txt': 'Bananas are yellow.' });
    const run = await ctx.services.runs.create(agent.id, { input: 'Colours?', each_document: true });
    const { queue } = ctx.services.runs;
    const first = (await queue.claim('dying'))!;
    expect(await queue.addResult(first.lease, { document_id: 1, output: 'from the first worker', sources: [], error: null })).to.equal(true);
    startPool();
    await waitFor(async () => (await ctx.services.runs.get(run.id)).status === 'succeeded', 5000, 'the second worker to finish');
    expect(await queue.addResult(first.lease, { document_id: 2, output: 'late', sources: [], error: null })).to.equal(false);
    const ended = await ctx.services.runs.get(run.id);
    expect(ended).to.include({ attempts: 2, done: 2, total: 2 });
    const results = (await ctx.services.runs.results(run.id)).items;
    expect(results.map((result) => result.output)).to.deep.equal(['from the first worker', results[1].output]);
    expect(results[1].output).to.include('Bananas');
  });

  it('stopping a pool gives its runs back to the queue without counting the attempt; work() runs one here', async () => {
    const agent = await ctx.services.agents.create({ name: 'Slow', description: '', config: { provider: 'fake', model: 'paced' } });
    await uploadBytes(ctx, 'Some text.', 's.txt', { agent_id: agent.id });
    const pool = startPool();
    const run = await ctx.services.runs.create(agent.id, { input: 'Summarise' });
    await waitFor(() => fake.requests.length === 1, 5000, 'the model call');
    await pool.stop();
    const released = await ctx.services.runs.get(run.id);
    expect(released).to.include({ status: 'queued', attempts: 0 });
    fake.reply = 'Done.';
    const worker = new RunWorkerPool(ctx, { concurrency: 0 });
    pools.push(worker);
    const ended = await worker.work(run.id);
    expect(ended).to.include({ status: 'succeeded', attempts: 1, output: 'Done.' });
    expect(await worker.work(run.id)).to.equal(undefined);
  });
});
