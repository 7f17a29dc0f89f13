// What a browser gets besides the API: the web client's static files under /static, its
// index.html at / and at client routes (SPA fallback), the interactive API docs at /docs.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Context, Next } from 'koa';
import koaStatic from 'koa-static';

const require = createRequire(import.meta.url);

export interface WebOptions {
  staticDir?: string;
}

/** Serves files of `root` under the URL prefix (e.g. /static/app.js → <root>/app.js). */
function serveFolder(prefix: string, root: string) {
  const serve = koaStatic(root, { index: false, defer: false, hidden: false });
  return async function serveFiles(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith(`${prefix}/`) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const original = ctx.path;
    ctx.path = original.slice(prefix.length);
    try {
      await serve(ctx as never, async () => undefined);
    } finally {
      ctx.path = original;
    }
  };
}

const BUILT_IN_HOME = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Dana</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body>
<h1>Dana API</h1>
<p>The server is running. Explore it:</p>
<ul>
<li><a href="/docs">/docs</a> &mdash; interactive API documentation</li>
<li><a href="/openapi.json">/openapi.json</a> &mdash; the OpenAPI document</li>
<li><a href="/health">/health</a> &mdash; health check</li>
</ul>
<p>Serve a web client with <code>dana serve --static-dir ./dist</code>.</p>
</body>
</html>
`;

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Dana API docs</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null keeps Swagger UI from calling swagger.io: the docs work offline.
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });\n`;

export function webRoutes(options: WebOptions, openApi: () => unknown) {
  const indexFile = options.staticDir ? path.join(options.staticDir, 'index.html') : undefined;
  const hasIndex = () => Boolean(indexFile && fs.existsSync(indexFile));
  const sendIndex = (ctx: Context) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = fs.createReadStream(indexFile as string);
  };
  const staticFiles = options.staticDir ? serveFolder('/static', options.staticDir) : undefined;
  const docsAssets = serveFolder('/docs/assets', path.dirname(require.resolve('swagger-ui-dist/package.json')));

  return {
    /**
     * Runs before the API routes: a browser loading a client route gets the web client.
     * Only when there is a web client to serve.
     */
    spaFallback: indexFile
      ? async (ctx: Context, next: Next): Promise<void> => {
          if (!isServerPath(ctx.path) && isPageRequest(ctx) && hasIndex()) return sendIndex(ctx);
          return next();
        }
      : undefined,

    /** Runs after the API routes. */
    async pages(ctx: Context, next: Next): Promise<void> {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
      switch (ctx.path) {
        case '/':
          if (hasIndex()) return sendIndex(ctx);
          ctx.type = 'text/html; charset=utf-8';
          ctx.body = BUILT_IN_HOME;
          return;
        case '/openapi.json':
          ctx.body = openApi();
          return;
        case '/docs':
        case '/docs/':
          ctx.type = 'text/html; charset=utf-8';
          ctx.body = DOCS_PAGE;
          return;
        case '/docs/init.js':
          ctx.type = 'application/javascript; charset=utf-8';
          ctx.body = DOCS_INIT;
          return;
      }
      if (ctx.path.startsWith('/docs/assets/')) return docsAssets(ctx, next);
      if (staticFiles && ctx.path.startsWith('/static/')) return staticFiles(ctx, next);
      return next();
    },
  };
}

// A browser navigation: a GET or HEAD that prefers HTML over JSON (curl's "any type" prefers JSON).
function isPageRequest(ctx: Context): boolean {
  return (ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.accepts('json', 'html') === 'html';
}

function isServerPath(urlPath: string): boolean {
  return urlPath === '/' || urlPath === '/api' || urlPath.startsWith('/api/') || urlPath.startsWith('/static/')
    || urlPath.startsWith('/docs') || urlPath === '/openapi.json' || urlPath === '/health';
}
