// The OpenAPI 3.1 document, generated from the route table and the core's JSON Schemas.
import type { Route, JsonSchema } from './routes/route.js';
import { pathParams } from './routes/route.js';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON body',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body or file too large',
  415: 'Unsupported content type or file type',
  401: 'Not authenticated: a token is required, or the one given is not valid',
  403: 'Refused: host not allowed, cross-site write, or a read-only token writing',
  408: 'The request body stopped arriving',
  422: 'Validation error',
  502: 'The agent runner failed',
  503: 'The database cannot be reached',
};

// Health answers without a token (load balancers and monitors poll it); everything else may need one.
const PUBLIC_TAGS = new Set(['health']);

export function buildOpenApi(routes: Route[], version: string): Record<string, unknown> {
  const components: Record<string, unknown> = {
    HTTPError: {
      type: 'object',
      properties: { detail: { type: 'string' } },
      required: ['detail'],
    },
    ValidationIssue: {
      type: 'object',
      properties: {
        loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] }, description: 'Starts with body, query, path or form' },
        msg: { type: 'string' },
        type: { type: 'string' },
      },
      required: ['loc', 'msg', 'type'],
    },
    HTTPValidationError: {
      type: 'object',
      properties: { detail: { type: 'array', items: { $ref: '#/components/schemas/ValidationIssue' } } },
      required: ['detail'],
    },
  };
  const ref = (schema: JsonSchema) => {
    const name = schema.$id as string;
    components[name] ??= withoutIds(schema);
    return { $ref: `#/components/schemas/${name}` };
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/api${route.path}`;
    for (const method of route.methods) {
      (paths[path] ??= {})[method] = operation(route, method, ref);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dana API',
      version,
      description: 'Agents, topics, documents, conversations and chat. Every route also answers without the /api prefix.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from `dana tokens create`. Required when the server listens off loopback or runs with --require-token.',
        },
      },
    },
  };
}

function operation(route: Route, method: string, ref: (schema: JsonSchema) => unknown): Record<string, unknown> {
  const params = pathParams(route.path);
  const parameters: unknown[] = params.map((name) => ({
    name, in: 'path', required: true, schema: { type: 'integer', minimum: 1 },
  }));
  for (const [name, schema] of Object.entries((route.query?.properties ?? {}) as Record<string, JsonSchema>)) {
    parameters.push({ name, in: 'query', required: false, schema: withoutIds(schema) });
  }
  const responses: Record<string, unknown> = { ...successResponse(route, ref) };
  const errors = new Set(route.errors ?? []);
  if (params.length) errors.add(404).add(422);
  if (route.query) errors.add(422);
  if (route.body) [400, 413, 415, 422].forEach((status) => errors.add(status));
  if (route.multipart) [413, 415, 422].forEach((status) => errors.add(status));
  const isPublic = PUBLIC_TAGS.has(route.tag);
  if (!isPublic) [401, 403].forEach((status) => errors.add(status));
  if (route.body || route.multipart) errors.add(408);
  for (const status of [...errors].sort()) {
    const schema = status === 422 ? 'HTTPValidationError' : 'HTTPError';
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
    };
  }
  const op: Record<string, unknown> = {
    tags: [route.tag],
    summary: route.summary,
    operationId: `${method}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^a-zA-Z0-9_]+/g, '_').replace(/_+$/, '')}`,
    parameters,
    responses,
  };
  if (route.description) op.description = route.description;
  op.security = isPublic ? [] : [{ bearer: [] }];
  if (route.body) op.requestBody = { required: true, content: { 'application/json': { schema: ref(route.body) } } };
  if (route.multipart) {
    const fields = withoutIds(route.multipart.fields) as { properties?: Record<string, unknown> };
    op.requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: { [route.multipart.fileField]: { type: 'string', format: 'binary' }, ...fields.properties },
            required: [route.multipart.fileField],
          },
        },
      },
    };
  }
  return op;
}

function successResponse(route: Route, ref: (schema: JsonSchema) => unknown): Record<string, unknown> {
  const { response } = route;
  switch (response.kind) {
    case 'json':
      return { 200: { description: 'OK', content: { 'application/json': { schema: ref(response.schema) } } } };
    case 'page':
      return {
        200: {
          description: 'A page, in ascending id order',
          headers: { 'X-Total-Count': { description: 'Total after filters, before paging', schema: { type: 'integer' } } },
          content: { 'application/json': { schema: { type: 'array', items: ref(response.schema) } } },
        },
      };
    case 'created':
      return {
        201: {
          description: 'Created',
          headers: { Location: { description: 'URL of the new resource', schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref(response.schema) } },
        },
      };
    case 'accepted':
      return {
        202: {
          description: 'Accepted: the work goes on in the background',
          headers: { Location: { description: 'URL of the accepted resource, to watch it', schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref(response.schema) } },
        },
      };
    case 'custom': {
      const content = Object.fromEntries(
        Object.entries(response.content).map(([type, schema]) => [type, { schema: schema.$id ? ref(schema) : schema }]),
      );
      return { 200: { description: response.description, content } };
    }
  }
}

/** A schema fit to embed: `$id`s removed (they would change how nested `$ref`s resolve). */
function withoutIds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutIds);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$id').map(([key, value]) => [key, withoutIds(value)]));
}
