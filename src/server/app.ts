// The Koa application over one Dana context. It does not listen: `dana serve` and the tests
// build it the same way and put it on a server of their own.
import Koa from 'koa';
import cors from '@koa/cors';
import type { DanaContext } from '../core/context.js';
import { VERSION } from '../core/version.js';
import { accessLog } from './middleware/access-log.js';
import { errorHandler } from './middleware/errors.js';
import { buildOpenApi } from './openapi.js';
import { routeTable, type Route } from './routes/route.js';
import { healthRoutes } from './routes/health.js';
import { agentRoutes } from './routes/agents.js';
import { topicRoutes } from './routes/topics.js';
import { documentRoutes } from './routes/documents.js';
import { conversationRoutes } from './routes/conversations.js';
import { messageRoutes } from './routes/messages.js';
import { chatRoutes } from './routes/chat.js';
import { providerRoutes } from './routes/providers.js';
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
    ...providerRoutes(services),
  ];
}

export function createApp(context: DanaContext, options: AppOptions = {}): Koa {
  const logger = options.logger ?? silentLogger;
  const routes = apiRoutes(context, logger);
  let openApi: unknown;
  const web = webRoutes({ staticDir: options.staticDir ?? context.config.staticDir }, () => (openApi ??= buildOpenApi(routes, VERSION)));


  const app = new Koa();
  // Errors are answered and logged by errorHandler; Koa's own handler would print them again.
  app.silent = true;
  if (logger.isEnabled('info')) app.use(accessLog(logger));
  app.use(errorHandler(logger));
  app.use(crossOrigin(options.corsOrigin));
  if (web.spaFallback) app.use(web.spaFallback);
  app.use(routeTable(routes));
  app.use(web.pages);
  return app;
}

/** CORS for browsers: any origin reflected by default, or only those of `allowed`. */
function crossOrigin(allowed: string | undefined): Koa.Middleware {
  const origins = allowed?.split(',').map((origin) => origin.trim()).filter(Boolean);
  const isAllowed = (origin: string) => !origins?.length || origins.includes('*') || origins.includes(origin);
  const handle = cors({
    origin: (ctx) => (isAllowed(ctx.get('Origin')) ? ctx.get('Origin') : ''),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposeHeaders: ['X-Total-Count', 'Location', 'Content-Disposition'],
    keepHeadersOnError: true,
    maxAge: 600,
  });
  // Requests without an Origin (curl, scripts, same-origin GETs) are outside CORS entirely.
  return (ctx, next) => {
    if (ctx.get('Origin')) return handle(ctx, next);
    ctx.set('Vary', 'Origin');
    return next();
  };
}
