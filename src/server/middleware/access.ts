// Who may talk to the server, in the order a request meets the checks: the Host header (DNS
// rebinding), CORS for allowed origins, cross-site writes (pages on other origins, plain HTML
// forms included), and bearer tokens.
import type { Context, Middleware, Next } from 'koa';
import cors from '@koa/cors';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.js';
import type { TokenService } from '../../core/services/tokens.js';
import { drainRequest } from './drain.js';

export interface AccessOptions {
  /** The address the server listens on: allowed as a Host when it is not a wildcard. */
  listenHost?: string;
  /** Extra names allowed in the Host header; `*` allows any. */
  allowedHosts?: string[];
  /** Origins whose pages may call the API (CORS, and writes); `*` allows any. */
  corsOrigins?: string[];
  /** Every request but /health needs a valid token (off loopback, or --require-token). */
  requireToken?: boolean;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HEALTH_PATHS = /^\/(api\/)?health\/?$/;

/** Does `host` (a --host value) accept connections from this machine only? */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

export function accessControl(tokens: TokenService, options: AccessOptions = {}): Middleware[] {
  const corsOrigins = (options.corsOrigins ?? []).map(normalizeOrigin).filter((origin) => origin !== 'null');
  return [
    checkHost(allowedHostnames(options)),
    ...(corsOrigins.length ? [crossOriginSharing(corsOrigins)] : []),
    refuseCrossSiteWrites(corsOrigins),
    checkToken(tokens, Boolean(options.requireToken)),
  ];
}

function allowedHostnames(options: AccessOptions): Set<string> | 'any' {
  const names = [...LOOPBACK_HOSTS, ...(options.allowedHosts ?? [])];
  if (names.includes('*')) return 'any';
  const listen = options.listenHost?.trim() ?? '';
  if (!WILDCARD_HOSTS.has(listen)) names.push(listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen);
  return new Set(names.map(hostnameOf));
}

/** The host name of a Host header or a name given by the owner: lower case, no port, no trailing dot. */
function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const name = trimmed.startsWith('[') ? trimmed.slice(0, trimmed.indexOf(']') + 1) : trimmed.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

// A page on evil.example whose name is re-pointed at 127.0.0.1 still says `Host: evil.example`.
function checkHost(allowed: Set<string> | 'any'): Middleware {
  return async function checkHost(ctx: Context, next: Next): Promise<void> {
    if (allowed !== 'any' && !allowed.has(hostnameOf(ctx.get('host')))) refuse(ctx, new ForbiddenError('Host not allowed'));
    await next();
  };
}

function crossOriginSharing(origins: string[]): Middleware {
  const isAny = origins.includes('*');
  const handle = cors({
    // An empty string tells @koa/cors to add no CORS headers.
    origin: (ctx) => {
      const origin = normalizeOrigin(ctx.get('Origin'));
      if (origin === 'null') return '';
      if (origins.includes(origin)) return ctx.get('Origin');
      return isAny ? '*' : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // Requested headers are reflected (Authorization, Content-Type, …); credentials are never allowed.
    credentials: false,
    exposeHeaders: ['X-Total-Count', 'Location', 'Content-Disposition'],
    keepHeadersOnError: true,
    maxAge: 600,
  });
  return (ctx, next) => (ctx.get('Origin') ? handle(ctx, next) : next());
}

// A browser sends Origin on cross-origin writes, HTML form posts included (which need no
// preflight); Sec-Fetch-Site covers browsers that leave Origin out. Checked before the body is read.
function refuseCrossSiteWrites(corsOrigins: string[]): Middleware {
  const isAny = corsOrigins.includes('*');
  return async function refuseCrossSiteWrites(ctx: Context, next: Next): Promise<void> {
    if (WRITE_METHODS.has(ctx.method)) {
      const origin = ctx.get('Origin');
      const normalized = normalizeOrigin(origin);
      const isAllowed = origin
        ? normalized !== 'null' && (normalized === ownOrigin(ctx) || isAny || corsOrigins.includes(normalized))
        : ctx.get('Sec-Fetch-Site').toLowerCase() !== 'cross-site';
      if (!isAllowed) refuse(ctx, new ForbiddenError('Cross-site request refused'));
    }
    await next();
  };
}

function checkToken(tokens: TokenService, requireToken: boolean): Middleware {
  return async function checkToken(ctx: Context, next: Next): Promise<void> {
    if (HEALTH_PATHS.test(ctx.path)) return next();
    const header = ctx.get('Authorization');
    if (!header) {
      if (requireToken) refuse(ctx, new UnauthorizedError());
      return next();
    }
    const token = /^Bearer +(\S+) *$/i.exec(header)?.[1];
    const holder = token ? await tokens.verify(token) : undefined;
    if (!holder) refuse(ctx, new UnauthorizedError());
    if (holder.readOnly && WRITE_METHODS.has(ctx.method)) refuse(ctx, new ForbiddenError('This token is read-only'));
    // Who is asking, for the rate limit: requests with a token count against the token.
    ctx.state.tokenName = holder.name;
    await next();
  };
}

/**
 * Answers without reading the body: the rest of it is drained (within limits) so the client
 * can read the answer, and the connection is closed afterwards.
 */
function refuse(ctx: Context, error: Error): never {
  if (error instanceof UnauthorizedError) ctx.set('WWW-Authenticate', 'Bearer');
  if (!ctx.req.readableEnded && (ctx.get('content-length') || ctx.get('transfer-encoding'))) {
    ctx.set('Connection', 'close');
    void drainRequest(ctx.req);
  }
  throw error;
}

/** The origin a page served by this server would send: scheme, host and port. */
function ownOrigin(ctx: Context): string {
  return normalizeOrigin(`${ctx.protocol}://${ctx.get('host')}`);
}

/** `HTTP://Example.test:80/` and `http://example.test` are one origin. */
function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim();
  if (trimmed === '*' || trimmed === 'null' || !trimmed) return trimmed;
  try {
    return new URL(trimmed).origin;
  } catch {
    return trimmed.toLowerCase();
  }
}
