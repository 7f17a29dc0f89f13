// /api/events: changes made by any process on the database, as Server-Sent Events. Each
// event has an id; a client that reconnects with `Last-Event-ID` (EventSource does) gets
// every event after it, then the new ones.
import type { Context } from 'koa';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Services } from '../../core/context.js';
import { ValidationError } from '../../core/errors.js';
import { EventsQuerySchema, type EventsQuery } from '../../core/schemas.js';
import { validateText } from '../../core/validation.js';
import type { ChangeFeed } from '../../core/events.js';
import type { Route } from './route.js';

/** A comment this often keeps proxies and idle timeouts from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export function eventRoutes({ events }: Services, options: { keepAliveMs?: number } = {}): Route[] {
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  return [
    {
      methods: ['get'], path: '/events', tag: 'events', summary: 'Follow changes as Server-Sent Events',
      description: 'Streams `change` events `{"resource": "agents", "id": 3, "action": "created"}` (resources as in the paths: agents, '
        + 'topics, documents, conversations, messages; actions created, updated, deleted) and `run` events `{"id", "status", "done", "total"}`, '
        + 'whichever process made the change (the CLI included). Each event has an `id:`; without `Last-Event-ID` (header) or '
        + '`last_event_id` (query) the stream starts from now, with it every event after that id is sent first. Events are kept for a day. '
        + 'A comment line is sent every 15 s while nothing happens.',
      query: EventsQuerySchema,
      response: { kind: 'custom', description: 'The event stream', content: { 'text/event-stream': { type: 'string' } } },
      async handle({ query, ctx }) {
        // Settled before the headers go out: a change made once the client sees them is in the stream.
        streamChanges(ctx, events, await events.startAfter(lastEventId(ctx, query)), keepAliveMs);
      },
    },
  ];
}

/** Where the client resumes: the query parameter, else the header EventSource sends on reconnecting. */
function lastEventId(ctx: Context, query: Record<string, unknown>): number | undefined {
  const fromQuery = validateText<EventsQuery>(EventsQuerySchema, query).last_event_id;
  if (fromQuery !== undefined) return fromQuery;
  const header = ctx.get('Last-Event-ID').trim();
  if (!header) return undefined;
  // Errors name `body`, `query`, `path` or `form`: the header is the query parameter sent another way.
  if (!/^\d{1,15}$/.test(header)) throw ValidationError.field(['query', 'last_event_id'], 'Last-Event-ID should be an event id (a whole number)', 'int_parsing');
  return Number(header);
}

function streamChanges(ctx: Context, feed: ChangeFeed, afterId: number, keepAliveMs: number): void {
  const stream = new PassThrough();
  ctx.status = 200;
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  ctx.body = stream;
  // The client sees the stream open now, not at the first change.
  ctx.flushHeaders();
  const left = new AbortController();
  ctx.res.once('close', () => left.abort());
  const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), keepAliveMs);
  (async () => {
    try {
      for await (const event of feed.follow({ afterId, signal: left.signal })) {
        // A slow reader (a long replay) is not buffered without bound: wait until it drains.
        if (!stream.write(`id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`)) await once(stream, 'drain', { signal: left.signal });
      }
    } finally {
      clearInterval(keepAlive);
      stream.end();
    }
  })().catch(() => undefined);
}
