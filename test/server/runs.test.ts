// The runs routes over HTTP: starting a run (202 + Location), reading, listing, paging its
// results, cancelling, deleting, and its events as Server-Sent Events replayed after
// Last-Event-ID without a gap. Runs progress on a RunWorkerPool over the server's context.
import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf, createAgent, createTopic, expectError, expectLocs, ISO_UTC, uploadDocument, validationIssues } from '../helpers/api.js';
import { addProvider, SseParser, waitFor, type SseEvent } from '../helpers/chat.js';
import { startFakeOpenAi } from '../helpers/fake-openai.js';
import { RunWorkerPool } from '../../src/core/runs/worker.js';

const RUN_KEYS = [
  'id', 'agent_id', 'status', 'input', 'topic_id', 'document_ids', 'each_document', 'total', 'done',
  'output', 'sources', 'error', 'attempts', 'created_at', 'started_at', 'finished_at', 'updated_at',
];

/** An open event stream: the events so far, and a way to wait for more. */
interface EventStream {
  response: Response;
  events: SseEvent[];
  /** Raw `id:` lines as sent, in order. */
  ids: number[];
  comments: number;
  ended: Promise<void>;
  waitForEvents(count: number): Promise<SseEvent[]>;
  close(): void;
}

async function openEvents(server: TestServer, runId: number, headers: Record<string, string> = {}, query = ''): Promise<EventStream> {
  const controller = new AbortController();
  const response = await server.api(`/api/runs/${runId}/events${query}`, { headers, signal: controller.signal });
  const parser = new SseParser();
  const stream: EventStream = {
    response,
    events: parser.events,
    ids: [],
    comments: 0,
    ended: Promise.resolve(),
    waitForEvents: (count) => waitFor(() => (parser.events.length >= count ? parser.events : undefined), 15_000, `${count} events (got ${parser.events.length})`) as Promise<SseEvent[]>,
    close: () => controller.abort(),
  };
  if (response.status !== 200) return stream;
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        for (const match of text.matchAll(/^id: (\d+)$/gm)) stream.ids.push(Number(match[1]));
        stream.comments += (text.match(/^:/gm) ?? []).length;
        parser.push(text);
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return stream;
}

describe('REST runs', () => {
  let server: TestServer;
  let pool: RunWorkerPool | undefined;
  let agentId: number;

  beforeEach(async () => {
    server = await startTestServer();
    agentId = (await createAgent(server, { name: 'Reader' })).id;
  });
  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
    await server.close();
  });

  /** Workers for the server's database, as `dana serve --workers 2` runs them. */
  function startWorkers(): RunWorkerPool {
    pool = new RunWorkerPool(server.context, { concurrency: 2, log: () => undefined });
    pool.start();
    return pool;
  }

  const startRun = (body: Record<string, unknown>, agent = agentId) => server.api(`/api/agents/${agent}/runs`, json('POST', body));

  it('answers requests while its own workers execute a long run', async function () {
    this.timeout(60_000);
    const documents = 200;
    for (let i = 0; i < documents; i++) await uploadDocument(server, `note-${i}.txt`, `Note ${i} about rivers and ledgers.`, { agent_id: String(agentId) });
    const run = await bodyOf(await startRun({ input: 'Summarise', each_document: true }));
    startWorkers();
    // Offline answers on SQLite are synchronous work: a server that did not give its requests
    // a turn between documents would answer this only once the whole run was done.
    const seen = await waitFor(async () => {
      const current = await bodyOf(await server.api(`/api/runs/${run.id}`));
      return current.done > 0 ? current : undefined;
    }, 30_000, 'the run to answer its first documents');
    expect(seen.done).to.be.lessThan(documents);
    await waitFor(async () => (await bodyOf(await server.api(`/api/runs/${run.id}`))).status === 'succeeded', 30_000, 'the run to succeed');
  });

  async function startedRun(body: Record<string, unknown>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await startRun(body);
    expect(res.status, await res.clone().text()).to.equal(202);
    return res.json();
  }

  async function finishedRun(id: number): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return waitFor(async () => {
      const run = await bodyOf(await server.api(`/api/runs/${id}`));
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    }, 15_000, `run ${id} to finish`);
  }

  describe('starting a run', () => {
    it('answers 202 with the queued Run and a Location that answers 200 with it', async () => {
      const res = await startRun({ input: '  What is in my notes?  ' });
      expect(res.status).to.equal(202);
      const run = await bodyOf(res);
      expect(run).to.have.all.keys(...RUN_KEYS);
      expect(run).to.include({ agent_id: agentId, status: 'queued', input: 'What is in my notes?', each_document: false, done: 0, attempts: 0 });
      expect(run.created_at).to.match(ISO_UTC);
      expect(res.headers.get('location')).to.equal(`/api/runs/${run.id}`);
      expect(await bodyOf(await server.api(res.headers.get('location') as string))).to.deep.equal(run);
      // Without the /api prefix too, like every route.
      expect((await server.api(`/runs/${run.id}/`)).status).to.equal(200);
    });

    it('answers 404 "Agent not found" for an unknown agent', async () => {
      await expectError(await startRun({ input: 'x' }, 9999), 404, 'Agent not found');
    });

    it('refuses a bad body with 422 naming the field', async () => {
      await expectLocs(await startRun({}), ['body', 'input']);
      const blank = await validationIssues(await startRun({ input: '   ' }));
      expect(blank.map((issue) => issue.loc)).to.deep.include(['body', 'input']);
      await expectLocs(await startRun({ input: 'x', extra: 1 }), ['body', 'extra']);
      await expectLocs(await startRun({ input: 'x', each_document: 'yes' }), ['body', 'each_document']);
      await expectLocs(await startRun({ input: 'x', topic_id: 9999 }), ['body', 'topic_id']);
      await expectLocs(await startRun({ input: 'x', document_ids: [9999] }), ['body', 'document_ids']);
      await expectLocs(await server.api('/api/agents/abc/runs', json('POST', { input: 'x' })), ['path', 'id']);
    });
  });

  describe('reading and listing runs', () => {
    it('answers 404 "Run not found" on every route of an unknown run', async () => {
      for (const [method, path] of [['GET', ''], ['GET', '/results'], ['POST', '/cancel'], ['DELETE', ''], ['GET', '/events']]) {
        await expectError(await server.api(`/api/runs/9999${path}`, { method }), 404, 'Run not found');
      }
    });

    it('lists runs in ascending id with X-Total-Count, filtered by agent and status', async () => {
      const other = (await createAgent(server, { name: 'Other' })).id;
      const first = await startedRun({ input: 'one' });
      const second = await startedRun({ input: 'two' });
      const third = await bodyOf(await startRun({ input: 'three' }, other));
      await server.api(`/api/runs/${second.id}/cancel`, { method: 'POST' });

      const all = await server.api('/api/runs/');
      expect(all.headers.get('x-total-count')).to.equal('3');
      expect((await bodyOf(all)).map((run: { id: number }) => run.id)).to.deep.equal([first.id, second.id, third.id]);
      const mine = await server.api(`/api/runs/?agent_id=${agentId}`);
      expect(mine.headers.get('x-total-count')).to.equal('2');
      const queued = await bodyOf(await server.api(`/api/runs/?agent_id=${agentId}&status=queued`));
      expect(queued.map((run: { id: number }) => run.id)).to.deep.equal([first.id]);
      const paged = await server.api('/api/runs/?skip=1&limit=1');
      expect(paged.headers.get('x-total-count')).to.equal('3');
      expect((await bodyOf(paged)).map((run: { id: number }) => run.id)).to.deep.equal([second.id]);
      await expectLocs(await server.api('/api/runs/?status=done'), ['query', 'status']);
      await expectLocs(await server.api('/api/runs/?limit=0'), ['query', 'limit']);
    });
  });

  describe('cancelling and deleting', () => {
    it('cancels a queued run (200 Run), then answers 409 to a second cancel', async () => {
      const run = await startedRun({ input: 'x' });
      const res = await server.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
      const cancelled = await bodyOf(res);
      expect(res.status).to.equal(200);
      expect(cancelled).to.include({ id: run.id, status: 'cancelled' });
      expect(cancelled.finished_at).to.match(ISO_UTC);
      const again = await server.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
      expect(again.status).to.equal(409);
      expect(await again.json()).to.have.all.keys('detail');
    });

    it('deletes only a finished run: 409 while queued, then 200 with the message, then 404', async () => {
      const run = await startedRun({ input: 'x' });
      const refused = await server.api(`/api/runs/${run.id}`, { method: 'DELETE' });
      expect(refused.status).to.equal(409);
      await server.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
      const res = await server.api(`/api/runs/${run.id}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ message: 'Run deleted successfully' });
      await expectError(await server.api(`/api/runs/${run.id}`), 404, 'Run not found');
    });
  });

  describe('events over SSE', () => {
    it('sends the headers at once, follows a queued run, and ends after the final status', async () => {
      const run = await startedRun({ input: 'x' });
      const stream = await openEvents(server, run.id);
      expect(stream.response.status).to.equal(200);
      expect(stream.response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
      expect(stream.response.headers.get('cache-control')).to.equal('no-cache');
      await stream.waitForEvents(1);
      await server.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
      await stream.ended;
      expect(stream.events.map((event) => [event.event, event.json])).to.deep.equal([
        ['status', { status: 'queued' }],
        ['status', { status: 'cancelled' }],
      ]);
      expect(stream.ids).to.have.length(2);
      expect(stream.ids[1]).to.be.greaterThan(stream.ids[0]);
    });

    it('replays a finished run from the start, or after Last-Event-ID (header or ?last_event_id=)', async () => {
      const run = await startedRun({ input: 'x' });
      await server.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
      const all = await openEvents(server, run.id);
      await all.ended;
      expect(all.events.map((event) => event.json.status)).to.deep.equal(['queued', 'cancelled']);
      const after = await openEvents(server, run.id, { 'Last-Event-ID': String(all.ids[0]) });
      await after.ended;
      expect(after.ids).to.deep.equal([all.ids[1]]);
      const byQuery = await openEvents(server, run.id, {}, `?last_event_id=${all.ids[0]}`);
      await byQuery.ended;
      expect(byQuery.ids).to.deep.equal([all.ids[1]]);
      // Past the last event of a finished run: nothing to send, and the stream ends.
      const past = await openEvents(server, run.id, { 'Last-Event-ID': String(all.ids[1]) });
      await past.ended;
      expect(past.events).to.deep.equal([]);
      await expectLocs(await server.api(`/api/runs/${run.id}/events?last_event_id=x`), ['query', 'last_event_id']);
    });

    it('keeps a quiet stream open with comments, and a client may leave mid-stream', async () => {
      const quiet = await startTestServer({}, { eventStreamKeepAliveMs: 50 });
      try {
        const agent = await createAgent(quiet);
        const run = await bodyOf(await quiet.api(`/api/agents/${agent.id}/runs`, json('POST', { input: 'x' })));
        const stream = await openEvents(quiet, run.id);
        await waitFor(() => stream.comments >= 2, 5_000, 'two keep-alive comments');
        expect(stream.events).to.have.length(1);
        stream.close();
        await stream.ended;
        expect((await quiet.api(`/api/runs/${run.id}/cancel`, { method: 'POST' })).status).to.equal(200);
      } finally {
        await quiet.close();
      }
    });

    it('documents every runs route in the OpenAPI document', async () => {
      const openapi = await bodyOf(await server.api('/openapi.json'));
      expect(openapi.paths['/api/agents/{id}/runs'].post.responses).to.have.property('202');
      for (const path of ['/api/runs/', '/api/runs/{id}', '/api/runs/{id}/results', '/api/runs/{id}/events']) expect(openapi.paths[path]).to.have.property('get');
      expect(openapi.paths['/api/runs/{id}/cancel'].post.responses).to.have.property('409');
      expect(openapi.paths['/api/runs/{id}'].delete.responses).to.have.property('409');
      expect(openapi.paths['/api/runs/{id}/events'].get.responses['200'].content).to.have.property('text/event-stream');
      expect(openapi.components.schemas).to.include.keys('Run', 'RunCreate', 'RunResult');
    });
  });

  describe('runs on workers', () => {
    it('answers a run once from the agent\'s documents: succeeded, one result, output and sources', async () => {
      await uploadDocument(server, 'photosynthesis.txt', 'Photosynthesis turns light into chemical energy in the chloroplasts.', { agent_id: String(agentId) });
      startWorkers();
      const run = await startedRun({ input: 'What does photosynthesis turn light into?' });
      const finished = await finishedRun(run.id);
      expect(finished).to.include({ status: 'succeeded', total: 1, done: 1, error: null });
      expect(finished.output).to.contain('chemical energy');
      expect(finished.started_at).to.match(ISO_UTC);
      expect(finished.finished_at).to.match(ISO_UTC);
      const results = await server.api(`/api/runs/${run.id}/results`);
      expect(results.headers.get('x-total-count')).to.equal('1');
      const [result] = await bodyOf(results);
      expect(result).to.have.all.keys('document_id', 'output', 'sources', 'error');
      expect(result.document_id).to.equal(null);
      expect(result.sources[0]).to.include({ original_filename: 'photosynthesis.txt' });
    });

    it('answers once per document with each_document, results paged in order', async () => {
      const topic = await createTopic(server);
      const documents = [];
      for (let i = 1; i <= 5; i++) {
        documents.push(await uploadDocument(server, `note-${i}.txt`, `Note ${i} records the meeting of day ${i}.`, { agent_id: String(agentId), topic_id: String(topic.id) }));
      }
      startWorkers();
      const run = await startedRun({ input: 'Summarise this note', topic_id: topic.id, each_document: true });
      const finished = await finishedRun(run.id);
      expect(finished).to.include({ status: 'succeeded', total: 5, done: 5 });
      const page = await server.api(`/api/runs/${run.id}/results?skip=1&limit=2`);
      expect(page.headers.get('x-total-count')).to.equal('5');
      const results = await bodyOf(page);
      expect(results.map((result: { document_id: number }) => result.document_id)).to.deep.equal([documents[1].id, documents[2].id]);
      expect(results[0].output).to.contain('Note 2');
      await expectLocs(await server.api(`/api/runs/${run.id}/results?limit=1001`), ['query', 'limit']);
    });

    it('a cancel mid-run answers 200 and the event stream ends with "cancelled" within a second', async () => {
      const fake = await startFakeOpenAi('slowly '.repeat(400), 50);
      try {
        await addProvider(server.context, 'slow', fake.baseUrl);
        const slow = await createAgent(server, { name: 'Slow', config: { provider: 'slow', model: 'paced' } });
        startWorkers();
        const run = await bodyOf(await startRun({ input: 'Take your time' }, slow.id));
        const stream = await openEvents(server, run.id);
        await waitFor(() => stream.events.some((event) => event.json?.status === 'running'), 15_000, 'the run to be running');
        const cancelledAt = Date.now();
        const res = await server.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
        expect(res.status).to.equal(200);
        expect((await bodyOf(res)).status).to.equal('cancelled');
        await stream.ended;
        expect(Date.now() - cancelledAt).to.be.below(1000);
        expect(stream.events.at(-1)?.json).to.deep.equal({ status: 'cancelled' });
        expect(stream.events.filter((event) => event.event === 'result')).to.deep.equal([]);
      } finally {
        await fake.close();
      }
    });

    it('streams status, progress, log and result events; a reconnect with Last-Event-ID misses none and repeats none', async () => {
      for (let i = 1; i <= 4; i++) await uploadDocument(server, `part-${i}.txt`, `Part ${i} is about topic number ${i}.`, { agent_id: String(agentId) });
      const run = await startedRun({ input: 'Summarise', each_document: true });
      const first = await openEvents(server, run.id);
      await first.waitForEvents(1);
      startWorkers();
      // Leave after a few events, mid-run, and come back from the last id seen.
      await first.waitForEvents(3);
      first.close();
      await first.ended;
      const seen = first.ids.slice(0, first.events.length);
      const second = await openEvents(server, run.id, { 'Last-Event-ID': String(seen.at(-1)) });
      await second.ended;
      const everything = await openEvents(server, run.id);
      await everything.ended;
      expect([...seen, ...second.ids]).to.deep.equal(everything.ids);
      const types = new Set(everything.events.map((event) => event.event));
      expect([...types]).to.include.members(['status', 'progress', 'log', 'result']);
      expect(everything.events.at(-1)).to.deep.include({ event: 'status' });
      expect(everything.events.at(-1)?.json).to.deep.equal({ status: 'succeeded' });
      const progress = everything.events.filter((event) => event.event === 'progress').at(-1);
      expect(progress?.json).to.deep.equal({ done: 4, total: 4 });
      const log = everything.events.find((event) => event.event === 'log');
      expect(log?.json).to.have.all.keys('level', 'message', 'at');
    });
  });
});
