// Runs the API server until SIGINT/SIGTERM: listens, prints where everything is, logs each
// request, and on a signal stops accepting, lets in-flight requests finish, closes the
// database and returns.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeDatabase, type DanaConfig } from '../core/config.js';
import { createContext } from '../core/context.js';
import { VERSION } from '../core/version.js';
import { createApp } from './app.js';
import { answerClientError } from './client-errors.js';
import { createLogger, type LogLevel } from './logger.js';

export interface ServeOptions {
  host: string;
  port: number;
  logLevel: LogLevel;
  corsOrigin?: string;
}

// A slow client cannot hold a connection forever: headers must arrive within 15 s, a
// whole request (a large upload on a slow link included) within 10 min, and an idle
// connection is dropped after 2 min (keep-alive after 5 s).
const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10 * 60_000;
const SOCKET_IDLE_TIMEOUT_MS = 2 * 60_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const SHUTDOWN_GRACE_MS = 10_000;

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

export async function serve(config: DanaConfig, options: ServeOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  const context = await createContext(config);
  const app = createApp(context, { logger, staticDir: config.staticDir, corsOrigin: options.corsOrigin });
  const server = http.createServer(
    // Missing Host headers are refused by the app, with a JSON body like every other error.
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000, requireHostHeader: false },
    app.callback(),
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', answerClientError);
  server.setTimeout(SOCKET_IDLE_TIMEOUT_MS);

  try {
    await listen(server, options.host, options.port);
  } catch (error) {
    await context.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  printBanner(config, options.host, port);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal} received: finishing in-flight requests`);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
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

function printBanner(config: DanaConfig, host: string, port: number): void {
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
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
