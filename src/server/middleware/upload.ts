// Multipart uploads: @koa/multer parses the form, and a storage engine hands the `file`
// part's stream to the documents service's one entry point, `receive`, which stages it
// (counted, limited), then commits it with the form fields once the form is complete. A
// refusal (type, size, disk) or a silent body is answered at once, before the body ends.
import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { Context } from 'koa';
import multer from '@koa/multer';
import { drainRequest } from './drain.js';
import { bodyIdleTimeoutOf, closeAfterAnswer, watchIdleBody } from './idle-body.js';
import { MultipartHeaderFilter, multipartBoundary } from './multipart-headers.js';
import {
  BadRequestError, CancelledError, PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaTypeError, ValidationError,
} from '../../core/errors.js';
import type { Document } from '../../core/schemas.js';
import type { DocumentService } from '../../core/services/documents.js';

const UPLOAD_FIELD = 'file';

/** What multer gives a storage engine of each file part (its StorageEngine contract). */
interface FilePart {
  fieldname: string;
  originalname: string;
  stream: Readable;
}

type Form = Record<string, unknown>;

/**
 * One request's storage engine: the file goes to `receive`, which awaits the form fields
 * (they may follow the file) until the form is complete or has failed.
 */
class ReceivingStorage {
  /** The document being received, once the file part has begun. */
  received?: Promise<Document>;
  private completeForm!: (form: Form) => void;
  private failForm!: (error: unknown) => void;
  private readonly form = new Promise<Form>((resolve, reject) => {
    this.completeForm = resolve;
    this.failForm = reject;
  });

  constructor(
    private readonly documents: DocumentService,
    private readonly refuse: (error: unknown) => void,
  ) {
    this.form.catch(() => undefined);
  }

  _handleFile(_req: IncomingMessage, file: FilePart, done: (error?: unknown) => void): void {
    let isDone = false;
    const finish = (error?: unknown) => {
      if (!isDone) done(error);
      isDone = true;
    };
    this.received = this.documents.receive(file.stream, { clientName: file.originalname, fields: this.form });
    // multer goes on with the rest of the form once the file's bytes are read; the document
    // itself is committed when the form is complete.
    file.stream.once('end', () => finish());
    this.received.catch((error: unknown) => {
      // Once the bytes are in, a failure reaches the caller through `received`.
      if (isDone) return;
      file.stream.resume();
      this.refuse(error);
      finish(error);
    });
  }

  /**
   * multer gives up on the form after the file was read: the staged file is dropped before
   * multer answers, so a refused form leaves nothing behind.
   */
  _removeFile(_req: IncomingMessage, _file: FilePart, done: (error: null) => void): void {
    this.fail(new CancelledError('The upload form failed'));
    void this.received?.catch(() => undefined).then(() => done(null));
  }

  complete(form: Form): void {
    this.completeForm(form);
  }

  fail(error: unknown): void {
    this.failForm(error);
  }
}

// Busboy's own limits: exactly one file, under `file` (another one is LIMIT_UNEXPECTED_FILE),
// and a small form around it.
const LIMITS = { files: 1, fields: 50, fieldSize: 64 * 1024, parts: 60, headerPairs: 100 };

/** Parses an upload form and returns the document once it is stored and its text indexed or failed. */
export async function receiveUpload(ctx: Context, documents: DocumentService): Promise<Document> {
  if (!ctx.is('multipart/form-data')) {
    throw new UnsupportedMediaTypeError('Unsupported Media Type: upload the file as multipart/form-data');
  }
  let refuse!: (error: unknown) => void;
  const refused = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  // A refusal after the form is parsed reaches the caller through `received` instead.
  refused.catch(() => undefined);
  const storage = new ReceivingStorage(documents, refuse);
  let filter: MultipartHeaderFilter | undefined;
  const idleTimeoutMs = bodyIdleTimeoutOf(ctx);
  const options = {
    storage,
    // Browsers send UTF-8 file names without saying so; busboy would read them as Latin-1.
    defParamCharset: 'utf8',
    limits: LIMITS,
    streamHandler(req: IncomingMessage, busboy: Writable) {
      const boundary = multipartBoundary(req.headers['content-type']);
      filter = boundary ? new MultipartHeaderFilter(boundary) : undefined;
      if (filter) req.pipe(filter).pipe(busboy);
      else req.pipe(busboy);
      watchIdleBody(req, idleTimeoutMs, refuse);
    },
  };
  // @types/koa__multer lags multer 2: its File has no `stream`, its options no `streamHandler`.
  const parse = multer(options as unknown as multer.Options).single(UPLOAD_FIELD);
  try {
    await Promise.race([parse(ctx as never, async () => undefined), refused]);
  } catch (error) {
    storage.fail(error);
    // multer drains what is left of the body itself; the filter must not feed it on.
    if (filter) detach(filter);
    if (error instanceof RequestTimeoutError) {
      closeAfterAnswer(ctx);
    } else if (!ctx.req.readableEnded) {
      // Refused before the body ended: answer now, read (and drop) the rest within limits,
      // then close the connection.
      ctx.set('Connection', 'close');
      void drainRequest(ctx.req);
    }
    throw uploadError(error);
  }
  if (!storage.received) throw ValidationError.field(['form', UPLOAD_FIELD], 'Field required', 'missing');
  storage.complete((ctx.request as { body?: Form }).body ?? {});
  return storage.received;
}

function detach(filter: MultipartHeaderFilter): void {
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
  if (code === 'LIMIT_UNEXPECTED_FILE' || code === 'LIMIT_FILE_COUNT') {
    return ValidationError.field(['form', UPLOAD_FIELD], `Send one file per request, in the field "${UPLOAD_FIELD}"`, 'too_long');
  }
  if (typeof code === 'string' && code.startsWith('LIMIT_')) return new PayloadTooLargeError(`Upload form too large: ${message}`);
  if (/Unexpected end of (form|multipart)|Malformed|boundary|Part terminated/i.test(message ?? '')) {
    return new BadRequestError('Malformed multipart body');
  }
  return error;
}
