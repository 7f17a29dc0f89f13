// Reads a JSON request body: application/json only (415 otherwise), at most 10 MiB (413),
// valid UTF-8 and valid JSON (400 "Malformed JSON body"), arriving without long silences (408).
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { drainRequest } from './drain.js';
import { BadRequestError, PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaTypeError, ValidationError } from '../../core/errors.js';
import { duplicateKey } from './duplicate-keys.js';
import { bodyIdleTimeoutOf, closeAfterAnswer, watchIdleBody } from './idle-body.js';

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
  const reading = getRawBody(ctx.req, { length: ctx.get('content-length') || undefined, limit: MAX_JSON_BYTES });
  let stopWatching!: () => void;
  const silence = new Promise<never>((_, reject) => {
    stopWatching = watchIdleBody(ctx.req, bodyIdleTimeoutOf(ctx), reject);
  });
  try {
    bytes = await Promise.race([reading, silence]);
  } catch (error) {
    if (error instanceof RequestTimeoutError) {
      reading.catch(() => undefined);
      closeAfterAnswer(ctx);
      throw error;
    }
    if ((error as { type?: string }).type === 'entity.too.large') {
      await drainRequest(ctx.req);
      throw new PayloadTooLargeError('Request body too large. Maximum size is 10MB');
    }
    throw error;
  } finally {
    stopWatching();
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
