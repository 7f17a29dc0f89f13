// Every error becomes a JSON `{"detail": …}` with its status, from the one table in
// core/errors.ts. Unexpected errors are logged with their stack and answered with a
// generic 500: internals never reach clients.
import type { Context, Next } from 'koa';
import { errorOutcome, toDanaError } from '../../core/errors.js';
import type { Logger } from '../logger.js';

const STATUS_DETAILS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request body too large',
  415: 'Unsupported Media Type',
  501: 'Not Implemented',
};

export function errorHandler(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      const { status, detail } = httpOutcome(error);
      if (status >= 500) logger.error(`${ctx.method} ${ctx.path} failed: ${(error as Error)?.stack ?? String(error)}`);
      if (ctx.headerSent || !ctx.writable) return;
      ctx.remove('Content-Disposition');
      ctx.status = status;
      ctx.body = { detail };
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

/** Gives the statuses the router sets without a body (404, 405, 501) the JSON error shape. */
export async function errorBodies(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body === undefined || ctx.body === null) {
    if (ctx.status === 404 || ctx.status === 405 || ctx.status === 501) {
      const status = ctx.status;
      ctx.body = { detail: STATUS_DETAILS[status] };
      ctx.status = status;
    }
  }
}
