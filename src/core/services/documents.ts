// Documents: files in the upload store, metadata in the database. An upload comes in through
// `receive` only: staged to a temp file, then placed and recorded in one unit of work (on
// any failure neither the file nor the row remains), then its text is read outside any
// transaction.
import type { Knex } from 'knex';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DanaConfig } from '../config.js';
import { InsufficientStorageError, NotFoundError, toDanaError, ValidationError } from '../errors.js';
import { ALLOWED_EXTENSIONS, classifyFile, MIME_TYPES, sanitizeFilename } from '../files.js';
import { validateBody, validateText } from '../validation.js';
import {
  DocumentListQuerySchema, DocumentUpdateSchema, DocumentUploadFormSchema,
  type Deleted, type Document, type DocumentListQuery, type DocumentUpdate, type DocumentUploadForm, type Page,
} from '../schemas.js';
import type { DocumentModel, TextStatus } from '../db/models.js';
import { scopeClause, type SearchScope } from '../search/index.js';
import { TextError, TextExtractor } from '../text/extract.js';
import { TABLES } from '../db/tables.js';
import { assertReferenceExists, deleted, findOr404,  readById, readPage, readRow, type Db, type ServiceDeps } from './support.js';

export interface ReindexResult {
  id: number;
  original_filename: string;
  status: TextStatus;
  error: string | null;
  passages: number;
}

type TextOutcome = Omit<ReindexResult, 'id' | 'original_filename'>;

/** What indexing needs of a document row. */
interface StoredFile {
  id: number;
  file_path: string;
  original_filename: string;
}

function storedFile(row: Record<string, unknown>): StoredFile {
  return { id: Number(row.id), file_path: row.file_path as string, original_filename: row.original_filename as string };
}

/** What comes with an upload's bytes. */
export interface UploadMeta {
  /** The client's name for the file: its extension decides whether it may be stored. */
  clientName: string;
  /**
   * `topic_id` and `agent_id` (text or numbers; other fields are ignored), or a promise of
   * them when they may arrive after the file (a multipart form).
   */
  fields?: Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The size in bytes, when known before sending (a local file). */
  size?: number;
}

export interface DocumentDownload {
  document: Document;
  stream: Readable;
  size: number;
}

export class DocumentService {
  private readonly text: TextExtractor;

  constructor(private readonly deps: ServiceDeps & { config: DanaConfig; onTextIndexed?: (documentId: number) => void }) {
    this.text = new TextExtractor({ memoryMb: deps.config.extractMemoryMb, timeoutS: deps.config.extractTimeoutS });
  }

  async list(query: Record<string, unknown> = {}): Promise<Page<Document>> {
    const { topic_id, agent_id, sha256, ...listing } = validateText<DocumentListQuery>(DocumentListQuerySchema, query);
    return readPage(this.deps.sql, TABLES.documents, { topic_id, agent_id, sha256: sha256?.toLowerCase() }, listing);
  }

  async get(id: number): Promise<Document> {
    return readById(this.deps.sql, TABLES.documents, id);
  }

  /**
   * Checks what can be known before any byte is sent: the file type (415), the size when
   * known (413), and the form fields and the rows they name (422). `dana docs upload`
   * checks every file this way before storing the first.
   */
  async preflight(meta: UploadMeta): Promise<void> {
    classifyFile(meta.clientName);
    if (meta.size !== undefined && meta.size > this.deps.files.maxUploadBytes) throw this.deps.files.tooLarge();
    if (meta.fields && !isPromise(meta.fields)) await this.validForm(this.deps.knex, meta.fields);
  }

  /**
   * The one way a document comes in: the bytes stream into the store's staging (refused
   * past the size limit, with nothing left behind), then the file and its row are committed
   * together, then its text is read; the document is returned once its text is indexed or
   * has failed. Fields known beforehand are checked before a byte is read; fields that may
   * follow the file in a form (a promise) are awaited once the bytes are in. On any failure
   * neither the file nor the row remains.
   */
  async receive(source: Readable, meta: UploadMeta): Promise<Document> {
    const { files, knex, models } = this.deps;
    source.on('error', () => undefined);
    // Fields that fail while the bytes stream in are dealt with once they are awaited.
    if (isPromise(meta.fields)) meta.fields.catch(() => undefined);
    await this.preflight({ ...meta, size: undefined });
    const staged = await files.stage(source, classifyFile(meta.clientName));
    let document: DocumentModel;
    try {
      const form = await meta.fields;
      document = await knex.transaction(async (trx) => {
        const fields = await this.validForm(trx, form);
        await files.place(staged);
        return models.Document.query(trx).insert({
          filename: staged.filename,
          original_filename: staged.originalFilename,
          file_path: staged.relativePath,
          file_size: staged.size,
          mime_type: staged.mimeType,
          sha256: staged.sha256,
          topic_id: fields.topic_id ?? null,
          agent_id: fields.agent_id ?? null,
          text_status: 'pending',
        });
      });
    } catch (error) {
      await files.discard(staged);
      throw error;
    }
    // Stored: now its text. The staged link stays until the text is done, which tells another
    // process starting meanwhile that this file is being worked on (see recover). Should
    // this be cut short (a crash), the document stays "pending" until the next start.
    try {
      const { status, error } = await this.indexText(document.id, document.file_path as string);
      return { ...document.toApi(), text_status: status, text_error: error };
    } catch {
      return document.toApi();
    } finally {
      await files.settle(staged);
    }
  }

  /** `topic_id` and `agent_id` as text or numbers, naming rows that exist; other fields are ignored. */
  private async validForm(db: Db, form: Record<string, unknown> = {}): Promise<DocumentUploadForm> {
    const fields = validateText<DocumentUploadForm>(DocumentUploadFormSchema, form, ['form']);
    await this.assertReferences(db, fields, 'form');
    return fields;
  }

  async update(id: number, input: unknown): Promise<Document> {
    const changes = validateBody<DocumentUpdate>(DocumentUpdateSchema, input);
    if (changes.original_filename !== undefined) {
      changes.original_filename = sanitizeFilename(changes.original_filename);
      if (!changes.original_filename) throw ValidationError.field(['body', 'original_filename'], 'Must be a file name', 'value_error');
      if (!MIME_TYPES[path.extname(changes.original_filename).toLowerCase()]) {
        throw ValidationError.field(['body', 'original_filename'], `Must end in an allowed extension: ${ALLOWED_EXTENSIONS.join(', ')}`, 'value_error');
      }
    }
    return this.deps.knex.transaction(async (trx) => {
      const document = await this.find(id, trx);
      await this.assertReferences(trx, changes, 'body');
      return document.patchRow(changes, trx);
    });
  }

  /**
   * Reads the text of documents again and rebuilds their passages: those named, or all.
   * `onProgress` hears of each document as it is done.
   */
  async reindex(ids?: number[], onProgress?: (done: number, total: number) => void): Promise<ReindexResult[]> {
    const documents = ids?.length
      ? await Promise.all(ids.map(async (id) => storedFile(await readRow(this.deps.sql, TABLES.documents, { id }))))
      : (await this.deps.sql.all('SELECT id, file_path, original_filename FROM documents ORDER BY id')).map(storedFile);
    const results: ReindexResult[] = [];
    for (const [i, document] of documents.entries()) {
      results.push(await this.indexOne(document));
      onProgress?.(i + 1, documents.length);
    }
    return results;
  }

  /**
   * Finishes what crashed processes left undone, at start. A staged file whose row was
   * committed is only a leftover temp link; one whose row never was is removed from its
   * final place too. Documents still "pending" get their text, and rows stored before
   * digests existed get their sha256. A file that another process still links from its
   * staging folder is being indexed by that process, and is left to it.
   */
  /** Counts every document's terms again from its stored passages (a restore brings passages only). */
  async recountTerms(db: Knex | Knex.Transaction): Promise<void> {
    await this.deps.index.recountTerms(db);
  }

  async recover(): Promise<void> {
    const abandoned = await this.deps.files.abandonedStaging();
    for (const { relativePath } of abandoned.files) {
      const row = await this.deps.sql.first('SELECT id FROM documents WHERE file_path = ?', [relativePath]);
      if (!row) await this.deps.files.remove(relativePath);
    }
    await this.deps.files.removeDirs(abandoned.dirs);
    const rows = await this.deps.sql.all<{ id: number; file_path: string; original_filename: string; text_status: TextStatus; sha256: string | null }>(
      `SELECT id, file_path, original_filename, text_status, sha256 FROM documents WHERE text_status = 'pending' OR sha256 IS NULL ORDER BY id`,
    );
    for (const row of rows) {
      const absolute = this.storedPath(row.file_path);
      const stats = absolute ? await fsp.stat(absolute).catch(() => undefined) : undefined;
      if (stats && stats.nlink > 1) continue;
      try {
        if (row.sha256 === null && stats?.isFile()) await this.deps.knex('documents').where('id', row.id).update({ sha256: await digestOf(absolute as string) });
        if (row.text_status === 'pending') await this.indexText(Number(row.id), row.file_path);
      } catch {
        // One document (deleted meanwhile, say) must not stop every command from starting;
        // it stays as it was, for the next start.
      }
    }
  }

  /** Stops the parser processes (files being parsed stay "pending"). */
  async close(): Promise<void> {
    await this.text.close();
  }

  /** How many documents a scope holds, and the names of the first few. */
  async library(scope: SearchScope): Promise<{ documentCount: number; names: string[] }> {
    const { where, values } = scopeClause(scope);
    const counted = await this.deps.sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total FROM documents WHERE ${where}`, values);
    const names = await this.deps.sql.all<{ original_filename: string }>(
      `SELECT original_filename FROM documents WHERE ${where} ORDER BY id LIMIT 5`,
      values,
    );
    return { documentCount: Number(counted?.total ?? 0), names: names.map((row) => row.original_filename) };
  }

  /** The documents of a scope whose text could not be read: how many, and the first few names. */
  async unreadable(scope: SearchScope): Promise<{ count: number; names: string[] }> {
    const { where, values } = scopeClause(scope);
    const rows = await this.deps.sql.all<{ original_filename: string }>(
      `SELECT original_filename FROM documents WHERE ${where} AND text_status = 'failed' ORDER BY id LIMIT 6`,
      values,
    );
    const count = rows.length <= 5 ? rows.length : Number((await this.deps.sql.first<{ total: number | string }>(
      `SELECT COUNT(*) AS total FROM documents WHERE ${where} AND text_status = 'failed'`,
      values,
    ))?.total ?? 0);
    return { count, names: rows.slice(0, 5).map((row) => row.original_filename) };
  }

  private async indexOne(document: StoredFile): Promise<ReindexResult> {
    const outcome = await this.indexText(document.id, document.file_path);
    return { id: document.id, original_filename: document.original_filename, ...outcome };
  }

  /**
   * Reads a stored file's text and replaces its passages, then records how it went. A file
   * whose text cannot be read keeps its row, marked "failed" with the reason, and no
   * passages. No transaction is open while the text is read: passages are written in
   * batches of their own, and the status last. Errors other than the file's own (a closed
   * parser pool, the database) are thrown, leaving the document as it was.
   */
  private async indexText(id: number, relativePath: string): Promise<TextOutcome> {
    const { knex, index } = this.deps;
    let passages: number;
    try {
      // Only a regular file inside the upload folder is read: a planted symlink never is.
      const absolute = await this.deps.files.regularPath(relativePath).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (!absolute) throw new TextError('The stored file is missing.');
      const extension = path.extname(relativePath).toLowerCase();
      const text = await this.text.open(absolute, extension);
      passages = await index.index(knex, id, text, extension === '.csv' ? 'csv' : 'prose');
    } catch (error) {
      if (!(error instanceof TextError)) throw error;
      const reason = error.message;
      await knex.transaction(async (trx) => {
        await index.remove(trx, id);
        await trx('documents').where('id', id).update({ text_status: 'failed', text_error: reason });
      });
      return { status: 'failed', error: reason, passages: 0 };
    }
    await knex('documents').where('id', id).update({ text_status: 'indexed', text_error: null });
    // Passages may now want vectors: embedding happens in the background, never in this call.
    this.deps.onTextIndexed?.(id);
    return { status: 'indexed', error: null, passages };
  }

  /** The absolute path of a stored file, or undefined when the row names a place outside the upload folder. */
  private storedPath(relativePath: string): string | undefined {
    try {
      return this.deps.files.resolve(relativePath);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * Removes the row, then the file. The file is linked into the staging folder first, so a
   * crash between the two leaves nothing behind once the next process starts.
   */
  async delete(id: number): Promise<Deleted> {
    const { files, models } = this.deps;
    const document = await this.find(id);
    const removal = await files.prepareRemoval(document.file_path as string);
    const deleteRow = async () => {
      if (!(await models.Document.query().deleteById(id))) throw new NotFoundError('Document not found');
    };
    try {
      await deleteRow();
    } catch (error) {
      if (!(toDanaError(error) instanceof InsufficientStorageError)) {
        await files.abandonRemoval(removal);
        throw error;
      }
      // A full disk can refuse even the row's delete (SQLite appends it to its WAL): the file
      // goes first to free its space, then the row. Should that fail too, the row stays
      // without its file (downloads say so, db check reports it) until a delete succeeds.
      await files.finishRemoval(removal);
      await deleteRow();
      return deleted('Document');
    }
    await files.finishRemoval(removal);
    return deleted('Document');
  }

  async download(id: number): Promise<DocumentDownload> {
    const row = await readRow(this.deps.sql, TABLES.documents, { id });
    const { stream, size } = await this.deps.files.open(row.file_path as string);
    return { document: TABLES.documents.toApi(row), stream, size };
  }

  private find(id: number, db?: Db): Promise<DocumentModel> {
    return findOr404(this.deps.models.Document.query(db).findById(id), TABLES.documents.label);
  }

  private async assertReferences(db: Db, fields: { topic_id?: number | null; agent_id?: number | null }, where: 'form' | 'body') {
    await assertReferenceExists(db, TABLES.topics, fields.topic_id, [where, 'topic_id']);
    await assertReferenceExists(db, TABLES.agents, fields.agent_id, [where, 'agent_id']);
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

async function digestOf(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(filePath), hash);
  return hash.digest('hex');
}
