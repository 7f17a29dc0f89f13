// `--rate-limit N`: at most N requests a minute per token, or per client address for
// requests without one, counted in fixed one-minute windows by rate-limiter-flexible. On
// PostgreSQL the counts live in the database, so every server on it shares them; on SQLite
// (one machine, usually one server) they are kept in memory.
import { createRequire } from 'node:module';
import type { Context, Middleware, Next } from 'koa';
import type { Knex } from 'knex';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../core/errors.js';
import type { Dialect } from '../../core/db/dialects.js';

const require = createRequire(import.meta.url);

const WINDOW_S = 60;
const HEALTH_PATHS = /^\/(api\/)?health\/?$/;
/** The table the PostgreSQL limiter keeps its counts in (created by the library if missing). */
export const RATE_LIMIT_TABLE = 'dana_rate_limits';

export interface RateLimitStore {
  dialect: Dialect;
  knex: () => Knex;
}

/** The limiter for `requestsPerMinute`, shared through the database on PostgreSQL. */
export async function createRateLimiter(requestsPerMinute: number, store: RateLimitStore): Promise<RateLimiterAbstract> {
  const flexible = require('rate-limiter-flexible') as typeof import('rate-limiter-flexible');
  const options = { points: requestsPerMinute, duration: WINDOW_S, keyPrefix: 'dana' };
  if (store.dialect !== 'postgres') return new flexible.RateLimiterMemory(options);
  return new Promise((resolve, reject) => {
    const limiter: RateLimiterAbstract = new flexible.RateLimiterPostgres(
      { ...options, storeClient: store.knex(), storeType: 'knex', tableName: RATE_LIMIT_TABLE, clearExpiredByTimeout: true },
      (error?: Error) => (error ? reject(error) : resolve(limiter)),
    );
  });
}

/**
 * Counts every request but health checks, after access control has said who is asking;
 * past the limit: 429 `{"detail": "Too many requests"}` with Retry-After in seconds.
 */
export function rateLimit(limiter: RateLimiterAbstract): Middleware {
  return async function limitRate(ctx: Context, next: Next): Promise<void> {
    if (HEALTH_PATHS.test(ctx.path)) return next();
    const key = ctx.state.tokenName ? `token:${ctx.state.tokenName as string}` : `address:${ctx.req.socket.remoteAddress ?? 'unknown'}`;
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      const retryAfterS = Math.max(1, Math.ceil((rejection as RateLimiterRes).msBeforeNext / 1000));
      ctx.set('Retry-After', String(retryAfterS));
      throw new TooManyRequestsError(retryAfterS);
    }
    await next();
  };
}
