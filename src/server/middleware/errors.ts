// Every error becomes a JSON `{"detail": …}` with its status, from the one table in
// core/errors.ts. Unexpected errors are logged with their stack and answered with a
// generic 500: internals never reach clients.
import type { Context, Next } from 'koa';
import { BadRequestError, errorOutcome, toDanaError } from '../../core/errors.js';
import type { Logger } from '../logger.js';

const STATUS_DETAILS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request body too large',
  415: 'Unsupported Media Type',
  501: 'Not Implemented',
};

/**
 * Answers every error, thrown or left as a bare status by the router (404, 405, 501),
 * with the JSON error shape.
 */
export function errorHandler(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      // HTTP/1.1 requires a Host header (RFC 9112 §3.2).
      if (!ctx.get('host') && ctx.req.httpVersion === '1.1') throw new BadRequestError('Missing Host header');
      await next();
    } catch (error) {
      const { status, detail } = httpOutcome(error);
      if (status >= 500) logger.error(`${ctx.method} ${ctx.path} failed: ${(error as Error)?.stack ?? String(error)}`);
      if (ctx.headerSent || !ctx.writable) return;
      ctx.remove('Content-Disposition');
      ctx.status = status;
      ctx.body = { detail };
      return;
    }
    if (ctx.body === undefined || ctx.body === null) {
      const status = ctx.status;
      if (status === 404 || status === 405 || status === 501) {
        ctx.body = { detail: STATUS_DETAILS[status] };
        ctx.status = status;
      }
    }
  };
}

/** Errors from Dana's core, and the few from the HTTP layer (http-errors, raw-body, busboy). */
function httpOutcome(error: unknown): { status: number; detail: unknown } {
  if (toDanaError(error)) return errorOutcome(error);
  const { status, expose, message } = error as { status?: number; expose?: boolean; message?: string };
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, detail: expose && message ? message : STATUS_DETAILS[status] ?? 'Bad Request' };
  }
  return errorOutcome(error);
}
