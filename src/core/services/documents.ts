// Documents: files in the upload store, metadata in the database. An upload is staged to a
// temp file first, then placed and recorded in one unit of work: on any failure neither
// the file nor the row remains.
import type { Readable } from 'node:stream';
import { ValidationError } from '../errors.js';
import { classifyFile, sanitizeFilename, type FileKind, type StagedFile } from '../files.js';
import { validateBody, validateText } from '../validation.js';
import {
  DocumentListQuerySchema, DocumentUpdateSchema, DocumentUploadFormSchema,
  type Deleted, type Document, type DocumentListQuery, type DocumentUpdate, type DocumentUploadForm, type Page,
} from '../schemas.js';
import type { DocumentModel } from '../db/models.js';
import { assertReferenceExists, deleted, findOr404, pageOf, type Db, type ServiceDeps } from './support.js';

export interface DocumentDownload {
  document: Document;
  stream: Readable;
  size: number;
}

export class DocumentService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(query: Record<string, unknown> = {}): Promise<Page<Document>> {
    const { skip, limit, topic_id, agent_id } = validateText<DocumentListQuery>(DocumentListQuerySchema, query);
    const rows = this.deps.models.Document.query();
    if (topic_id !== undefined) rows.where('topic_id', topic_id);
    if (agent_id !== undefined) rows.where('agent_id', agent_id);
    return pageOf(rows, { skip, limit }, (document) => document.toApi());
  }

  async get(id: number): Promise<Document> {
    return (await this.find(id)).toApi();
  }

  /** Decides from the client's file name whether it may be stored, before any byte is read. */
  classify(clientName: string): FileKind {
    return classifyFile(clientName);
  }

  /** Receives the bytes into temp storage (413 past the limit, nothing left behind). */
  async stage(source: Readable, kind: FileKind): Promise<StagedFile> {
    return this.deps.files.stage(source, kind);
  }

  /** Drops a staged file that will not become a document. */
  async discardStaged(staged: StagedFile): Promise<void> {
    await this.deps.files.discard(staged);
  }

  /**
   * Validates the form fields (`topic_id`, `agent_id`, as text or numbers; others ignored)
   * and makes a staged file a document. The staged file is consumed either way.
   */
  async commit(staged: StagedFile, form: Record<string, unknown> = {}): Promise<Document> {
    const { files, knex, models } = this.deps;
    try {
      const fields = validateText<DocumentUploadForm>(DocumentUploadFormSchema, form, ['form']);
      const document = await knex.transaction(async (trx) => {
        await this.assertReferences(trx, fields, 'form');
        await files.place(staged);
        return models.Document.query(trx).insert({
          filename: staged.filename,
          original_filename: staged.originalFilename,
          file_path: staged.relativePath,
          file_size: staged.size,
          mime_type: staged.mimeType,
          topic_id: fields.topic_id ?? null,
          agent_id: fields.agent_id ?? null,
        });
      });
      await files.settle(staged);
      return document.toApi();
    } catch (error) {
      await files.discard(staged);
      throw error;
    }
  }

  /**
   * The whole upload, for callers that have the fields before the bytes (the CLI): bad
   * fields fail before any byte is copied; `commit` checks them again in its transaction.
   */
  async upload(source: Readable, clientName: string, form: Record<string, unknown> = {}): Promise<Document> {
    const kind = this.classify(clientName);
    const fields = validateText<DocumentUploadForm>(DocumentUploadFormSchema, form, ['form']);
    await this.assertReferences(this.deps.knex, fields, 'form');
    return this.commit(await this.stage(source, kind), form);
  }

  async update(id: number, input: unknown): Promise<Document> {
    const changes = validateBody<DocumentUpdate>(DocumentUpdateSchema, input);
    if (changes.original_filename !== undefined) {
      changes.original_filename = sanitizeFilename(changes.original_filename);
      if (!changes.original_filename) throw ValidationError.field(['body', 'original_filename'], 'Must be a file name', 'value_error');
    }
    return this.deps.knex.transaction(async (trx) => {
      const document = await this.find(id, trx);
      await this.assertReferences(trx, changes, 'body');
      return (await document.$query(trx).patchAndFetch(changes)).toApi();
    });
  }

  /** Removes the row, then the file (a leftover file is invisible; a row without one is not). */
  async delete(id: number): Promise<Deleted> {
    const document = await this.deps.knex.transaction(async (trx) => {
      const found = await this.find(id, trx);
      await found.$query(trx).delete();
      return found;
    });
    await this.deps.files.remove(document.file_path);
    return deleted('Document');
  }

  async download(id: number): Promise<DocumentDownload> {
    const document = await this.find(id);
    const { stream, size } = await this.deps.files.open(document.file_path);
    return { document: document.toApi(), stream, size };
  }

  private find(id: number, db?: Db): Promise<DocumentModel> {
    return findOr404(this.deps.models.Document.query(db).findById(id), 'Document');
  }

  private async assertReferences(db: Db, fields: { topic_id?: number | null; agent_id?: number | null }, where: 'form' | 'body') {
    await assertReferenceExists(db, 'topics', fields.topic_id, [where, 'topic_id'], 'Topic');
    await assertReferenceExists(db, 'agents', fields.agent_id, [where, 'agent_id'], 'Agent');
  }
}
