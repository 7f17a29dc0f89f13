// /api/agents/{id}/runs and /api/runs: an agent's background work, started here, executed by
// the workers, watched as Server-Sent Events replayed from the run's stored events.
import type { Context } from 'koa';
import { PassThrough } from 'node:stream';
import type { Services } from '../../core/context.js';
import { MAX_ID, DeletedSchema, RunCreateSchema, RunListQuerySchema, RunResultSchema, RunSchema, ListQuerySchema } from '../../core/schemas.js';
import type { RunEvent } from '../../core/schemas.js';
import { validateText } from '../../core/validation.js';
import type { Logger } from '../logger.js';
import type { Route } from './route.js';

const tag = 'runs';

/** A quiet stream still sends a comment this often, so proxies and clients keep it open. */
export const KEEP_ALIVE_MS = 15_000;

const EventsQuerySchema = {
  $id: 'RunEventsQuery',
  type: 'object',
  properties: {
    last_event_id: { type: 'integer', minimum: 0, maximum: MAX_ID, description: 'Replay only the events after this id (as the Last-Event-ID header does)' },
  },
} as const;

export function runRoutes({ runs }: Services, logger: Logger, options: { keepAliveMs?: number } = {}): Route[] {
  return [
    {
      methods: ['post'], path: '/agents/{id}/runs', tag, summary: 'Start a run: the agent works on the input in the background',
      description: 'Without each_document the agent answers input once, from its documents (narrowed to topic_id / document_ids when given); '
        + 'with it, once per document in scope, each answer drawn from that document alone. Answers 202 at once; the run is queued '
        + 'for a worker (`dana serve --workers N`, `dana worker`). Location names the run; /events streams its progress.',
      body: RunCreateSchema,
      response: { kind: 'accepted', schema: RunSchema, location: ({ id }) => `/api/runs/${id}` },
      handle: ({ params, body }) => runs.create(params.id, body),
    },
    {
      methods: ['get'], path: '/runs/', tag, summary: 'List runs',
      query: RunListQuerySchema, response: { kind: 'page', schema: RunSchema },
      handle: ({ query }) => runs.list(query),
    },
    {
      methods: ['get'], path: '/runs/{id}', tag, summary: 'Get a run',
      response: { kind: 'json', schema: RunSchema },
      handle: ({ params }) => runs.get(params.id),
    },
    {
      methods: ['get'], path: '/runs/{id}/results', tag, summary: "A run's answers, one per document (or one for a run answered once)",
      query: ListQuerySchema, response: { kind: 'page', schema: RunResultSchema },
      handle: ({ params, query }) => runs.results(params.id, query),
    },
    {
      methods: ['post'], path: '/runs/{id}/cancel', tag, summary: 'Cancel a queued or running run',
      description: 'The worker stops within a second and stores no further results. 409 once the run has finished.',
      errors: [409], response: { kind: 'json', schema: RunSchema },
      handle: ({ params }) => runs.cancel(params.id),
    },
    {
      methods: ['delete'], path: '/runs/{id}', tag, summary: 'Delete a finished run and its results',
      description: 'Only a run that succeeded, failed or was cancelled (409 otherwise: cancel it first).',
      errors: [409], response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => runs.delete(params.id),
    },
    {
      methods: ['get'], path: '/runs/{id}/events', tag, summary: "A run's events as Server-Sent Events, from the start or after Last-Event-ID",
      description: 'Each event has `id: N`, `event: status|progress|log|result` and `data: JSON` ({status, error?}; {done, total}; '
        + '{level, message, at}; {document_id, output, sources, error}). Stored events are replayed first (all, or those after '
        + 'the Last-Event-ID header or ?last_event_id=), then new ones follow as they happen; the stream ends after the final '
        + 'status. Comments keep a quiet stream open. A Last-Event-ID header that is not a number replays from the start.',
      query: EventsQuerySchema,
      response: { kind: 'custom', description: "The run's event stream", content: { 'text/event-stream': { type: 'string' } } },
      async handle({ params, query, ctx }) {
        // Unknown runs and bad queries are ordinary JSON errors: nothing is streamed yet.
        await runs.get(params.id);
        const afterId = lastEventId(ctx, query);
        streamRunEvents(ctx, runs.watch(params.id, { afterId, signal: stopOnDisconnect(ctx) }), logger, options.keepAliveMs ?? KEEP_ALIVE_MS);
      },
    },
  ];
}

/** Where a reconnecting client left off: the EventSource header, else the query parameter, else the start. */
function lastEventId(ctx: Context, query: Record<string, unknown>): number {
  const { last_event_id: fromQuery } = validateText<{ last_event_id?: number }>(EventsQuerySchema, query);
  const header = ctx.get('last-event-id').trim();
  if (/^\d{1,10}$/.test(header) && Number(header) <= MAX_ID) return Number(header);
  return fromQuery ?? 0;
}

function stopOnDisconnect(ctx: Context): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => controller.abort());
  return controller.signal;
}

function streamRunEvents(ctx: Context, events: AsyncIterable<RunEvent>, logger: Logger, keepAliveMs: number): void {
  const stream = new PassThrough();
  ctx.status = 200;
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  ctx.body = stream;
  // A queued run may wait a while for a worker: the client sees the stream open at once.
  ctx.flushHeaders();
  const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), keepAliveMs);
  (async () => {
    try {
      for await (const event of events) {
        stream.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
      }
    } catch (error) {
      // The client left (the watch was aborted), or the database failed mid-stream: the
      // client reconnects with Last-Event-ID and misses nothing either way.
      if (!ctx.res.destroyed) logger.error(`GET ${ctx.path} events failed: ${(error as Error)?.stack ?? error}`);
    } finally {
      clearInterval(keepAlive);
      stream.end();
    }
  })();
}
