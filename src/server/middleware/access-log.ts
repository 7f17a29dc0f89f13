// One line per request at `info`: method, path, status, milliseconds.
import type { Context, Next } from 'koa';
import type { Logger } from '../logger.js';

export function accessLog(logger: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    try {
      await next();
    } finally {
      const log = () => logger.info(`${ctx.method} ${ctx.originalUrl} ${ctx.status} ${(performance.now() - started).toFixed(1)}ms`);
      // Streamed bodies (downloads, SSE) are logged when they finish.
      if (ctx.res.writableFinished || !ctx.body || typeof (ctx.body as { pipe?: unknown }).pipe !== 'function') log();
      else ctx.res.once('close', log);
    }
  };
}
