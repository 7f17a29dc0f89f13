// Runs executed by other processes: `dana worker` and the workers of `dana serve`, sharing
// the queue through the database. A worker that dies leaves its run to another once its
// lease lapses; on PostgreSQL, servers and workers claiming at once each execute a run once.
import path from 'node:path';
import { expect } from 'chai';
import { createContext, type DanaContext } from '../../src/core/context.js';
import { dropSchema, freshPostgresUrl, isPostgres } from '../helpers/backend.js';
import { testConfig } from '../helpers/context.js';
import { startFakeOpenAi, promptOf, type FakeOpenAi } from '../helpers/fake-openai.js';
import { startServe, startWorker, type DanaProcess } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';
import { waitFor } from '../helpers/chat.js';

/** A data folder, and on PostgreSQL a schema of its own, that child processes share with `ctx`. */
async function sharedData(): Promise<{ home: string; env: Record<string, string>; ctx: DanaContext; drop(): Promise<void> }> {
  const home = tempDir();
  const postgres = isPostgres ? await freshPostgresUrl() : undefined;
  const env: Record<string, string> = postgres ? { DANA_DATABASE_URL: postgres.url, DANA_UPLOAD_DIR: path.join(home, 'uploads') } : {};
  const ctx = await createContext(testConfig(home, env));
  return { home, env, ctx, drop: async () => (postgres ? dropSchema(postgres.schema) : undefined) };
}

describe('runs executed by worker processes', function () {
  this.timeout(120_000);
  let fake: FakeOpenAi;
  let shared: Awaited<ReturnType<typeof sharedData>>;
  let processes: DanaProcess[];

  beforeEach(async () => {
    fake = await startFakeOpenAi('one two three four five six seven eight', 50);
    shared = await sharedData();
    processes = [];
    await shared.ctx.services.providers.add({ name: 'fake', base_url: fake.baseUrl, model: 'fake-model' });
  });
  afterEach(async () => {
    await Promise.all(processes.map((child) => child.stop('SIGKILL')));
    await shared.ctx.close();
    await shared.drop();
    await fake.close();
  });

  it('a worker killed with SIGKILL mid-run: another finishes the run once the lease lapses, skipping the answers already stored', async () => {
    const { ctx, home, env } = shared;
    const agent = await ctx.services.agents.create({ name: 'Slow', description: '', config: { provider: 'fake', model: 'paced' } });
    for (let i = 0; i < 8; i++) await uploadBytes(ctx, `Report ${i}.`, `report-${i}.txt`, { agent_id: agent.id });
    const workerEnv = { ...env, DANA_RUN_LEASE_MS: '1500' };
    const first = await startWorker(home, { args: ['--concurrency', '1'], env: workerEnv });
    processes.push(first);
    expect(first.stdout()).to.match(/^Working on runs of .+ \(data folder .+\), 1 at once\. Press Ctrl-C to stop\.\n$/);
    const run = await ctx.services.runs.create(agent.id, { input: 'Summarise', each_document: true });
    await waitFor(async () => (await ctx.services.runs.get(run.id)).done >= 1 && fake.requests.length >= 2, 20_000, 'the first answer');
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const askedBefore = fake.requests.length;
    const answeredBefore = (await ctx.services.runs.get(run.id)).done;
    expect((await ctx.services.runs.get(run.id)).status).to.equal('running');

    const second = await startWorker(home, { args: ['--concurrency', '1'], env: workerEnv });
    processes.push(second);
    const ended = await waitFor(async () => {
      const current = await ctx.services.runs.get(run.id);
      return current.status === 'succeeded' && current;
    }, 30_000, 'the second worker to finish the run');
    expect(ended).to.include({ attempts: 2, done: 8, total: 8, error: null });
    const events = await ctx.services.runs.events(run.id);
    const restarted = events.find((event) => event.type === 'log' && /attempt 2 of 3/.test((event.data as { message: string }).message));
    expect(restarted, 'a log saying the run was taken up again').to.not.equal(undefined);
    // Not before the lease lapsed.
    expect(Date.parse((restarted!.data as { at: string }).at)).to.be.at.least(killedAt - 1500 + 100);
    const results = await ctx.services.runs.results(run.id);
    expect(results.total).to.equal(8);
    expect(new Set(results.items.map((result) => result.document_id)).size).to.equal(8);
    expect(results.items.every((result) => result.output === fake.reply && result.error === null)).to.equal(true);
    // Documents answered before the kill were not asked again; those in flight were.
    expect(answeredBefore).to.be.within(1, 7);
    expect(fake.requests.length - askedBefore).to.equal(8 - answeredBefore);

    // SIGTERM: the worker stops gracefully and exits 0.
    const exit = await second.stop('SIGTERM');
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(second.stderr()).to.include('SIGTERM received');
  });

  it('dana serve executes runs with its workers after it listens, and none with --workers 0', async () => {
    const { ctx, home, env } = shared;
    const agent = await ctx.services.agents.create({ name: 'Local', description: '', config: { provider: 'local' } });
    await uploadBytes(ctx, 'Apples are red.', 'apples.txt', { agent_id: agent.id });
    const idle = await startServe(home, { env, args: ['--workers', '0'] });
    processes.push(idle);
    expect(idle.stdout()).to.include('Runs      none in this server (--workers 0)');
    const run = await ctx.services.runs.create(agent.id, { input: 'apples' });
    const busy = await startServe(home, { env, args: ['--workers', '1'] });
    processes.push(busy);
    expect(busy.stdout()).to.include('Runs      1 at once in this server (--workers)');
    const ended = await waitFor(async () => {
      const current = await ctx.services.runs.get(run.id);
      return current.status === 'succeeded' && current;
    }, 20_000, 'the server to execute the run');
    expect(ended && ended.output).to.include('Apples are red.');
    expect(busy.stderr()).to.match(/run \d+ succeeded in/);
    expect(idle.stderr()).not.to.match(/run \d+ started/);
    for (const server of [idle, busy]) expect(await server.stop('SIGTERM')).to.deep.equal({ code: 0, signal: null });
  });

  // Several processes on one database need a database they share: PostgreSQL.
  if (isPostgres) it('two servers and a worker on one PostgreSQL database: 50 runs queued at once each execute exactly once', async () => {
    const { ctx, home, env } = shared;
    const agent = await ctx.services.agents.create({ name: 'Many', description: '', config: { provider: 'fake', model: 'paced' } });
    fake.reply = 'ok then';
    const started = await Promise.all([
      startServe(tempDir(), { env: { ...env } }),
      startServe(tempDir(), { env: { ...env } }),
      startWorker(home, { env: { ...env } }),
    ]);
    processes.push(...started);
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => ctx.services.runs.create(agent.id, { input: `Question number ${i}` })));
    await waitFor(async () => (await ctx.services.runs.list({ status: 'succeeded', limit: '1' })).total === 50, 60_000, 'all 50 runs to succeed');
    const all = (await ctx.services.runs.list({ limit: '100' })).items;
    expect(all.map((run) => [run.status, run.attempts])).to.deep.equal(runs.map(() => ['succeeded', 1]));
    // One model call per run: each question reached the model once.
    const asked = fake.requests.map((request) => /Question number (\d+)/.exec(promptOf(request))?.[1]);
    expect(asked).to.have.length(50);
    expect(new Set(asked).size).to.equal(50);
    // The work was shared: more than one process executed runs.
    const owners = new Set<string>();
    for (const run of runs) {
      for (const event of await ctx.services.runs.events(run.id)) {
        const owner = event.type === 'log' ? /^Started by worker (\S+)/.exec(event.data.message)?.[1] : undefined;
        if (owner) owners.add(owner);
      }
    }
    expect(owners.size).to.be.greaterThan(1);
    for (const child of started) expect(await child.stop('SIGTERM')).to.deep.equal({ code: 0, signal: null });
  });
});
