// A real Dana API on 127.0.0.1 (a free port), over a real context in a temp folder.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppOptions } from '../../src/server/app.js';
import { answerClientError } from '../../src/server/client-errors.js';
import type { ContextOptions } from '../../src/core/context.js';
import { openTestContext, type TestContext } from './context.js';

export interface TestServer {
  context: TestContext;
  url: string;
  port: number;
  /** fetch() against the server: `api('/api/agents/')`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** `options` may be made from the server's context (a rate limiter that counts in its database). */
export async function startTestServer(
  env: Record<string, string> = {},
  options: AppOptions | ((context: TestContext) => Promise<AppOptions>) = {},
  contextOptions: ContextOptions = {},
): Promise<TestServer> {
  const context = await openTestContext(env, contextOptions);
  const appOptions = typeof options === 'function' ? await options(context) : options;
  const server = http.createServer({ requireHostHeader: false }, createApp(context, appOptions).callback());
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    context,
    url,
    port,
    api: (path, init) => fetch(`${url}${path}`, init),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await context.close();
    },
  };
}

/** POST/PUT/PATCH a JSON body. */
export function json(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
