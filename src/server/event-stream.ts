// Server-Sent Events for streams that resume: a run's events and the change feed. Both
// send `id:` lines, take the id a client saw last from `Last-Event-ID` (EventSource sends
// it on reconnecting) or `?last_event_id=`, and keep a quiet stream open with comments.
import type { Context } from 'koa';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { ValidationError } from '../core/errors.js';
import { EventsQuerySchema, MAX_ID, type EventsQuery } from '../core/schemas.js';
import { validateText } from '../core/validation.js';

/** A comment this often keeps proxies and idle timeouts from closing a quiet stream. */
export const KEEP_ALIVE_MS = 15_000;

export interface StreamedEvent {
  id: number;
  event: string;
  data: unknown;
}

/**
 * Where the client resumes: the query parameter, else the header, else undefined. A
 * header that is not an id is a 422 like the parameter (errors name `body`, `query`,
 * `path` or `form`: the header is the parameter sent another way).
 */
export function lastEventId(ctx: Context, query: Record<string, unknown>): number | undefined {
  const fromQuery = validateText<EventsQuery>(EventsQuerySchema, query).last_event_id;
  if (fromQuery !== undefined) return fromQuery;
  const header = ctx.get('Last-Event-ID').trim();
  if (!header) return undefined;
  if (!/^\d{1,10}$/.test(header) || Number(header) > MAX_ID) {
    throw ValidationError.field(['query', 'last_event_id'], 'Last-Event-ID should be an event id (a whole number up to 2147483647)', 'int_parsing');
  }
  return Number(header);
}

/**
 * Answers with the events `follow` yields until it ends or the client leaves (its signal
 * aborts then). Headers go out at once: the client sees the stream open before the first
 * event, however long that takes. A slow reader is not buffered without bound.
 */
export function streamEvents(
  ctx: Context,
  follow: (signal: AbortSignal) => AsyncIterable<StreamedEvent>,
  options: { keepAliveMs?: number; onError?: (error: unknown) => void } = {},
): void {
  const stream = new PassThrough();
  ctx.status = 200;
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  ctx.body = stream;
  ctx.flushHeaders();
  const left = new AbortController();
  ctx.res.once('close', () => left.abort());
  const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), options.keepAliveMs ?? KEEP_ALIVE_MS);
  (async () => {
    try {
      for await (const { id, event, data } of follow(left.signal)) {
        if (!stream.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) await once(stream, 'drain', { signal: left.signal });
      }
    } catch (error) {
      // A client that left ends its stream by an abort; anything else is worth saying (it
      // reconnects with Last-Event-ID and misses nothing).
      if (!left.signal.aborted) options.onError?.(error);
    } finally {
      clearInterval(keepAlive);
      stream.end();
    }
  })();
}
