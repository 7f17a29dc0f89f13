// The database itself: which backend, where, how far migrated, how much it holds, and
// whether every document row still has its file (a regular one, inside the upload folder).
import fs from 'node:fs/promises';
import type { DanaConfig } from '../config.js';
import { describeDatabase } from '../config.js';
import { databaseErrorCode, dialectOf } from '../db/dialects.js';
import { migrateToLatest, migrationState, type MigrationOutcome, type MigrationState } from '../db/migrate.js';
import type { ServiceDeps } from './support.js';
import type { TextStatus } from '../db/models.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const COUNTED_TABLES = ['agents', 'topics', 'documents', 'conversations', 'messages', 'passages'] as const;

export interface DatabaseStatus {
  backend: 'sqlite' | 'postgres';
  /** The file, or the URL with its password masked. */
  location: string;
  upload_dir: string;
  migrations: MigrationState;
  /** Rows per table; absent until the schema exists. */
  counts: Partial<Record<(typeof COUNTED_TABLES)[number], number>>;
}

export interface DatabaseProblem {
  kind: 'missing_file' | 'not_regular_file' | 'orphan_file' | 'integrity' | 'pending_migrations';
  detail: string;
}

/** A document stored whole whose text is not searchable: a fact about the file, not a fault of the database. */
export interface DocumentWithoutText {
  document_id: number;
  original_filename: string;
  text_status: 'failed' | 'pending';
  text_error: string | null;
}

export interface DatabaseCheck {
  ok: boolean;
  backend: 'sqlite' | 'postgres';
  location: string;
  documents_checked: number;
  problems: DatabaseProblem[];
  documents_without_text: DocumentWithoutText[];
}

export class DatabaseService {
  constructor(private readonly deps: ServiceDeps & { config: DanaConfig }) {}

  async status(): Promise<DatabaseStatus> {
    const { config } = this.deps;
    // Reading the migrations table swallows errors (no table yet = nothing applied), so an
    // unreachable server would pass for an empty database: reach it first.
    await this.deps.sql.first('SELECT 1 AS ok');
    const migrations = await migrationState(this.deps.sql);
    const counts: DatabaseStatus['counts'] = {};
    if (migrations.pending.length === 0) {
      for (const table of COUNTED_TABLES) {
        const row = await this.deps.sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total FROM ${table}`);
        counts[table] = Number(row?.total ?? 0);
      }
    }
    // From the settings, not knex: a status needs no more than the reads above.
    return { backend: config.database.client, location: describeDatabase(config.database), upload_dir: config.uploadDir, migrations, counts };
  }

  /** Applies pending migrations: their names, and what they changed that users should know of. */
  async migrate(): Promise<MigrationOutcome> {
    return migrateToLatest(this.deps.knex);
  }

  /**
   * A check cheap enough to poll: one query, and on SQLite the file's header, which a
   * connection serving from its page cache would not re-read.
   */
  async ping(): Promise<void> {
    await this.deps.sql.first('SELECT 1 AS ok');
    const { database } = this.deps.config;
    if (database.client !== 'sqlite' || database.filename === ':memory:') return;
    const file = await fs.open(database.filename, 'r');
    try {
      const { buffer } = await file.read(Buffer.alloc(SQLITE_MAGIC.length), 0, SQLITE_MAGIC.length, 0);
      if (!buffer.equals(SQLITE_MAGIC)) throw Object.assign(new Error('The database file is not a SQLite database'), { code: 'SQLITE_NOTADB' });
    } finally {
      await file.close();
    }
  }

  /** How many documents are indexed, failed and pending, whichever process stored them. */
  async documentsByTextStatus(): Promise<Record<TextStatus, number>> {
    const rows = await this.deps.sql.all<{ text_status: TextStatus; total: number | string }>(
      'SELECT text_status, COUNT(*) AS total FROM documents GROUP BY text_status',
    );
    const counts: Record<TextStatus, number> = { indexed: 0, failed: 0, pending: 0 };
    for (const row of rows) counts[row.text_status] = Number(row.total);
    return counts;
  }

  /** knex's connections (SQLite: the one writer) in use, idle, and waited for. */
  poolUse(): { used: number; free: number; pending: number } {
    const pool = this.deps.knex.client.pool as { numUsed(): number; numFree(): number; numPendingAcquires(): number } | undefined;
    return pool ? { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() } : { used: 0, free: 0, pending: 0 };
  }

  /**
   * Connectivity, the database's own integrity check (SQLite), every document row's file,
   * and stored files no row points at; documents without searchable text are listed apart.
   */
  async check(): Promise<DatabaseCheck> {
    const { knex, config, files } = this.deps;
    const backend = dialectOf(knex);
    const report: DatabaseCheck = { ok: false, backend, location: describeDatabase(config.database), documents_checked: 0, problems: [], documents_without_text: [] };
    const { problems } = report;
    try {
      await knex.raw('SELECT 1');
      if (backend === 'sqlite') {
        const rows: Array<{ integrity_check: string }> = await knex.raw('PRAGMA integrity_check');
        for (const { integrity_check: message } of rows) if (message !== 'ok') problems.push({ kind: 'integrity', detail: message.replace(/\s*\n\s*/g, ' ') });
      }
    } catch (error) {
      // A damaged file can fail the check itself: that is the finding, not a crash.
      if (!isCorruption(error)) throw error;
      problems.push({ kind: 'integrity', detail: corruptionDetail(error) });
      return report;
    }
    const { pending } = await migrationState(this.deps.sql);
    if (pending.length) {
      problems.push({ kind: 'pending_migrations', detail: `not applied yet: ${pending.join(', ')} (run dana db migrate)` });
      return report;
    }
    const documents = await this.deps.sql.all<{ id: number; file_path: string; original_filename: string; text_status: string; text_error: string | null }>(
      'SELECT id, file_path, original_filename, text_status, text_error FROM documents ORDER BY id',
    );
    const known = new Set<string>();
    for (const document of documents) {
      known.add(document.file_path);
      const found = await files.inspect(document.file_path);
      const name = `document ${document.id} (${document.original_filename}): ${document.file_path}`;
      if (found === 'missing') problems.push({ kind: 'missing_file', detail: `${name} is missing` });
      if (found === 'not_regular_file') problems.push({ kind: 'not_regular_file', detail: `${name} is not a regular file inside the upload folder (a symlink?)` });
      if (document.text_status === 'failed' || document.text_status === 'pending') {
        report.documents_without_text.push({
          document_id: document.id,
          original_filename: document.original_filename,
          text_status: document.text_status,
          text_error: document.text_error,
        });
      }
    }
    for (const stored of await files.storedFiles()) {
      if (!known.has(stored)) problems.push({ kind: 'orphan_file', detail: `${stored} belongs to no document` });
    }
    return { ...report, ok: problems.length === 0, documents_checked: documents.length };
  }
}

const CORRUPTION_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** SQLite's own words for a damaged file (any extended code of CORRUPT or NOTADB). */
export function isCorruption(error: unknown): boolean {
  const code = databaseErrorCode(error) ?? '';
  return [...CORRUPTION_CODES].some((known) => code === known || code.startsWith(`${known}_`));
}

export function corruptionDetail(error: unknown): string {
  return `the database file is damaged: ${(error as Error).message}`;
}
