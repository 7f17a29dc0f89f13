// The database itself: which backend, where, how far migrated, how much it holds, and
// whether every document row still has its file.
import fs from 'node:fs/promises';
import type { DanaConfig } from '../config.js';
import { describeDatabase } from '../config.js';
import { dialectOf } from '../db/dialects.js';
import { migrateToLatest, migrationState, type MigrationState } from '../db/migrate.js';
import type { ServiceDeps } from './support.js';

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
  kind: 'missing_file' | 'orphan_file' | 'integrity' | 'pending_migrations';
  detail: string;
}

export interface DatabaseCheck {
  ok: boolean;
  backend: 'sqlite' | 'postgres';
  location: string;
  documents_checked: number;
  problems: DatabaseProblem[];
}

export class DatabaseService {
  constructor(private readonly deps: ServiceDeps & { config: DanaConfig }) {}

  async status(): Promise<DatabaseStatus> {
    const { knex, config } = this.deps;
    const migrations = await migrationState(this.deps.sql);
    const counts: DatabaseStatus['counts'] = {};
    if (migrations.pending.length === 0) {
      for (const table of COUNTED_TABLES) {
        const row = await this.deps.sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total FROM ${table}`);
        counts[table] = Number(row?.total ?? 0);
      }
    }
    return { backend: dialectOf(knex), location: describeDatabase(config.database), upload_dir: config.uploadDir, migrations, counts };
  }

  /** Applies pending migrations; returns their names. */
  async migrate(): Promise<string[]> {
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

  /**
   * Connectivity, the database's own integrity check (SQLite), every document row's file,
   * and stored files no row points at.
   */
  async check(): Promise<DatabaseCheck> {
    const { knex, config, files } = this.deps;
    const problems: DatabaseProblem[] = [];
    await knex.raw('SELECT 1');
    const backend = dialectOf(knex);
    if (backend === 'sqlite') {
      const rows: Array<{ integrity_check: string }> = await knex.raw('PRAGMA integrity_check');
      for (const { integrity_check: message } of rows) if (message !== 'ok') problems.push({ kind: 'integrity', detail: message });
    }
    const { pending } = await migrationState(this.deps.sql);
    if (pending.length) {
      problems.push({ kind: 'pending_migrations', detail: `not applied yet: ${pending.join(', ')} (run dana db migrate)` });
      return { ok: false, backend, location: describeDatabase(config.database), documents_checked: 0, problems };
    }
    const documents = await this.deps.sql.all<{ id: number; file_path: string; original_filename: string }>(
      'SELECT id, file_path, original_filename FROM documents ORDER BY id',
    );
    const known = new Set<string>();
    for (const document of documents) {
      known.add(document.file_path);
      if (!(await files.exists(document.file_path))) {
        problems.push({ kind: 'missing_file', detail: `document ${document.id} (${document.original_filename}): ${document.file_path} is missing` });
      }
    }
    for (const stored of await files.storedFiles()) {
      if (!known.has(stored)) problems.push({ kind: 'orphan_file', detail: `${stored} belongs to no document` });
    }
    return { ok: problems.length === 0, backend, location: describeDatabase(config.database), documents_checked: documents.length, problems };
  }
}
