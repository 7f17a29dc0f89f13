// Multipart uploads: @koa/multer parses the form and a storage engine streams each file
// straight into the core's file store (counted, limited, in a temp folder). The allowed
// type is decided from the file name before a byte is written.
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Context, Next } from 'koa';
import { drainRequest } from './drain.js';
import { bodyIdleTimeoutOf, closeAfterAnswer, watchIdleBody } from './idle-body.js';
import { collectWhileStreaming } from '../../core/memory.js';
import { MultipartHeaderFilter, multipartBoundary } from './multipart-headers.js';
import multer from '@koa/multer';
import type { Request } from 'express';
import { BadRequestError, CancelledError, PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaTypeError } from '../../core/errors.js';
import type { StagedFile } from '../../core/files.js';
import type { DocumentService } from '../../core/services/documents.js';

/** The file field of a parsed upload, with what the storage engine did with it. */
export interface ReceivedFile {
  fieldname: string;
  staged?: StagedFile;
}

const UPLOAD_FIELD = 'file';

// Implements multer's StorageEngine contract (its typings are too narrow for the extra info).
class StagingStorage {
  constructor(private readonly documents: DocumentService) {}

  _handleFile(req: Request, file: Express.Multer.File, done: (error?: unknown, info?: Partial<ReceivedFile>) => void): void {
    if (file.fieldname !== UPLOAD_FIELD) {
      // Files under other names are not ours to keep: drain them and move on.
      file.stream.resume();
      file.stream.once('end', () => done(null, {}));
      return;
    }
    let kind;
    try {
      kind = this.documents.classify(file.originalname);
    } catch (error) {
      file.stream.resume();
      refuseEarly(req, error);
      done(error);
      return;
    }
    // The store reads a copy of the stream: when it refuses the file (too large) it cleans
    // up first, and only then does multer hear of it, through the callback.
    const copy = new PassThrough();
    // The store's pipeline reports the error; this listener only keeps an error that arrives
    // before the pipeline is attached from being an uncaught 'error' event.
    copy.on('error', () => undefined);
    file.stream.once('error', (error) => copy.destroy(error));
    file.stream.pipe(copy);
    // Listening on the piped source (already flowing), never on `copy`: a second reader of
    // `copy` would take chunks before the store attaches.
    collectWhileStreaming(file.stream);
    this.documents.stage(copy, kind).then(
      (staged) => done(null, { staged }),
      (error) => {
        file.stream.unpipe(copy);
        file.stream.resume();
        refuseEarly(req, error);
        done(error);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File & ReceivedFile, done: (error: unknown) => void): void {
    if (!file.staged) return done(null);
    this.documents.discardStaged(file.staged).then(() => done(null), done);
  }
}

export function uploadParser(documents: DocumentService) {
  const parse = multer({
    storage: new StagingStorage(documents) as unknown as multer.StorageEngine,
    // Browsers send UTF-8 file names without saying so; busboy would read them as Latin-1.
    defParamCharset: 'utf8',
    limits: { files: 10, fields: 50, fieldSize: 64 * 1024, parts: 60, headerPairs: 100 },
    streamHandler: feedThroughHeaderFilter,
  } as multer.Options).any();

  return async function parseUpload(ctx: Context, next: Next): Promise<void> {
    if (!ctx.is('multipart/form-data')) {
      throw new UnsupportedMediaTypeError('Unsupported Media Type: upload the file as multipart/form-data');
    }
    let parsed = false;
    idleTimeouts.set(ctx.req, bodyIdleTimeoutOf(ctx));
    const refused = new Promise<never>((_, reject) => refusals.set(ctx.req, reject));
    const parsing = parse(ctx as never, async () => {
      parsed = true;
      refusals.delete(ctx.req);
      detachFilter(ctx.req);
      await next();
    });
    try {
      await Promise.race([parsing, refused]);
    } catch (error) {
      refusals.delete(ctx.req);
      detachFilter(ctx.req);
      if (parsed) throw error;
      // Refused before the body ended: answer now, read (and drop) the rest within limits,
      // then close the connection.
      parsing.catch(() => undefined);
      if (error instanceof RequestTimeoutError) {
        closeAfterAnswer(ctx);
      } else if (!ctx.req.readableEnded) {
        ctx.set('Connection', 'close');
        void drainRequest(ctx.req);
      }
      throw uploadError(error);
    }
  };
}

const refusals = new WeakMap<IncomingMessage, (error: unknown) => void>();

/** The file was refused (type, size): the request can be answered without waiting for its end. */
function refuseEarly(req: IncomingMessage, error: unknown): void {
  refusals.get(req)?.(error);
  refusals.delete(req);
}

const filters = new WeakMap<IncomingMessage, MultipartHeaderFilter>();
const idleTimeouts = new WeakMap<IncomingMessage, number>();

/**
 * multer's hook for feeding busboy: the body passes through the header filter first. A body
 * that falls silent is refused (408) like a file that is too large.
 */
function feedThroughHeaderFilter(req: IncomingMessage, busboy: NodeJS.WritableStream): void {
  const boundary = multipartBoundary(req.headers['content-type']);
  if (!boundary) {
    req.pipe(busboy);
  } else {
    const filter = new MultipartHeaderFilter(boundary);
    filters.set(req, filter);
    req.pipe(filter).pipe(busboy);
  }
  const timeoutMs = idleTimeouts.get(req);
  if (timeoutMs) watchIdleBody(req, timeoutMs, (error) => refuseEarly(req, error));
}

/** Once multer is done, whatever is left of the body is drained by multer, not parsed. */
function detachFilter(req: IncomingMessage): void {
  const filter = filters.get(req);
  if (!filter) return;
  filters.delete(req);
  filter.unpipe();
  filter.on('error', () => undefined);
  filter.resume();
}

/** Multer and busboy errors in the words of the contract. */
function uploadError(error: unknown): unknown {
  const { code, message } = error as { code?: string; message?: string };
  if (/^Request (aborted|closed)$/.test(message ?? '') || code === 'ECONNRESET') {
    return new CancelledError('The client went away during the upload');
  }
  if (code === 'LIMIT_FILE_SIZE') return new PayloadTooLargeError(message ?? 'File too large');
  if (typeof code === 'string' && code.startsWith('LIMIT_')) return new PayloadTooLargeError(`Upload form too large: ${message}`);
  if (/Unexpected end of (form|multipart)|Malformed|boundary|Part terminated/i.test(message ?? '')) {
    return new BadRequestError('Malformed multipart body');
  }
  return error;
}

/** The staged upload of the `file` field; any other staged file is discarded. */
export function receivedFiles(ctx: Context): ReceivedFile[] {
  return ((ctx as unknown as { files?: ReceivedFile[] }).files ?? []).filter((file) => file.fieldname === UPLOAD_FIELD);
}
