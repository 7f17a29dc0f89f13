// A client that opens a request body and then sends nothing would hold its connection (and,
// for uploads, an open file) until the whole-request timeout: past a short silence it gets 408.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { RequestTimeoutError } from '../../core/errors.js';

export const BODY_IDLE_TIMEOUT_MS = 30_000;

/** The silence allowed for this request (the app's setting, shortened by tests). */
export function bodyIdleTimeoutOf(ctx: Context): number {
  return (ctx.state.bodyIdleTimeoutMs as number | undefined) ?? BODY_IDLE_TIMEOUT_MS;
}

/**
 * Calls `onIdle` once when `req` delivers no data for `timeoutMs`. Attach it only once a
 * reader consumes `req` (its 'data' listener must not start the flow). Time spent paused by
 * our own back-pressure (a slow disk) is not the client's silence. Returns a stop function.
 */
export function watchIdleBody(req: IncomingMessage, timeoutMs: number, onIdle: (error: RequestTimeoutError) => void): () => void {
  if (req.readableEnded) return () => undefined;
  let timer: NodeJS.Timeout;
  const arm = () => {
    clearTimeout(timer);
    // A watchdog: it must not keep the process alive on its own.
    timer = setTimeout(fire, timeoutMs).unref();
  };
  const fire = () => {
    if (req.readableFlowing === false) return arm();
    stop();
    onIdle(new RequestTimeoutError(`Request body timed out: nothing received for ${timeoutMs / 1000} s`));
  };
  const stop = () => {
    clearTimeout(timer);
    req.off('data', arm);
    req.off('end', stop);
    req.off('close', stop);
    req.socket?.off('close', stop);
  };
  req.on('data', arm);
  req.once('end', stop);
  req.once('close', stop);
  // Node does not close a request whose response has finished, even when its connection closes.
  req.socket?.once('close', stop);
  arm();
  return stop;
}

/**
 * After a 408 the client will send no more: the connection closes once the answer is out, and
 * the request is destroyed so its readers (raw-body, multer) give up and clean up. Node does
 * not close a request whose response has already finished.
 */
export function closeAfterAnswer(ctx: Context): void {
  ctx.set('Connection', 'close');
  ctx.res.once('finish', () => ctx.req.destroy());
}
