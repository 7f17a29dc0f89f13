// GET /metrics: Prometheus text format, from prom-client. Each app has a registry of its own
// (tests run several apps in one process). Request durations are labelled by the route
// template (`/api/agents/{id}`), never by the raw path, so clients cannot grow the series;
// the document and pool figures are read when scraped, so they count every process's work.
import { createRequire } from 'node:module';
import type { Context, Middleware, Next } from 'koa';
import type { Histogram, Registry } from 'prom-client';
import type { Services } from '../core/context.js';
import type { Route } from './routes/route.js';

const require = createRequire(import.meta.url);

/** What the chat route reports when a reply is done (or failed). */
export interface ChatObserver {
  chatFinished(runner: string, outcome: 'ok' | 'error', seconds: number): void;
}

/** What the server's run workers report when a run ends here. */
export interface RunObserver {
  runFinished(runner: string, status: string, seconds: number): void;
}

/** Requests that matched no route: one label for all of them. */
const UNMATCHED = 'unmatched';

export class ServerMetrics implements ChatObserver, RunObserver {
  readonly registry: Registry;
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly chatDuration: Histogram<'runner' | 'outcome'>;
  private readonly runDuration: Histogram<'runner' | 'status'>;

  constructor(services: Services) {
    const client = require('prom-client') as typeof import('prom-client');
    this.registry = new client.Registry();
    client.collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requestDuration = new client.Histogram({
      name: 'dana_http_request_duration_seconds',
      help: 'Time to answer a request, by route template, method and status (streamed bodies: until they start).',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.chatDuration = new client.Histogram({
      name: 'dana_chat_duration_seconds',
      help: 'Time from a chat message to its complete reply, by runner (provider) and outcome.',
      labelNames: ['runner', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.runDuration = new client.Histogram({
      name: 'dana_run_duration_seconds',
      help: "Time from a worker taking a run up to its end, by runner (provider) and the status it ended in (this server's workers only).",
      labelNames: ['runner', 'status'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    new client.Gauge({
      name: 'dana_runs',
      help: 'Runs by status, read from the database when scraped (every server and worker on it).',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = await services.runs.countByStatus();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
    new client.Gauge({
      name: 'dana_documents',
      help: 'Documents by the state of their text: indexed (searchable), failed (unreadable) or pending.',
      labelNames: ['text_status'],
      registers,
      async collect() {
        const counts = await services.database.documentsByTextStatus();
        for (const [status, count] of Object.entries(counts)) this.set({ text_status: status }, count);
      },
    });
    new client.Gauge({
      name: 'dana_db_pool_connections',
      help: 'Database connections of the write pool: used, free, and acquisitions waiting.',
      labelNames: ['state'],
      registers,
      collect() {
        const use = services.database.poolUse();
        this.set({ state: 'used' }, use.used);
        this.set({ state: 'free' }, use.free);
        this.set({ state: 'pending' }, use.pending);
      },
    });
  }

  /** Times every request; the route table names the template it matched in `ctx.state.route`. */
  middleware(): Middleware {
    const histogram = this.requestDuration;
    return async function timeRequest(ctx: Context, next: Next): Promise<void> {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        histogram.observe({ method: ctx.method, route: (ctx.state.route as string | undefined) ?? UNMATCHED, status: String(ctx.status) }, seconds);
      }
    };
  }

  chatFinished(runner: string, outcome: 'ok' | 'error', seconds: number): void {
    this.chatDuration.observe({ runner, outcome }, seconds);
  }

  runFinished(runner: string, status: string, seconds: number): void {
    this.runDuration.observe({ runner, status }, seconds);
  }

  routes(): Route[] {
    const { registry } = this;
    return [
      {
        methods: ['get'], path: '/metrics', tag: 'operations', summary: 'Metrics in Prometheus text format',
        description: 'Request durations by route template, method and status; chat and run durations by runner; runs by status; documents by text status; '
          + 'database pool use; the process\'s own metrics. Served at /metrics (and /api/metrics), under the same access rules as the API.',
        response: { kind: 'custom', description: 'Prometheus text exposition format', content: { 'text/plain': { type: 'string' } } },
        async handle({ ctx }) {
          ctx.set('Content-Type', registry.contentType);
          ctx.body = await registry.metrics();
        },
      },
    ];
  }
}
