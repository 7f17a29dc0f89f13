// Generators (fast-check) of requests a server must refuse, driven by Dana's route table
// and the JSON Schemas in it: a new route or field is covered without touching this file.
// Every generated request is bad by construction (a schema rule broken, bytes that are
// not JSON, a content type the route does not take…), so the only right answers are 4xx.
import fc from 'fast-check';
import type { Route } from '../../../src/server/routes/route.js';
import { multipartBody, type Part } from '../../helpers/http.js';

export interface BadRequest {
  /** What makes it bad: the label failures and counts are grouped by. */
  why: string;
  method: string;
  path: string;
  headers: Record<string, string | number>;
  body?: Buffer;
}

/** Ids of existing rows, by resource (the path segment before a parameter): agents, topics, … */
export type Seeds = Record<string, number>;

interface Schema {
  type?: string | readonly string[];
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  minProperties?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  enum?: readonly unknown[];
}

type Json = unknown;
type Labelled = { why: string; value: Json };

// ---------------------------------------------------------------------------------------
// JSON text, including what JSON.stringify cannot write: duplicate keys and raw literals.

/** Literal JSON text, written as is (1e999, a 100,000-level nesting…). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written with its entries in order, duplicates included. */
export class Entries {
  constructor(readonly entries: Array<[string, Json]>) {}
}

export function jsonText(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Entries) return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') return jsonText(new Entries(Object.entries(value)));
  return JSON.stringify(value) ?? 'null';
}

function entriesOf(body: Json): Array<[string, Json]> {
  if (body instanceof Entries) return [...body.entries];
  return Object.entries(body as Record<string, Json>);
}

/** `body` with `key` set (a key like "__proto__" becomes a plain entry, as JSON.parse makes it). */
function withField(body: Json, key: string, value: Json): Entries {
  return new Entries([...entriesOf(body).filter(([name]) => name !== key), [key, value]]);
}

function withoutField(body: Json, key: string): Entries {
  return new Entries(entriesOf(body).filter(([name]) => name !== key));
}

function deepArrays(depth: number): RawJson {
  return new RawJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
}

function deepObjects(depth: number): RawJson {
  return new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

// ---------------------------------------------------------------------------------------
// Paths.

const PARAM = /\{(\w+)\}/g;

/** The resource a path parameter names: the segment before it (`/conversations/{conversation_id}` → conversations). */
function resourceOf(route: Route, param: string): string {
  const segments = route.path.split('/');
  return segments[segments.indexOf(`{${param}}`) - 1] ?? param;
}

/** An id of an existing row for a path parameter, or one that names nothing. */
function seedFor(seeds: Seeds, resource: string): number {
  return seeds[resource] ?? 999_999_999;
}

/** The concrete path: `/api` or not (both are served), parameters filled in, trailing slash or not. */
function concretePath(route: Route, values: Record<string, string>, prefixed: boolean, trailingSlash: boolean): string {
  let path = route.path.replace(PARAM, (_, name: string) => values[name]);
  if (path.endsWith('/') && path.length > 1 && !trailingSlash) path = path.slice(0, -1);
  else if (!path.endsWith('/') && trailingSlash && !route.path.endsWith('}')) path = `${path}/`;
  return `${prefixed ? '/api' : ''}${path}`;
}

function validParams(route: Route, seeds: Seeds): Record<string, string> {
  return Object.fromEntries([...route.path.matchAll(PARAM)].map(([, name]) => [name, String(seedFor(seeds, resourceOf(route, name)))]));
}

const pathShape = fc.record({ prefixed: fc.boolean(), trailingSlash: fc.boolean() });

function pathArbitrary(route: Route, seeds: Seeds): fc.Arbitrary<string> {
  return pathShape.map(({ prefixed, trailingSlash }) => concretePath(route, validParams(route, seeds), prefixed, trailingSlash));
}

// ---------------------------------------------------------------------------------------
// Values valid and invalid for a schema.

function typesOf(schema: Schema): string[] {
  if (schema.type === undefined) return [];
  return typeof schema.type === 'string' ? [schema.type] : [...schema.type];
}

function jsonTypeOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function allows(types: string[], value: Json): boolean {
  const type = jsonTypeOf(value);
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

/** A field that holds the id of another resource: `agent_id` → agents. */
function referencedResource(field: string): string | undefined {
  const match = /^(\w+)_id$/.exec(field);
  return match ? `${match[1]}s` : undefined;
}

const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 -_.'), maxLength: 20 });

function validValue(field: string, schema: Schema, seeds: Seeds): fc.Arbitrary<Json> {
  const types = typesOf(schema).filter((type) => type !== 'null');
  const type = types[0];
  if (type === 'integer' || type === 'number') {
    const resource = referencedResource(field);
    if (resource) return fc.constant(seedFor(seeds, resource));
    return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1000) });
  }
  if (type === 'string') return word.map((text) => `v${text}`.slice(0, schema.maxLength ?? 200));
  if (type === 'boolean') return fc.boolean();
  if (type === 'object') return fc.dictionary(word, fc.oneof(fc.integer(), word, fc.boolean()), { maxKeys: 3 });
  if (type === 'array') return fc.constant([]);
  return fc.constant(null);
}

/** A body the schema accepts (references name existing rows). */
export function validBody(schema: Schema, seeds: Seeds): fc.Arbitrary<Record<string, Json>> {
  const properties = schema.properties ?? {};
  const model = Object.fromEntries(Object.entries(properties).map(([field, property]) => [field, validValue(field, property, seeds)]));
  const requiredKeys = [...(schema.required ?? [])];
  // A schema that wants more fields than it requires (an update: at least one) gets its first ones.
  const wanted = Object.keys(properties).slice(0, Math.max(requiredKeys.length, schema.minProperties ?? 0));
  return fc.record(model, { requiredKeys: [...new Set([...requiredKeys, ...(requiredKeys.length >= (schema.minProperties ?? 0) ? [] : wanted)])] });
}

const HUGE_STRING = 'x'.repeat(1024 * 1024);

/** Values of the wrong JSON type for `schema`, including numbers JSON.parse turns into ±Infinity. */
function wrongTypes(schema: Schema): fc.Arbitrary<Json> {
  const types = typesOf(schema);
  const candidates: Json[] = ['text', '', '5', 5, 0, -7, 1.5, true, false, null, [], [1, 'a'], {}, { nested: { value: 1 } }];
  const wrong = candidates.filter((value) => !allows(types, value));
  const infinities = [new RawJson('1e999'), new RawJson('-1e999')];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...wrong), weight: 3 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }).filter((value) => !allows(types, value)), weight: 2 },
    { arbitrary: fc.constantFrom(...infinities), weight: 1 },
  );
}

/** Values of the right type that break one of the schema's constraints. */
function brokenConstraints(schema: Schema): Array<{ why: string; value: fc.Arbitrary<Json> }> {
  const types = typesOf(schema);
  const broken: Array<{ why: string; value: fc.Arbitrary<Json> }> = [];
  if (types.includes('string')) {
    if ((schema.minLength ?? 0) >= 1) broken.push({ why: 'empty string', value: fc.constant('') });
    if (schema.maxLength !== undefined) {
      const max = schema.maxLength;
      broken.push({
        why: 'string too long',
        value: fc.oneof(
          { arbitrary: fc.integer({ min: max + 1, max: max + 100 }).map((n) => 'y'.repeat(n)), weight: 4 },
          { arbitrary: fc.constant(HUGE_STRING), weight: 1 },
        ),
      });
    }
    if (schema.pattern === '\\S') broken.push({ why: 'only whitespace', value: fc.constantFrom(' ', '\t\n ', '\u00a0\u2003', '\ufeff') });
  }
  if (types.includes('integer') || types.includes('number')) {
    if (schema.minimum !== undefined) {
      const min = schema.minimum;
      broken.push({ why: 'number below the minimum', value: fc.oneof(fc.integer({ min: -1000, max: min - 1 }), fc.constantFrom(min - 1, -(2 ** 31), -(2 ** 53), -Number.MAX_VALUE)) });
    }
    if (schema.maximum !== undefined) {
      const max = schema.maximum;
      broken.push({ why: 'number above the maximum', value: fc.oneof(fc.integer({ min: max + 1, max: max + 10_000 }), fc.constantFrom(2 ** 53, Number.MAX_VALUE)) });
    }
    if (types.includes('integer') && !types.includes('number')) {
      broken.push({ why: 'fractional number', value: fc.constantFrom(1.5, 0.5, 2.000001, 1e-7, -1.5) });
    }
  }
  return broken;
}

/** A valid body with exactly one thing wrong, per the schema. */
export function schemaBreakingBody(schema: Schema, seeds: Seeds): fc.Arbitrary<Labelled> {
  const properties = schema.properties ?? {};
  const required = [...(schema.required ?? [])];
  const base = validBody(schema, seeds);
  const options: Array<fc.Arbitrary<Labelled>> = [
    fc.oneof(fc.constantFrom<Json>([], 'text', 0, -1, 3.5, true, false, null), fc.jsonValue({ maxDepth: 2 }).filter((value) => jsonTypeOf(value) !== 'object'))
      .map((value) => ({ why: 'body not an object', value })),
  ];
  if (schema.additionalProperties === false) {
    const unknownName = fc.oneof(
      fc.constantFrom('id', 'created_at', 'updated_at', '__proto__', 'constructor', 'prototype', 'file_path', 'text_status', 'is_admin', ''),
      fc.string({ maxLength: 30 }),
    ).filter((name) => !(name in properties));
    options.push(fc.tuple(base, unknownName, fc.jsonValue({ maxDepth: 2 })).map(([body, name, value]) => ({ why: 'unknown field', value: withField(body, name, value) })));
  }
  for (const field of required) options.push(base.map((body) => ({ why: `missing ${field}`, value: withoutField(body, field) })));
  if ((schema.minProperties ?? 0) > 0 || required.length > 0) options.push(fc.constant({ why: 'empty object', value: {} }));
  for (const [field, property] of Object.entries(properties)) {
    options.push(fc.tuple(base, wrongTypes(property)).map(([body, value]) => ({ why: `${field} of the wrong type`, value: withField(body, field, value) })));
    for (const { why, value } of brokenConstraints(property)) {
      options.push(fc.tuple(base, value).map(([body, bad]) => ({ why: `${field}: ${why}`, value: withField(body, field, bad) })));
    }
  }
  return fc.oneof(...options);
}

/** Nesting far deeper than any client needs, wherever it can go in a body. */
export function deeplyNestedBody(schema: Schema, seeds: Seeds): fc.Arbitrary<Labelled> {
  const properties = schema.properties ?? {};
  const depth = fc.integer({ min: 10_000, max: 100_000 });
  const nesting = fc.tuple(depth, fc.boolean()).map(([levels, isArray]) => (isArray ? deepArrays(levels) : deepObjects(levels)));
  const base = validBody(schema, seeds);
  const options: Array<fc.Arbitrary<Labelled>> = [nesting.map((value) => ({ why: 'nested body', value }))];
  if (schema.additionalProperties === false) options.push(fc.tuple(base, nesting).map(([body, value]) => ({ why: 'nested unknown field', value: withField(body, 'nested', value) })));
  for (const [field, property] of Object.entries(properties)) {
    const isFreeForm = typesOf(property).includes('object') && property.properties === undefined;
    const nested = isFreeForm ? depth.map(deepObjects) : nesting;
    options.push(fc.tuple(base, nested).map(([body, value]) => ({ why: `nested ${field}${isFreeForm ? ' (a free-form object)' : ''}`, value: withField(body, field, value) })));
  }
  return fc.oneof(...options);
}

/** A valid body with one key written twice, each time with a valid value. */
export function duplicateKeyBody(schema: Schema, seeds: Seeds): fc.Arbitrary<Labelled> {
  const properties = schema.properties ?? {};
  return fc.tuple(validBody(schema, seeds), fc.nat(), fc.boolean()).chain(([body, index, repeatFirst]) => {
    // A body whose fields are all optional may come out empty: then any field is given twice.
    const keys = Object.keys(body).length ? Object.keys(body) : Object.keys(properties);
    const key = keys[index % keys.length];
    return fc.tuple(validValue(key, properties[key], seeds), validValue(key, properties[key], seeds)).map(([first, other]) => {
      const entries = entriesOf(key in body ? body : { ...body, [key]: first });
      const twice: [string, Json] = [key, other];
      return { why: `duplicate key ${key}`, value: new Entries(repeatFirst ? [twice, ...entries] : [...entries, twice]) };
    });
  });
}

// ---------------------------------------------------------------------------------------
// Requests.

const JSON_TYPE = { 'content-type': 'application/json' };

function jsonRequest(method: string, path: string, labelled: Labelled): BadRequest {
  return { why: labelled.why, method: method.toUpperCase(), path, headers: JSON_TYPE, body: Buffer.from(jsonText(labelled.value)) };
}

function bodyRoutes(routes: Route[]): Array<{ route: Route; method: string; schema: Schema }> {
  return routes.flatMap((route) => (route.body ? route.methods.map((method) => ({ route, method, schema: route.body as Schema })) : []));
}

/** JSON bodies that break their route's schema in one place. */
export function schemaBreakingRequests(routes: Route[], seeds: Seeds): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return bodyRoutes(routes).map(({ route, method, schema }) => ({
    label: `${method.toUpperCase()} ${route.path}`,
    arbitrary: fc.tuple(pathArbitrary(route, seeds), schemaBreakingBody(schema, seeds)).map(([path, body]) => jsonRequest(method, path, body)),
  }));
}

export function deeplyNestedRequests(routes: Route[], seeds: Seeds): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return bodyRoutes(routes).map(({ route, method, schema }) => ({
    label: `${method.toUpperCase()} ${route.path}`,
    arbitrary: fc.tuple(pathArbitrary(route, seeds), deeplyNestedBody(schema, seeds)).map(([path, body]) => jsonRequest(method, path, body)),
  }));
}

export function duplicateKeyRequests(routes: Route[], seeds: Seeds): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return bodyRoutes(routes).map(({ route, method, schema }) => ({
    label: `${method.toUpperCase()} ${route.path}`,
    arbitrary: fc.tuple(pathArbitrary(route, seeds), duplicateKeyBody(schema, seeds)).map(([path, body]) => jsonRequest(method, path, body)),
  }));
}

const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
const NOT_JSON_TYPES = [
  'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'application/octet-stream', 'application/jsonx', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=iso-8859-1',
];
// (A leading byte order mark is not among them: RFC 8259 section 8.1 lets parsers ignore it.)
const NON_STANDARD_JSON: Array<(text: string) => string> = [
  (text) => text.replace(/}$/, ',}'),
  (text) => text.replace(/^{/, '{/* comment */'),
  (text) => text.replaceAll('"', "'"),
  (text) => text.replace(/}$/, ',"n":NaN}'),
  (text) => text.replace(/}$/, ',"n":0x10}'),
  (text) => `${text}${text}`,
];
const MAX_JSON_BYTES = 10 * 1024 * 1024;

/** Valid bodies made bad as bytes: not UTF-8, cut short, not standard JSON, sent as another type, too large. */
export function unreadableBodyRequests(routes: Route[], seeds: Seeds): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return bodyRoutes(routes).map(({ route, method, schema }) => {
    const base = fc.tuple(pathArbitrary(route, seeds), validBody(schema, seeds)).map(([path, body]) => ({ path, text: jsonText(body) }));
    const request = (why: string, path: string, body: Buffer, headers: Record<string, string> = JSON_TYPE): BadRequest => ({ why, method: method.toUpperCase(), path, headers, body });
    return {
      label: `${method.toUpperCase()} ${route.path}`,
      arbitrary: fc.oneof(
        { weight: 4, arbitrary: fc.tuple(base, fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([{ path, text }, bytes, at]) => {
          // Inside a string value when there is one (a lenient decoder would accept the body), else anywhere.
          const inString = text.indexOf(':"');
          const position = inString >= 0 ? inString + 2 : 1 + (at % Math.max(1, text.length - 1));
          const bytesOf = Buffer.from(text);
          return request('invalid UTF-8', path, Buffer.concat([bytesOf.subarray(0, position), Buffer.from(bytes), bytesOf.subarray(position)]));
        }) },
        // Cut after at least one character: an empty body is no body, which a route whose
        // fields are all optional takes (a fork of every message).
        { weight: 3, arbitrary: fc.tuple(base, fc.nat()).map(([{ path, text }, at]) => request('truncated JSON', path, Buffer.from(text.slice(0, 1 + (at % Math.max(1, text.length - 1)))))) },
        { weight: 3, arbitrary: fc.tuple(base, fc.constantFrom(...NON_STANDARD_JSON)).filter(([{ text }, mangle]) => mangle(text) !== text).map(([{ path, text }, mangle]) => request('non-standard JSON', path, Buffer.from(mangle(text)))) },
        { weight: 3, arbitrary: fc.tuple(base, fc.constantFrom(...NOT_JSON_TYPES, '')).map(([{ path, text }, type]) => request(`sent as ${type || 'no content type'}`, path, Buffer.from(text), type ? { 'content-type': type } : {})) },
        { weight: 2, arbitrary: fc.tuple(base, fc.string({ maxLength: 200 })).map(([{ path }, text]) => request('garbage', path, Buffer.from(text.length ? text : '{'))) },
        { weight: 1, arbitrary: fc.tuple(base, fc.integer({ min: 1, max: 64 * 1024 })).map(([{ path, text }, extra]) => request('over 10 MiB', path, Buffer.concat([Buffer.from(text), Buffer.alloc(MAX_JSON_BYTES - text.length + extra, ' ')]))) },
      ),
    };
  });
}

// Path parameters that are not positive integers, as a client would put them in a URL.
const BAD_IDS = [
  '0', '-1', '1.5', '1e3', 'abc', '0x10', '+1', '01', '%201', '1%20', '%00', '%FF', '%C0%AF', '%E2%80%AE1', '..', '.', '%2E%2E', '..%2F..%2Fetc',
  '99999999999999999', '1'.repeat(300), '9'.repeat(5000), '%D9%A1', '%F0%9F%98%80', 'null', 'undefined', 'NaN', 'Infinity', '%5B%5D', '%7B%7D', 'true', '-0', '1;2', '1,2',
];
const POSITIVE_ID = /^[1-9]\d{0,15}$/;

function decodesToId(value: string): boolean {
  try {
    return POSITIVE_ID.test(decodeURIComponent(value));
  } catch {
    return false;
  }
}

/** Each route with path parameters, one parameter replaced by something that is not an id (the rest valid). */
export function badPathRequests(routes: Route[], seeds: Seeds): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return routes.flatMap((route) => {
    const params = [...route.path.matchAll(PARAM)].map(([, name]) => name);
    if (!params.length) return [];
    const badValue = fc.oneof(fc.constantFrom(...BAD_IDS), fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent)).filter((value) => !decodesToId(value));
    return route.methods.map((method) => ({
      label: `${method.toUpperCase()} ${route.path}`,
      arbitrary: fc.tuple(fc.constantFrom(...params), badValue, pathShape, route.body ? validBody(route.body as Schema, seeds) : fc.constant(undefined))
        .map(([param, value, shape, body]): BadRequest => ({
          why: `${param} = ${value.length > 30 ? `${value.slice(0, 30)}…` : value}`,
          method: method.toUpperCase(),
          path: concretePath(route, { ...validParams(route, seeds), [param]: value }, shape.prefixed, shape.trailingSlash),
          headers: body ? JSON_TYPE : {},
          body: body ? Buffer.from(JSON.stringify(body)) : undefined,
        })),
    }));
  });
}

/** Query values the schema refuses even after converting text to numbers. */
function badQueryValues(schema: Schema): fc.Arbitrary<{ why: string; values: string[] }> {
  const options: Array<fc.Arbitrary<{ why: string; values: string[] }>> = [
    fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })).map(([a, b]) => ({ why: 'given twice', values: [String(a), String(b)] })),
  ];
  if (typesOf(schema).includes('integer')) {
    options.push(
      fc.constantFrom('abc', '1.5', '0.5', '1e999', '-1e999', 'NaN', 'true', 'null', '%ZZ', '%', '%FF', '%00', '1%2C2', '%E2%80%AE5')
        .map((value) => ({ why: 'not an integer', values: [value] })),
      fc.integer({ min: 1, max: 8000 }).map((n) => ({ why: 'huge string', values: ['z'.repeat(n)] })),
    );
  }
  // Text parameters (a search, a sort order): too long, or not one of the values allowed.
  if (schema.maxLength !== undefined) {
    const max = schema.maxLength;
    options.push(fc.integer({ min: max + 1, max: max + 8000 }).map((n) => ({ why: 'longer than allowed', values: ['z'.repeat(n)] })));
  }
  if (schema.enum) {
    const allowed = schema.enum as unknown[];
    options.push(fc.constantFrom('zzz', 'NaN', '%', 'null', '-', '--id', 'id ', 'ID', '%FF', '1').filter((value) => !allowed.includes(value)).map((value) => ({ why: 'not an allowed value', values: [value] })));
  }
  if (schema.minimum !== undefined) {
    const min = schema.minimum;
    options.push(fc.oneof(fc.integer({ min: -100_000, max: min - 1 }), fc.constantFrom(-(2 ** 31), -(2 ** 53))).map((n) => ({ why: 'below the minimum', values: [String(n)] })));
  }
  if (schema.maximum !== undefined) {
    const max = schema.maximum;
    options.push(fc.oneof(fc.integer({ min: max + 1, max: max + 100_000 }), fc.constantFrom(2 ** 31, 2 ** 53)).map((n) => ({ why: 'above the maximum', values: [String(n)] })));
  }
  return fc.oneof(...options);
}

/** List routes with one query parameter out of its schema (others valid, plus ignored noise). */
export function badQueryRequests(routes: Route[], seeds: Seeds): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return routes.flatMap((route) => {
    const properties = (route.query as Schema | undefined)?.properties;
    if (!properties) return [];
    return route.methods.map((method) => ({
      label: `${method.toUpperCase()} ${route.path}`,
      arbitrary: fc.constantFrom(...Object.keys(properties)).chain((field) => fc.tuple(
        fc.constant(field),
        badQueryValues(properties[field]),
        pathArbitrary(route, seeds),
        fc.subarray(['__proto__=1', 'constructor=x', 'unknown=%FF', 'skip=', 'limit=']),
      )).map(([field, { why, values }, path, noise]): BadRequest => {
        // Raw values are sent as written (some are deliberately broken percent-encodings).
        const query = [...noise.filter((pair) => !pair.startsWith(`${field}=`)), ...values.map((value) => `${field}=${/%|^[\w.-]*$/.test(value) ? value : encodeURIComponent(value)}`)];
        return { why: `${field}: ${why}`, method: method.toUpperCase(), path: `${path}?${query.join('&')}`, headers: {} };
      }),
    }));
  });
}

/** Upload forms broken in one way: cut short, no file, two files, a refused type, bad fields, too large, not multipart. */
export function badUploadRequests(routes: Route[], seeds: Seeds, maxUploadBytes: number): Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }> {
  return routes.flatMap((route) => {
    if (!route.multipart) return [];
    const { fileField, fields } = route.multipart;
    const fieldSchemas = ((fields as Schema).properties ?? {}) as Record<string, Schema>;
    const validFields = fc.record(
      Object.fromEntries(Object.keys(fieldSchemas).map((name) => [name, fc.constant(String(seedFor(seeds, referencedResource(name) ?? name)))])),
      { requiredKeys: [] },
    );
    const file = (filename: string, data: Buffer | string = 'hello'): Part => ({ name: fileField, filename, data });
    const text = (fieldsValue: Record<string, string | undefined>): Part[] => Object.entries(fieldsValue).flatMap(([name, data]) => (data === undefined ? [] : [{ name, data }]));
    const build = (why: string, parts: Part[]) => ({ why, ...multipartBody(parts) });
    const badField = fc.constantFrom(...Object.keys(fieldSchemas)).chain((name) => fc.tuple(
      fc.constant(name),
      fc.constantFrom('abc', '0', '-1', '1.5', '1e999', '99999999999', ' ', 'null', '[1]', '1; DROP TABLE documents', 'z'.repeat(5000)),
    ));
    const form = fc.oneof(
      fc.tuple(validFields, fc.nat()).map(([values, at]) => {
        const whole = multipartBody([...text(values), file('notes.txt', 'x'.repeat(200))]);
        return { why: 'cut short', body: whole.body.subarray(0, at % (whole.body.length - 8)), contentType: whole.contentType };
      }),
      validFields.map((values) => build('no file', text(values))),
      validFields.map((values) => build('file sent as a text field', [...text(values), { name: fileField, data: 'no filename' }])),
      validFields.map((values) => build('two files', [...text(values), file('a.txt'), file('b.txt')])),
      fc.tuple(validFields, fc.constantFrom('evil.exe', 'page.html', 'image.svg', 'script.js', 'noextension', 'archive.tar.gz', 'notes.txt.exe', '.txt', '..', 'report.pdf.')).map(([values, name]) => build(`refused type ${name}`, [...text(values), file(name)])),
      fc.tuple(validFields, badField).map(([values, [name, value]]) => build(`${name} = ${value.slice(0, 20)}`, [...text({ ...values, [name]: value }), file('notes.txt')])),
      validFields.map((values) => build('file over the limit', [...text(values), file('big.txt', Buffer.alloc(maxUploadBytes + 1, 'a'))])),
      fc.constant(build('too many parts', [...Array.from({ length: 70 }, (_, i) => ({ name: `f${i}`, data: 'v' })), file('notes.txt')])),
      fc.constant(build('a text field over 64 KiB', [{ name: 'note', data: 'n'.repeat(70 * 1024) }, file('notes.txt')])),
    );
    const contentTypes = (contentType: string) => fc.oneof(
      { weight: 8, arbitrary: fc.constant({ why: '', type: contentType }) },
      { weight: 1, arbitrary: fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=wrong').map((type) => ({ why: ` with ${type}`, type })) },
      { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream').map((type) => ({ why: ` sent as ${type}`, type })) },
    );
    return route.methods.map((method) => ({
      label: `${method.toUpperCase()} ${route.path}`,
      arbitrary: fc.tuple(pathArbitrary(route, seeds), form).chain(([path, built]) => contentTypes(built.contentType).map(({ why, type }): BadRequest => ({
        why: `${built.why}${why}`, method: method.toUpperCase(), path, headers: { 'content-type': type }, body: 'body' in built ? built.body : Buffer.alloc(0),
      }))),
    }));
  });
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Every path of the table with each standard method it does not serve. */
export function unservedMethodRequests(routes: Route[], seeds: Seeds): BadRequest[] {
  const served = new Map<string, { route: Route; methods: Set<string> }>();
  for (const route of routes) {
    const entry = served.get(route.path) ?? { route, methods: new Set<string>() };
    for (const method of route.methods) entry.methods.add(method.toUpperCase());
    served.set(route.path, entry);
  }
  return [...served.values()].flatMap(({ route, methods }) => METHODS.filter((method) => !methods.has(method)).flatMap((method) => [true, false].map((prefixed) => ({
    why: `${method} ${route.path}`, method, path: concretePath(route, validParams(route, seeds), prefixed, true), headers: {},
  }))));
}
