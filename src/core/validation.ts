// Validation of every input against the schemas of schemas.ts. JSON bodies are checked
// strictly (no coercion); query strings and form fields arrive as text and are converted.
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { ValidationError, type Loc, type ValidationIssue } from './errors.js';

type Schema = { $id: string; properties?: Record<string, unknown> };

const require = createRequire(import.meta.url);

// Two compilers: one that never changes its input, one that converts text to numbers and
// fills defaults. Checking each schema against the JSON Schema meta-schema would cost every
// CLI start ~20 ms; test/core/schemas.test.ts checks them all once instead. ajv (CommonJS,
// some sixty files) is loaded on the first validation: a server starts answering without it.
type Compiler = 'strict' | 'text';
let compilers: Record<Compiler, Ajv> | undefined;

function compilerOf(kind: Compiler): Ajv {
  if (!compilers) {
    const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
    compilers = {
      strict: new AjvClass({ allErrors: true, strict: true, coerceTypes: false, validateSchema: false }),
      text: new AjvClass({ allErrors: true, strict: true, coerceTypes: true, useDefaults: true, validateSchema: false }),
    };
    for (const ajv of Object.values(compilers)) ajv.addFormat('date-time', true);
  }
  return compilers[kind];
}

const compiled = new Map<string, ValidateFunction>();

function validator(kind: Compiler, schema: Schema): ValidateFunction {
  const key = `${kind}:${schema.$id}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = compilerOf(kind).compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

/** How deep a JSON body may nest; Dana's own shapes need three or four levels. */
export const MAX_JSON_DEPTH = 64;

/** Validates a JSON body as sent: `"name": 5` is an error, never a "5". */
export function validateBody<T>(schema: Schema, data: unknown, where: Loc = ['body']): T {
  const shapeIssue = jsonShapeIssue(data, where);
  if (shapeIssue) throw new ValidationError([shapeIssue]);
  const validate = validator('strict', schema);
  if (!validate(data)) throw new ValidationError(toIssues(validate.errors ?? [], where));
  return data as T;
}

/**
 * Validates text parameters (a query string, form fields, CLI values): known keys only,
 * empty values treated as absent, numbers converted, defaults filled in.
 */
export function validateText<T>(schema: Schema, data: Record<string, unknown>, where: Loc = ['query']): T {
  const known: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const [key, property] of Object.entries((schema.properties ?? {}) as Record<string, { type?: unknown }>)) {
    const value = data[key];
    if (value === undefined || value === '') continue;
    // Only plain digits make an integer: "1e999" or "0x10" would convert to something else.
    if (property.type === 'integer' && typeof value === 'string' && !/^[+-]?\d{1,15}$/.test(value.trim())) {
      issues.push({ loc: [...where, key], msg: 'Input should be a valid integer', type: 'int_parsing' });
      continue;
    }
    const issue = typeof value === 'string' ? textIssue(value, [...where, key]) : undefined;
    if (issue) issues.push(issue);
    else known[key] = value;
  }
  if (issues.length) throw new ValidationError(issues);
  const validate = validator('text', schema);
  if (!validate(known)) throw new ValidationError(toIssues(validate.errors ?? [], where));
  return known as T;
}

function toIssues(errors: ErrorObject[], where: Loc): ValidationIssue[] {
  return errors.map((error) => {
    const loc: Loc = [...where, ...error.instancePath.split('/').slice(1).map(decodePointer)];
    const { msg, type, field } = describe(error);
    return { loc: field === undefined ? loc : [...loc, field], msg, type };
  });
}

function decodePointer(segment: string): string | number {
  const text = segment.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^\d+$/.test(text) ? Number(text) : text;
}

const TYPE_NAMES: Record<string, string> = { integer: 'int', number: 'number', string: 'string', object: 'object', boolean: 'bool', array: 'list', null: 'null' };

// Messages and types follow FastAPI/pydantic so clients of the Python Dana read them unchanged.
function describe(error: ErrorObject): { msg: string; type: string; field?: string } {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { msg: 'Field required', type: 'missing', field: String(p.missingProperty) };
    case 'additionalProperties':
      return { msg: 'Extra inputs are not permitted', type: 'extra_forbidden', field: String(p.additionalProperty) };
    case 'type': {
      const types = String(p.type).split(',');
      const first = TYPE_NAMES[types[0]] ?? types[0];
      return { msg: `Input should be a valid ${types.join(' or ')}`, type: `${first}_type` };
    }
    case 'minLength':
      return p.limit === 1
        ? { msg: 'String should have at least 1 character', type: 'string_too_short' }
        : { msg: `String should have at least ${p.limit} characters`, type: 'string_too_short' };
    case 'maxLength':
      return { msg: `String should have at most ${p.limit} characters`, type: 'string_too_long' };
    case 'minimum':
      return { msg: `Input should be greater than or equal to ${p.limit}`, type: 'greater_than_equal' };
    case 'maximum':
      return { msg: `Input should be less than or equal to ${p.limit}`, type: 'less_than_equal' };
    case 'pattern':
      return p.pattern === '\\S'
        ? { msg: 'String should contain a non-whitespace character', type: 'string_pattern_mismatch' }
        : { msg: `String should match pattern '${p.pattern}'`, type: 'string_pattern_mismatch' };
    case 'maxItems':
      return { msg: `List should have at most ${p.limit} items`, type: 'too_long' };
    case 'uniqueItems':
      return { msg: `List should not repeat items (items ${p.j} and ${p.i} are the same)`, type: 'list_unique' };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((value) => `'${String(value)}'`);
      return { msg: `Input should be ${allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}` : allowed[0]}`, type: 'enum' };
    }
    case 'minProperties':
      return { msg: 'At least one field must be given', type: 'missing' };
    default:
      return { msg: error.message ?? 'Invalid value', type: error.keyword };
  }
}

/**
 * Text both backends store alike: PostgreSQL refuses NUL in text, and an unpaired UTF-16
 * surrogate has no UTF-8 spelling (SQLite would store U+FFFD, PostgreSQL refuse it).
 */
export function textIssue(text: string, loc: Loc): ValidationIssue | undefined {
  if (text.includes('\u0000')) return { loc, msg: 'String should not contain NUL characters', type: 'string_nul' };
  if (!text.isWellFormed()) return { loc, msg: 'String should not contain unpaired surrogates', type: 'string_unicode' };
  return undefined;
}

/**
 * What JSON Schema cannot say: a body nested past MAX_JSON_DEPTH (code walking it would
 * run out of stack), holding a number JSON.parse turned into Infinity ("1e999"), or text
 * one of the backends cannot store as given (see textIssue).
 */
function jsonShapeIssue(value: unknown, loc: Loc, depth = 0): ValidationIssue | undefined {
  if (typeof value === 'string') return textIssue(value, loc);
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : { loc, msg: 'Input should be a finite number', type: 'finite_number' };
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_JSON_DEPTH) return { loc, msg: `JSON should not nest deeper than ${MAX_JSON_DEPTH} levels`, type: 'too_deep' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const issue = jsonShapeIssue(value[i], [...loc, i], depth + 1);
      if (issue) return issue;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const issue = jsonShapeIssue(item, [...loc, key], depth + 1);
    if (issue) return issue;
  }
  return undefined;
}
