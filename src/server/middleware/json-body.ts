// Reads a JSON request body: application/json only (415 otherwise), at most 10 MiB (413),
// valid UTF-8 and valid JSON (400 "Malformed JSON body").
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { drainRequest } from './drain.js';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../core/errors.js';
import { duplicateKey } from './duplicate-keys.js';

export const MAX_JSON_BYTES = 10 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(ctx: Context): Promise<unknown> {
  if (!hasBody(ctx)) return undefined;
  const charset = ctx.request.charset;
  if (!ctx.is('application/json', '+json') || (charset && !/^utf-?8$/i.test(charset))) {
    await drainRequest(ctx.req);
    throw new UnsupportedMediaTypeError('Unsupported Media Type: send the body as application/json (UTF-8)');
  }
  let bytes: Buffer;
  try {
    bytes = await getRawBody(ctx.req, { length: ctx.get('content-length') || undefined, limit: MAX_JSON_BYTES });
  } catch (error) {
    if ((error as { type?: string }).type === 'entity.too.large') {
      await drainRequest(ctx.req);
      throw new PayloadTooLargeError('Request body too large. Maximum size is 10MB');
    }
    throw error;
  }
  let text: string;
  let body: unknown;
  try {
    text = utf8.decode(bytes);
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError('Malformed JSON body');
  }
  const repeated = duplicateKey(text);
  if (repeated) throw ValidationError.field(['body', ...repeated], 'Duplicate key: give each field once', 'duplicate_key');
  return body;
}

function hasBody(ctx: Context): boolean {
  return Boolean(ctx.get('transfer-encoding')) || Number(ctx.get('content-length') || 0) > 0;
}
