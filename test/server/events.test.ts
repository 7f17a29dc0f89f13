// GET /api/events: changes from the outbox as Server-Sent Events, whichever process made
// them, resumable with Last-Event-ID, pruned after a day.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { createAgent, createConversation, createMessage, expectError, validationIssues } from '../helpers/api.js';
import { openEventStream, expectConsecutiveIds, type EventStream, type StreamEvent } from '../helpers/event-stream.js';
import { openTestContext } from '../helpers/context.js';
import { danaIn } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { isPostgres } from '../helpers/backend.js';
import { tempDir } from '../helpers/temp.js';
import { addChangeTriggers, dropChangeTriggers } from '../../src/core/db/migrations.js';
import { routeTable } from '../../src/server/routes/route.js';
import { eventRoutes } from '../../src/server/routes/events.js';

const changeOf = (resource: string, id: number, action: string) => (event: StreamEvent) =>
  event.event === 'change' && event.data.resource === resource && event.data.id === id && event.data.action === action;

describe('GET /api/events', function () {
  let server: TestServer;
  const streams: EventStream[] = [];
  const open = async (path = '/api/events', headers: Record<string, string> = {}) => {
    const stream = await openEventStream(`${server.url}${path}`, headers);
    streams.push(stream);
    return stream;
  };

  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await server.close();
  });

  it('opens at once and streams creates, updates and deletes made through the API', async () => {
    const stream = await open();
    expect(stream.response.status).to.equal(200);
    expect(stream.response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    expect(stream.response.headers.get('cache-control')).to.equal('no-cache');

    const agent = await createAgent(server, { name: 'Watcher' });
    const created = await stream.waitFor(changeOf('agents', agent.id, 'created'));
    expect(created.data).to.deep.equal({ resource: 'agents', id: agent.id, action: 'created' });
    expect(Number(created.id)).to.be.greaterThan(0);

    expect((await server.api(`/api/agents/${agent.id}`, json('PUT', { name: 'Watcher 2' }))).status).to.equal(200);
    await stream.waitFor(changeOf('agents', agent.id, 'updated'));
    expect((await server.api(`/api/agents/${agent.id}`, { method: 'DELETE' })).status).to.equal(200);
    await stream.waitFor(changeOf('agents', agent.id, 'deleted'));
    expectConsecutiveIds(stream.events);
  });

  it('starts from now without Last-Event-ID', async () => {
    const before = await createAgent(server, { name: 'Before' });
    const stream = await open();
    const after = await createAgent(server, { name: 'After' });
    await stream.waitFor(changeOf('agents', after.id, 'created'));
    expect(stream.events.some(changeOf('agents', before.id, 'created'))).to.equal(false);
  });

  it('streams conversations and their messages, and the messages a cascade deletes', async () => {
    const stream = await open();
    const conversation = await createConversation(server, { title: 'Plans' });
    const first = await createMessage(server, conversation.id, { content: 'one' });
    const second = await createMessage(server, conversation.id, { content: 'two' });
    await stream.waitFor(changeOf('messages', second.id, 'created'));
    // (Each message also touches its conversation: `updated` events between these.)
    expect(stream.events.filter((event) => event.data.action === 'created').map((event) => event.data)).to.deep.equal([
      { resource: 'conversations', id: conversation.id, action: 'created' },
      { resource: 'messages', id: first.id, action: 'created' },
      { resource: 'messages', id: second.id, action: 'created' },
    ]);
    expectConsecutiveIds(stream.events);

    expect((await server.api(`/api/conversations/${conversation.id}`, { method: 'DELETE' })).status).to.equal(200);
    await stream.waitFor(changeOf('conversations', conversation.id, 'deleted'));
    await stream.waitFor(changeOf('messages', first.id, 'deleted'));
    await stream.waitFor(changeOf('messages', second.id, 'deleted'));
  });

  it('replays every event after Last-Event-ID (header or query), then follows', async () => {
    const stream = await open();
    const agents = [];
    for (const name of ['a', 'b', 'c']) agents.push(await createAgent(server, { name }));
    const seen = await stream.waitForCount(3);
    stream.close();
    // Changes while the client is away.
    for (const name of ['d', 'e']) agents.push(await createAgent(server, { name }));

    const resumed = await open('/api/events', { 'Last-Event-ID': seen[1].id! });
    const replayed = await resumed.waitForCount(3);
    expect(replayed.map((event) => event.data.id)).to.deep.equal(agents.slice(2).map((agent) => agent.id));
    expectConsecutiveIds(replayed, Number(seen[1].id) + 1);
    const next = await createAgent(server, { name: 'f' });
    await resumed.waitFor(changeOf('agents', next.id, 'created'));
    expectConsecutiveIds(resumed.events, Number(seen[1].id) + 1);

    const byQuery = await open(`/api/events?last_event_id=${seen[0].id}`);
    const all = await byQuery.waitForCount(5);
    expect(all.map((event) => event.data.id)).to.deep.equal([...agents.slice(1), next].map((agent) => agent.id));
    expectConsecutiveIds(all, Number(seen[0].id) + 1);
  });

  it('follows from now after an id this database never gave out (one restored from a backup)', async () => {
    await createAgent(server, { name: 'before' });
    const stream = await open('/api/events', { 'Last-Event-ID': '999999' });
    const agent = await createAgent(server, { name: 'after' });
    const [event] = await stream.waitForCount(1);
    expect(event.data).to.deep.equal({ resource: 'agents', id: agent.id, action: 'created' });
  });

  it('refuses a Last-Event-ID that is not an id', async () => {
    const res = await server.api('/api/events', { headers: { 'Last-Event-ID': 'abc' } });
    expect(res.status).to.equal(422);
    expect((await validationIssues(res)).map((issue) => issue.loc)).to.deep.equal([['query', 'last_event_id']]);
    expect((await server.api('/api/events?last_event_id=-1')).status).to.equal(422);
    // Event ids are ids: 1..2,147,483,647 like every other (a larger one would follow a stream forever, unanswered).
    expect((await server.api('/api/events?last_event_id=2147483648')).status).to.equal(422);
  });

  it('sees a change made by the CLI on the same database within a second', async function () {
    this.timeout(30_000);
    const stream = await open();
    const database = server.context.config.database as { connectionString?: string };
    const dana = danaIn(server.context.home, isPostgres ? { DANA_DATABASE_URL: database.connectionString } : {});
    const result = await dana(['agents', 'create', '--name', 'From the shell', '--json']);
    expect(result.code, result.stderr).to.equal(0);
    const committedAt = Date.now();
    const event = await stream.waitFor(changeOf('agents', result.json.id, 'created'), 1_000);
    expect(Date.now() - committedAt).to.be.lessThan(1_000);
    expect(event.event).to.equal('change');
  });

  it('streams run rows as `run` events with their status and progress', async () => {
    const stream = await open();
    // The runs table's triggers write rows like these (addChangeTriggers with data).
    const now = new Date().toISOString();
    await server.context.knex('events').insert([
      { resource: 'runs', resource_id: 7, action: 'created', data: JSON.stringify({ status: 'queued', done: 0, total: 3 }), created_at: now },
      { resource: 'runs', resource_id: 7, action: 'updated', data: JSON.stringify({ status: 'running', done: 1, total: 3 }), created_at: now },
      { resource: 'runs', resource_id: 7, action: 'deleted', data: JSON.stringify({ status: 'succeeded', done: 3, total: 3 }), created_at: now },
    ]);
    const events = await stream.waitForCount(3);
    expect(events.map(({ event, data }) => ({ event, data }))).to.deep.equal([
      { event: 'run', data: { id: 7, status: 'queued', done: 0, total: 3 } },
      { event: 'run', data: { id: 7, status: 'running', done: 1, total: 3 } },
      { event: 'change', data: { resource: 'runs', id: 7, action: 'deleted' } },
    ]);
  });

  it('prunes events older than a day, and keeps the rest', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) await createAgent(server, { name });
    const { knex } = server.context;
    const ids: number[] = (await knex('events').orderBy('id').pluck('id')).map(Number);
    expect(ids).to.have.length(7);
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000).toISOString();
    await knex('events').where('id', '<=', ids[3]).update({ created_at: twoDaysAgo });
    expect(await server.context.services.events.prune()).to.equal(4);
    expect((await knex('events').orderBy('id').pluck('id')).map(Number)).to.deep.equal(ids.slice(4));
    expect(await server.context.services.events.prune()).to.equal(0);
    // A client resuming from before the pruned events gets what is left (on PostgreSQL after
    // the hold at a gap: the missing ids might have been a transaction still to commit).
    const stream = await open(`/api/events?last_event_id=${ids[0]}`);
    const left = await stream.waitForCount(3, 5_000);
    expect(left.map((event) => Number(event.id))).to.deep.equal(ids.slice(4));
  });

  it('stops polling once the last client has gone', async () => {
    const stream = await open();
    await createAgent(server, { name: 'x' });
    await stream.waitForCount(1);
    expect(server.context.services.events.followerCount).to.equal(1);
    stream.close();
    await waitUntil(() => server.context.services.events.followerCount === 0);
  });

  it('follows the same access rules as the API', async () => {
    const guarded = await startTestServer({}, { access: { requireToken: true } });
    try {
      await expectError(await guarded.api('/api/events'), 401, 'Not authenticated');
      const { token } = await guarded.context.services.tokens.create({ name: 'dashboard', readOnly: true });
      const stream = await openEventStream(`${guarded.url}/api/events`, { authorization: `Bearer ${token}` });
      streams.push(stream);
      expect(stream.response.status).to.equal(200);
    } finally {
      for (const stream of streams.splice(0)) stream.close();
      await guarded.close();
    }
  });

  if (isPostgres) {
    it('holds delivery at a gap in ids until the transaction that took it commits', async () => {
      const stream = await open();
      const { knex } = server.context;
      const now = new Date().toISOString();
      const trx = await knex.transaction();
      const [{ id: slow }] = await trx('agents').insert({ name: 'slow', description: '', config: '{}', created_at: now, updated_at: now }).returning('id');
      const fast = await createAgent(server, { name: 'fast' });
      // The later id has committed, the earlier one not yet: for half a second (several polls)
      // nothing goes out past the gap.
      await delay(500);
      expect(stream.events).to.deep.equal([]);
      await trx.commit();
      const [first, second] = await stream.waitForCount(2);
      expect([first.data.id, second.data.id]).to.deep.equal([slow, fast.id]);
      expectConsecutiveIds([first, second]);
    });

    it('gives up a gap left by a rolled-back transaction after the hold', async () => {
      const stream = await open();
      const { knex } = server.context;
      const now = new Date().toISOString();
      const trx = await knex.transaction();
      await trx('agents').insert({ name: 'rolled back', description: '', config: '{}', created_at: now, updated_at: now });
      const kept = await createAgent(server, { name: 'kept' });
      await trx.rollback();
      const started = Date.now();
      const event = await stream.waitFor(changeOf('agents', kept.id, 'created'), 5_000);
      expect(Date.now() - started).to.be.within(1_000, 4_000);
      expect(stream.events).to.deep.equal([event]);
    });
  }
});

describe('GET /api/events keep-alives', () => {
  it('sends a comment line while nothing happens', async () => {
    const context = await openTestContext();
    const app = new Koa();
    app.use(routeTable(eventRoutes(context.services, { keepAliveMs: 50 })));
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stream = await openEventStream(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`);
    try {
      await waitUntil(() => stream.comments.length >= 2, 2_000);
      expect(stream.comments[0]).to.equal('keep-alive');
      expect(stream.events).to.deep.equal([]);
    } finally {
      stream.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await context.close();
    }
  });
});

describe('addChangeTriggers', () => {
  it('writes an event per change, with data columns, and skips updates that leave them alone', async () => {
    const server = await startTestServer();
    try {
      const { knex } = server.context;
      await knex.schema.createTable('scratch_jobs', (table) => {
        table.increments('id').primary();
        table.string('status', 16).notNullable();
        table.integer('done').notNullable().defaultTo(0);
        table.integer('total').notNullable().defaultTo(0);
        table.timestamp('lease_expires_at', { useTz: true }).nullable();
      });
      await addChangeTriggers(knex, 'scratch_jobs', { data: ['status', 'done', 'total'] });
      const [{ id }] = await knex('scratch_jobs').insert({ status: 'queued', total: 2 }).returning('id');
      await knex('scratch_jobs').where({ id }).update({ lease_expires_at: new Date().toISOString() });
      await knex('scratch_jobs').where({ id }).update({ status: 'running' });
      await knex('scratch_jobs').where({ id }).update({ done: 1 });
      await knex('scratch_jobs').where({ id }).update({ done: 1 });
      await knex('scratch_jobs').where({ id }).delete();
      const rows = await knex('events').where('resource', 'scratch_jobs').orderBy('id');
      expect(rows.map((row) => [row.resource_id, row.action, JSON.parse(row.data)])).to.deep.equal([
        [id, 'created', { status: 'queued', done: 0, total: 2 }],
        [id, 'updated', { status: 'running', done: 0, total: 2 }],
        [id, 'updated', { status: 'running', done: 1, total: 2 }],
        [id, 'deleted', { status: 'running', done: 1, total: 2 }],
      ]);
      await dropChangeTriggers(knex, 'scratch_jobs');
      await knex('scratch_jobs').insert({ status: 'queued' });
      expect(await knex('events').where('resource', 'scratch_jobs').count({ n: '*' }).first()).to.deep.include({ n: isPostgres ? '4' : 4 });
    } finally {
      await server.close();
    }
  });
});

describe('dana serve with an open event stream', () => {
  it('stops at once on SIGTERM, ending the stream', async function () {
    this.timeout(30_000);
    const home = tempDir();
    const serve = await startServe(home);
    try {
      const stream = await openEventStream(`${serve.url}/api/events`);
      expect(stream.response.status).to.equal(200);
      const started = Date.now();
      const exit = await serve.stop('SIGTERM');
      expect(exit.code).to.equal(0);
      expect(Date.now() - started).to.be.lessThan(3_000);
      await stream.ended;
    } finally {
      await serve.stop('SIGKILL');
    }
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(10);
  }
}
