// The Koa application over one Dana context. It does not listen: `dana serve` and the tests
// build it the same way and put it on a server of their own.
import Koa from 'koa';
import type { DanaContext } from '../core/context.js';
import { VERSION } from '../core/version.js';
import { accessControl, type AccessOptions } from './middleware/access.js';
import { accessLog } from './middleware/access-log.js';
import { BODY_IDLE_TIMEOUT_MS } from './middleware/idle-body.js';
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
import { searchRoutes } from './routes/search.js';
import { eventRoutes } from './routes/events.js';
import { runRoutes } from './routes/runs.js';
import { webRoutes } from './web.js';
import { silentLogger, type Logger } from './logger.js';
import { ServerMetrics, type ChatObserver } from './metrics.js';
import { rateLimit } from './middleware/rate-limit.js';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

export interface AppOptions {
  logger?: Logger;
  staticDir?: string;
  /** Hosts, origins and tokens: by default loopback hosts only, no CORS, tokens optional. */
  access?: AccessOptions;
  /** A request body that sends nothing for this long is answered 408. */
  bodyIdleTimeoutMs?: number;
  /** Requests past its count are answered 429 (see middleware/rate-limit.ts). */
  rateLimiter?: RateLimiterAbstract;
  /** How often a quiet event stream sends a keep-alive comment (default 15 s). */
  eventStreamKeepAliveMs?: number;
  /**
   * The metrics /metrics serves, when the caller reports into them too (the server's run
   * workers); false leaves out both the timing and /metrics (the bench compares the two).
   */
  metrics?: ServerMetrics | false;
}

export function apiRoutes(context: DanaContext, logger: Logger = silentLogger, chatObserver?: ChatObserver, options: Pick<AppOptions, 'eventStreamKeepAliveMs'> = {}): Route[] {
  const { services } = context;
  return [
    ...healthRoutes(services),
    ...agentRoutes(services),
    ...topicRoutes(services),
    ...documentRoutes(services),
    ...conversationRoutes(services),
    ...messageRoutes(services),
    ...chatRoutes(services, logger, chatObserver),
    ...providerRoutes(services),
    ...searchRoutes(services),
    ...eventRoutes(services, { keepAliveMs: options.eventStreamKeepAliveMs }),
    ...runRoutes(services, logger, { keepAliveMs: options.eventStreamKeepAliveMs }),
  ];
}

export function createApp(context: DanaContext, options: AppOptions = {}): Koa {
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics === false ? undefined : (options.metrics ?? new ServerMetrics(context.services));
  const routes = [...apiRoutes(context, logger, metrics, options), ...(metrics?.routes() ?? [])];
  let openApi: unknown;
  const web = webRoutes({ staticDir: options.staticDir ?? context.config.staticDir }, () => (openApi ??= buildOpenApi(routes, VERSION)));

  const app = new Koa();
  // Errors are answered and logged by errorHandler; Koa's own handler would print them again.
  app.silent = true;
  if (metrics) app.use(metrics.middleware());
  if (logger.isEnabled('info')) app.use(accessLog(logger));
  app.use(errorHandler(logger));
  for (const check of accessControl(context.services.tokens, options.access)) app.use(check);
  if (options.rateLimiter) app.use(rateLimit(options.rateLimiter));
  const bodyIdleTimeoutMs = options.bodyIdleTimeoutMs ?? BODY_IDLE_TIMEOUT_MS;
  app.use((ctx, next) => {
    ctx.state.bodyIdleTimeoutMs = bodyIdleTimeoutMs;
    return next();
  });
  if (web.spaFallback) app.use(web.spaFallback);
  app.use(routeTable(routes));
  app.use(web.pages);
  return app;
}
