// Runs the API server until SIGINT/SIGTERM: listens, prints where everything is, logs each
// request, and on a signal stops accepting, lets in-flight requests finish, closes the
// database and returns.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { describeDatabase, type DanaConfig } from '../core/config.js';
import { createContext } from '../core/context.js';
import { VERSION } from '../core/version.js';
import { createApp } from './app.js';
import { answerClientError } from './client-errors.js';
import { createLogger, type LogLevel } from './logger.js';
import { isLoopbackAddress } from './middleware/access.js';
import { createRateLimiter } from './middleware/rate-limit.js';
import { ServerMetrics } from './metrics.js';

export interface ServeOptions {
  host: string;
  port: number;
  logLevel: LogLevel;
  corsOrigins: string[];
  allowedHosts: string[];
  /** Tokens required even on loopback. */
  requireToken: boolean;
  /** Serve off loopback without tokens (the owner said so). */
  noAuth: boolean;
  maxConnections: number;
  /** Requests a minute per token (or client address); 0 or absent: no limit. */
  rateLimit?: number;
  /** Runs this server executes at once (0: none; `dana worker` processes may); default 2. */
  workers?: number;
}

export const DEFAULT_WORKERS = 2;

// A slow client cannot hold a connection forever: headers must arrive within 15 s, a
// whole request (a large upload on a slow link included) within 10 min, and an idle
// connection is dropped after 2 min (keep-alive after 5 s).
const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10 * 60_000;
const SOCKET_IDLE_TIMEOUT_MS = 2 * 60_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const SHUTDOWN_GRACE_MS = 10_000;

// File descriptors kept free under the open-file limit for the database, its journal and the
// process itself; of the rest, each connection may hold two (its socket and an upload's file).
const DESCRIPTOR_MARGIN = 64;

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** The server would be open to the network without tokens. */
export class NoTokenError extends Error {
  override name = 'NoTokenError';
}

export async function serve(config: DanaConfig, options: ServeOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  const context = await createContext(config, { log: (level, message) => logger[level](message) });
  const isExposed = !isLoopbackAddress(options.host);
  const requireToken = options.requireToken || (isExposed && !options.noAuth);
  try {
    if (isExposed && !options.noAuth && !(await context.services.tokens.hasAny())) {
      throw new NoTokenError(`Listening on ${options.host} needs an API token: create one with \`dana tokens create --name NAME\` (or pass --no-auth)`);
    }
  } catch (error) {
    await context.close();
    throw error;
  }
  if (isExposed && options.noAuth) {
    process.stderr.write(`Warning: --no-auth: anyone who can reach ${options.host}:${options.port} can read and change every document.\n`);
  }
  let rateLimiter;
  try {
    rateLimiter = options.rateLimit
      ? await createRateLimiter(options.rateLimit, { dialect: config.database.client, knex: () => context.knex })
      : undefined;
  } catch (error) {
    await context.close();
    throw error;
  }
  const metrics = new ServerMetrics(context.services);
  const app = createApp(context, {
    metrics,
    rateLimiter,
    logger,
    staticDir: config.staticDir,
    access: { listenHost: options.host, allowedHosts: options.allowedHosts, corsOrigins: options.corsOrigins, requireToken },
  });
  const server = http.createServer(
    // Missing Host headers are refused by the app, with a JSON body like every other error.
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000, requireHostHeader: false },
    app.callback(),
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', answerClientError);
  server.setTimeout(SOCKET_IDLE_TIMEOUT_MS);
  const maxConnections = boundedConnections(options.maxConnections, openFileLimit());
  if (maxConnections < options.maxConnections) {
    logger.warning(`--max-connections ${options.maxConnections} lowered to ${maxConnections} to stay under the open-file limit`);
  }
  server.maxConnections = maxConnections;

  try {
    await listen(server, options.host, options.port);
  } catch (error) {
    await context.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const tokens = requireToken ? 'required (Authorization: Bearer <token>)'
    : isExposed ? 'not required (--no-auth)' : 'optional on loopback (--require-token requires them)';
  const workers = options.workers ?? DEFAULT_WORKERS;
  // Loaded before the banner: from then on a signal finds its handler, not Node's default.
  const { RunWorkerPool } = await import('../core/runs/worker.js');
  printBanner(config, options.host, port, tokens, maxConnections, options.rateLimit, workers);
  // Passages of agents whose provider has an embedding model get their vectors meanwhile.
  context.services.embeddings.start();
  // Events older than a day go, whichever server on the database gets to them first.
  context.services.events.startPruning((error) => logger.warning(`Pruning old events failed: ${(error as Error)?.message ?? error}`));
  // Runs are taken up once the server answers; on shutdown, runs in hand go back to the queue.
  const pool = new RunWorkerPool(context, {
    concurrency: workers,
    log: (level, message) => logger[level](message),
    onFinished: (run) => metrics.runFinished(run.runner, run.status, run.seconds),
  });
  pool.start();

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal} received: finishing in-flight requests`);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      const closed = new Promise<void>((done) => server.close(() => {
        clearTimeout(force);
        done();
      }));
      server.closeIdleConnections();
      // Event streams never finish by themselves: end them, then drop their connections, now idle.
      void context.services.events.close().then(() => setImmediate(() => server.closeIdleConnections()));
      void Promise.all([closed, pool.stop()]).then(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await context.close();
  logger.info('stopped');
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new PortInUseError(`Port ${port} on ${host} is already in use (try --port ${port + 1})`));
      else if (error.code === 'EACCES') reject(new PortInUseError(`Not allowed to listen on ${host}:${port} (try a port above 1024)`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
}

/** `requested`, lowered to stay under this process's open-file limit (when it can be read). */
export function boundedConnections(requested: number, limit: number | undefined): number {
  if (!limit) return requested;
  return Math.max(1, Math.min(requested, Math.floor((limit - DESCRIPTOR_MARGIN) / 2)));
}

// Node has no getrlimit; on Linux /proc says it without a child process.
function openFileLimit(): number | undefined {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
    if (soft) return soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    // Not Linux: ask the shell, whose limit the process inherited.
  }
  const shell = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const value = Number(shell.stdout?.trim());
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

function printBanner(config: DanaConfig, host: string, port: number, tokens: string, maxConnections: number, rateLimit: number | undefined, workers: number): void {
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  const lines = [
    `Dana API ${VERSION} listening on ${url}`,
    `  API       ${url}/api`,
    `  Health    ${url}/health`,
    `  Docs      ${url}/docs`,
    `  Data      ${config.dataDir}`,
    `  Database  ${describeDatabase(config.database)}`,
    `  Uploads   ${config.uploadDir}`,
    `  Web app   ${config.staticDir ?? '(none: pass --static-dir to serve one)'}`,
    `  Tokens    ${tokens}`,
    `  Limits    ${maxConnections} connections${rateLimit ? `, ${rateLimit} requests a minute per token or address${config.database.client === 'postgres' ? ' (shared by every server on the database)' : ''}` : ''}`,
    `  Runs      ${workers ? `${workers} at once in this server (--workers)` : 'none in this server (--workers 0): `dana worker` executes them'}`,
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
