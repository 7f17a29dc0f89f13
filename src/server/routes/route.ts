// The route table's vocabulary. Each resource file lists its routes as data: the router
// mounts them (under /api and without the prefix) and the OpenAPI document is built from
// the same entries, so what is served and what is documented cannot drift apart.
import type { Context, Middleware } from 'koa';
import { Router } from '@koa/router';
import compose from 'koa-compose';
import { ValidationError } from '../../core/errors.js';
import { MAX_ID, type Page } from '../../core/schemas.js';
import { readJsonBody } from '../middleware/json-body.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type JsonSchema = { $id?: string; [key: string]: unknown };

export interface RouteInput {
  /** Path parameters, validated as positive integers. */
  params: Record<string, number>;
  query: Record<string, unknown>;
  /** The parsed JSON body (validated by the service, against the schema named in `body`). */
  body: unknown;
  ctx: Context;
}

export interface Route {
  methods: Method[];
  /** OpenAPI-style path under /api, e.g. `/agents/{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  query?: JsonSchema;
  body?: JsonSchema;
  /** Documents a multipart/form-data body: the file field and the text fields. */
  multipart?: { fileField: string; fields: JsonSchema };
  response:
    | { kind: 'json'; schema: JsonSchema }
    | { kind: 'page'; schema: JsonSchema }
    | { kind: 'created'; schema: JsonSchema; location: (created: { id: number } & Record<string, unknown>) => string }
    /** Accepted for work in the background (202): the Location names where to watch it. */
    | { kind: 'accepted'; schema: JsonSchema; location: (accepted: { id: number } & Record<string, unknown>) => string }
    /** The handler writes the response itself (a file, a stream of events). */
    | { kind: 'custom'; description: string; content: Record<string, JsonSchema> };
  /** Error statuses beyond those implied by params, query and body (e.g. 409). */
  errors?: number[];
  handle(input: RouteInput): Promise<unknown>;
}

const PATH_PARAM = /\{(\w+)\}/g;
const POSITIVE_INTEGER = /^[1-9]\d{0,9}$/;

export function pathParams(path: string): string[] {
  return [...path.matchAll(PATH_PARAM)].map((match) => match[1]);
}

/**
 * The route table as middleware: one @koa/router per resource (the first path segment),
 * each mounted under /api and without the prefix, so a request is matched only against
 * the routes of its own resource. A trailing slash is optional everywhere.
 */
export function routeTable(routes: Route[]): Middleware {
  const byResource = new Map<string, { prefixed: Middleware; unprefixed: Middleware }>();
  for (const [resource, group] of groupBy(routes, (route) => route.path.split('/')[1])) {
    byResource.set(resource, { prefixed: routerFor(group, '/api'), unprefixed: routerFor(group) });
  }
  return (ctx, next) => {
    const isPrefixed = ctx.path === '/api' || ctx.path.startsWith('/api/');
    const resource = (isPrefixed ? ctx.path.slice(4) : ctx.path).split('/')[1];
    const routers = byResource.get(resource);
    if (!routers) return next();
    return (isPrefixed ? routers.prefixed : routers.unprefixed)(ctx, next);
  };
}

function routerFor(routes: Route[], prefix?: string): Middleware {
  const router = new Router(prefix ? { prefix } : {});
  for (const route of routes) {
    const koaPath = route.path.replace(PATH_PARAM, ':$1').replace(/\/$/, '') || '/';
    for (const method of route.methods) router[method](koaPath, handler(route));
  }
  return compose([router.routes(), router.allowedMethods()] as Middleware[]);
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

function handler(route: Route) {
  const names = pathParams(route.path);
  const template = `/api${route.path}`;
  return async (ctx: Context) => {
    // For the request-duration metric: the template, whichever of its two paths was asked.
    ctx.state.route = template;
    const params = parseParams(names, (ctx as unknown as { params: Record<string, string> }).params);
    const body = route.body ? await readJsonBody(ctx) : undefined;
    const result = await route.handle({ params, query: ctx.query as Record<string, unknown>, body, ctx });
    const { response } = route;
    if (response.kind === 'custom') return;
    if (response.kind === 'page') {
      const page = result as Page<unknown>;
      ctx.set('X-Total-Count', String(page.total));
      ctx.body = page.items;
      return;
    }
    if (response.kind === 'created' || response.kind === 'accepted') {
      ctx.status = response.kind === 'created' ? 201 : 202;
      ctx.set('Location', response.location(result as { id: number }));
    }
    ctx.body = result;
  };
}

function parseParams(names: string[], raw: Record<string, string>): Record<string, number> {
  const params: Record<string, number> = {};
  const issues = [];
  for (const name of names) {
    const value = raw[name];
    if (POSITIVE_INTEGER.test(value) && Number(value) <= MAX_ID) params[name] = Number(value);
    else issues.push({ loc: ['path', name], msg: 'Input should be a positive integer', type: 'int_parsing' });
  }
  if (issues.length) throw new ValidationError(issues);
  return params;
}
