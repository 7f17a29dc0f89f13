// The Koa application over one Dana context. It does not listen: `dana serve` and the tests
// build it the same way and put it on a server of their own.
import Koa from 'koa';
import { Router } from '@koa/router';
import cors from '@koa/cors';
import type { DanaContext } from '../core/context.js';
import { VERSION } from '../core/version.js';
import { accessLog } from './middleware/access-log.js';
import { errorBodies, errorHandler } from './middleware/errors.js';
import { buildOpenApi } from './openapi.js';
import { mountRoutes, type Route } from './routes/route.js';
import { healthRoutes } from './routes/health.js';
import { agentRoutes } from './routes/agents.js';
import { topicRoutes } from './routes/topics.js';
import { documentRoutes } from './routes/documents.js';
import { conversationRoutes } from './routes/conversations.js';
import { messageRoutes } from './routes/messages.js';
import { chatRoutes } from './routes/chat.js';
import { webRoutes } from './web.js';
import { silentLogger, type Logger } from './logger.js';

export interface AppOptions {
  logger?: Logger;
  staticDir?: string;
  /** Allowed CORS origin(s), comma-separated; by default any origin is reflected. */
  corsOrigin?: string;
}

export function apiRoutes(context: DanaContext, logger: Logger = silentLogger): Route[] {
  const { services } = context;
  return [
    ...healthRoutes(),
    ...agentRoutes(services),
    ...topicRoutes(services),
    ...documentRoutes(services),
    ...conversationRoutes(services),
    ...messageRoutes(services),
    ...chatRoutes(services, logger),
  ];
}

export function createApp(context: DanaContext, options: AppOptions = {}): Koa {
  const logger = options.logger ?? silentLogger;
  const routes = apiRoutes(context, logger);
  let openApi: unknown;
  const web = webRoutes({ staticDir: options.staticDir ?? context.config.staticDir }, () => (openApi ??= buildOpenApi(routes, VERSION)));

  const router = new Router();
  mountRoutes(router, routes);

  const app = new Koa();
  // Errors are answered and logged by errorHandler; Koa's own handler would print them again.
  app.silent = true;
  app.use(accessLog(logger));
  app.use(errorHandler(logger));
  app.use(errorBodies);
  app.use(cors({
    origin: corsOrigin(options.corsOrigin),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposeHeaders: ['X-Total-Count', 'Location', 'Content-Disposition'],
    keepHeadersOnError: true,
    maxAge: 600,
  }));
  app.use(web.spaFallback);
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(web.pages);
  return app;
}

function corsOrigin(allowed: string | undefined) {
  const origins = allowed?.split(',').map((origin) => origin.trim()).filter(Boolean);
  return (ctx: Koa.Context): string => {
    const origin = ctx.get('Origin');
    if (!origins?.length || origins.includes('*')) return origin || '*';
    return origins.includes(origin) ? origin : '';
  };
}
