// Operating a server: /metrics in Prometheus text format, and --rate-limit.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { createAgent, uploadDocument } from '../helpers/api.js';
import { isPostgres } from '../helpers/backend.js';
import { createRateLimiter } from '../../src/server/middleware/rate-limit.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { RunWorkerPool } from '../../src/core/runs/worker.js';
import { waitFor } from '../helpers/chat.js';

const require = createRequire(import.meta.url);

interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string> }>;
}
// The Prometheus project's own text-format grammar, as a parser independent of prom-client.
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Family[];

interface Scrape {
  families: Map<string, Family>;
  /** A histogram's `_count` for a label set (the parser above folds labelled histograms together). */
  count(name: string, labels: Record<string, string>): number;
}

async function scrape(server: TestServer, init?: RequestInit): Promise<Scrape> {
  const res = await server.api('/metrics', init);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = new Map(parsePrometheus(text).map((family) => [family.name, family]));
  return {
    families,
    count(name, labels) {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}_count{`)
        && Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)));
      return line ? Number(line.split(' ').at(-1)) : 0;
    },
  };
}

/** A server whose requests are limited, counted in its own database on PostgreSQL. */
function limitedServer(requestsPerMinute: number, env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer(env, async (context) => ({
    rateLimiter: await createRateLimiter(requestsPerMinute, { dialect: isPostgres ? 'postgres' : 'sqlite', knex: () => context.knex }),
  }));
}

describe('operations', () => {
  describe('GET /metrics', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(() => server.close());

    it('counts requests by route template, method and status, in a format Prometheus parses', async () => {
      const agent = await createAgent(server);
      for (let i = 0; i < 3; i++) expect((await server.api(`/api/agents/${agent.id}`)).status).to.equal(200);
      expect((await server.api('/api/agents/999999')).status).to.equal(404);
      expect((await server.api('/no/such/path')).status).to.equal(404);
      const { families, count: countOf } = await scrape(server);
      expect(families.get('dana_http_request_duration_seconds')?.type).to.equal('HISTOGRAM');
      const count = (labels: Record<string, string>) => countOf('dana_http_request_duration_seconds', labels);
      expect(count({ route: '/api/agents/{id}', method: 'GET', status: '200' })).to.equal(3);
      expect(count({ route: '/api/agents/{id}', method: 'GET', status: '404' })).to.equal(1);
      expect(count({ route: '/api/agents/', method: 'POST', status: '201' })).to.equal(1);
      // Unknown paths share one label: clients cannot grow the series.
      expect(count({ route: 'unmatched', status: '404' })).to.equal(1);
      expect(count({ route: '/api/agents/999999' })).to.equal(0);
      // The process's own metrics.
      expect(families.get('process_cpu_user_seconds_total')?.type).to.equal('COUNTER');
      expect(families.has('nodejs_eventloop_lag_seconds')).to.equal(true);
      expect(families.get('dana_db_pool_connections')?.metrics.map((metric) => metric.labels?.state).sort()).to.deep.equal(['free', 'pending', 'used']);
    });

    it('reports documents by text status and chat durations by runner', async () => {
      await uploadDocument(server, 'volcanoes.txt', 'Volcanoes erupt when magma rises.');
      await uploadDocument(server, 'broken.pdf', 'not really a pdf');
      const agent = await createAgent(server, { name: 'Metrics reader' });
      const chat = await server.api('/api/chat/', json('POST', { agent_id: agent.id, message: 'volcanoes magma' }));
      expect(chat.status).to.equal(200);
      const { families, count } = await scrape(server);
      const documents = families.get('dana_documents');
      const byStatus = Object.fromEntries(documents?.metrics.map((metric) => [metric.labels?.text_status, Number(metric.value)]) ?? []);
      expect(byStatus).to.deep.equal({ indexed: 1, failed: 1, pending: 0 });
      expect(families.get('dana_chat_duration_seconds')?.type).to.equal('HISTOGRAM');
      expect(count('dana_chat_duration_seconds', { runner: 'local', outcome: 'ok' })).to.equal(1);
    });
  });

  describe('GET /metrics with run workers', () => {
    let server: TestServer;
    let pool: RunWorkerPool;
    before(async () => {
      server = await startTestServer({}, async (context) => {
        const metrics = new ServerMetrics(context.services);
        pool = new RunWorkerPool(context, { concurrency: 1, onFinished: (run) => metrics.runFinished(run.runner, run.status, run.seconds) });
        return { metrics };
      });
    });
    after(async () => {
      await pool.stop();
      await server.close();
    });

    it('reports runs by status, read from the database, and run durations by runner and status', async () => {
      const agent = await createAgent(server, { name: 'Runs reader', config: { provider: 'local' } });
      const { runs } = server.context.services;
      const queued = await runs.create(agent.id, { input: 'anything' });
      const cancelled = await runs.create(agent.id, { input: 'never mind' });
      await runs.cancel(cancelled.id);
      let { families } = await scrape(server);
      const byStatus = () => Object.fromEntries(families.get('dana_runs')?.metrics.map((metric) => [metric.labels?.status, Number(metric.value)]) ?? []);
      expect(byStatus()).to.deep.equal({ queued: 1, running: 0, succeeded: 0, failed: 0, cancelled: 1 });
      pool.start();
      await waitFor(async () => (await runs.get(queued.id)).status === 'succeeded', 10_000, 'the run to succeed');
      const scraped = await scrape(server);
      families = scraped.families;
      expect(byStatus()).to.deep.equal({ queued: 0, running: 0, succeeded: 1, failed: 0, cancelled: 1 });
      expect(families.get('dana_run_duration_seconds')?.type).to.equal('HISTOGRAM');
      expect(scraped.count('dana_run_duration_seconds', { runner: 'local', status: 'succeeded' })).to.equal(1);
    });
  });

  it('/metrics follows the API\'s access rules: a token is needed where the API needs one', async () => {
    const server = await startTestServer({}, { access: { requireToken: true } });
    try {
      const res = await server.api('/metrics');
      expect(res.status).to.equal(401);
      expect(await res.json()).to.deep.equal({ detail: 'Not authenticated' });
      const { token } = await server.context.services.tokens.create({ name: 'prometheus', readOnly: true });
      expect((await scrape(server, { headers: { Authorization: `Bearer ${token}` } })).families.has('dana_http_request_duration_seconds')).to.equal(true);
    } finally {
      await server.close();
    }
  });

  describe('--rate-limit', () => {
    it('answers 429 with Retry-After past the limit, per client, and never limits /health', async () => {
      const server = await limitedServer(3);
      try {
        for (let i = 0; i < 3; i++) expect((await server.api('/api/agents/')).status).to.equal(200);
        const refused = await server.api('/api/agents/');
        expect(refused.status).to.equal(429);
        expect(await refused.json()).to.deep.equal({ detail: 'Too many requests' });
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).to.be.within(1, 60);
        expect((await server.api('/health')).status).to.equal(200);
        // A token is counted on its own, apart from the address.
        const { token } = await server.context.services.tokens.create({ name: 'script' });
        expect((await server.api('/api/agents/', { headers: { Authorization: `Bearer ${token}` } })).status).to.equal(200);
      } finally {
        await server.close();
      }
    });

    it('is shared by every server on one PostgreSQL database', async function () {
      if (!isPostgres) this.skip(); // SQLite servers count in memory, each on its own (documented).
      const first = await limitedServer(4);
      const second = await limitedServer(4, { DANA_DATABASE_URL: (first.context.config.database as { connectionString: string }).connectionString });
      try {
        expect((await first.api('/api/agents/')).status).to.equal(200);
        expect((await second.api('/api/agents/')).status).to.equal(200);
        expect((await first.api('/api/agents/')).status).to.equal(200);
        expect((await second.api('/api/agents/')).status).to.equal(200);
        const refused = await first.api('/api/agents/');
        expect(refused.status).to.equal(429);
        expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
        expect((await second.api('/api/agents/')).status).to.equal(429);
      } finally {
        await second.close();
        await first.close();
      }
    });
  });
});
