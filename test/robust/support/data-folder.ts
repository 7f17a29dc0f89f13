// What a Dana data folder holds, read the way an auditor would: the SQLite file opened
// read-only beside the running processes, and the upload folder walked on disk.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { filesUnder } from '../../helpers/temp.js';

type Row = Record<string, unknown>;

/** Runs `read` on a read-only connection to `<home>/local.db`. */
export function readDatabase<T>(home: string, read: (db: Database.Database) => T): T {
  const db = new Database(path.join(home, 'local.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    return read(db);
  } finally {
    db.close();
  }
}

export function selectAll<T = Row>(home: string, sql: string, ...params: unknown[]): T[] {
  return readDatabase(home, (db) => db.prepare(sql).all(...params) as T[]);
}

/** `PRAGMA integrity_check` and `PRAGMA foreign_key_check`: ["ok"] and [] when sound. */
export function checkDatabase(home: string): { integrity: string[]; foreignKeyViolations: Row[] } {
  return readDatabase(home, (db) => ({
    integrity: (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check),
    foreignKeyViolations: db.pragma('foreign_key_check') as Row[],
  }));
}

/**
 * The same checks on a copy of the database file and its write-ahead log, for a database
 * left by a killed process: a read-only connection cannot run the WAL recovery it may need
 * (SQLITE_READONLY_RECOVERY), and the copy leaves the original untouched for the next start.
 */
export function checkDatabaseCopy(home: string, scratch: string): { integrity: string[]; foreignKeyViolations: Row[] } {
  for (const suffix of ['', '-wal']) {
    const file = path.join(home, `local.db${suffix}`);
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(scratch, `local.db${suffix}`));
  }
  const db = new Database(path.join(scratch, 'local.db'), { fileMustExist: true });
  try {
    return {
      integrity: (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check),
      foreignKeyViolations: db.pragma('foreign_key_check') as Row[],
    };
  } finally {
    db.close();
  }
}

/** The user tables (no bookkeeping, no full-text shadow tables). */
export function userTables(home: string): string[] {
  return selectAll<{ name: string }>(
    home,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'knex_%' AND name NOT LIKE '%_fts%' ORDER BY name",
  ).map((row) => row.name);
}

export interface Snapshot {
  tables: Record<string, string[]>;
  /** Every file under the upload folder, temp area included. */
  files: string[];
}

/** Every row of every user table (in a stable order: some tables have no rowid), and every file under uploads/, for before/after comparisons. */
export function snapshot(home: string): Snapshot {
  const tables = readDatabase(home, (db) => {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'knex_%' AND name NOT LIKE '%_fts%'").all() as Array<{ name: string }>).map((row) => row.name);
    return Object.fromEntries(names.map((name) => [name, (db.prepare(`SELECT * FROM "${name}"`).all() as Row[]).map((row) => JSON.stringify(row)).sort()]));
  });
  return { tables, files: filesUnder(path.join(home, 'uploads')) };
}

/** What changed between two snapshots, one phrase per table or folder ("" when nothing did). */
export function describeChanges(before: Snapshot, after: Snapshot): string {
  const changes: string[] = [];
  for (const table of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    const old = new Set(before.tables[table] ?? []);
    const now = new Set(after.tables[table] ?? []);
    const added = [...now].filter((row) => !old.has(row));
    const removed = [...old].filter((row) => !now.has(row));
    if (added.length || removed.length) {
      changes.push(`${table}: ${added.length} rows added or changed, ${removed.length} removed or changed (e.g. ${(added[0] ?? removed[0]).slice(0, 160)})`);
    }
  }
  const oldFiles = new Set(before.files);
  const newFiles = after.files.filter((file) => !oldFiles.has(file));
  const goneFiles = before.files.filter((file) => !after.files.includes(file));
  if (newFiles.length) changes.push(`uploads: ${newFiles.length} new files (${newFiles.slice(0, 3).join(', ')})`);
  if (goneFiles.length) changes.push(`uploads: ${goneFiles.length} files gone (${goneFiles.slice(0, 3).join(', ')})`);
  return changes.join('; ');
}

export interface DocumentRow {
  id: number;
  filename: string;
  original_filename: string;
  file_path: string;
  file_size: number;
  mime_type: string;
  topic_id: number | null;
  agent_id: number | null;
}

export interface UploadAudit {
  documents: DocumentRow[];
  /** Files under YYYY/MM/DD. */
  stored: string[];
  /** Rows whose file is missing or has another size. */
  orphanRows: Array<DocumentRow & { problem: string }>;
  /** Stored files no row names. */
  orphanFiles: string[];
  /** Files anywhere under uploads/ that are neither stored files nor in the temp area. */
  strayFiles: string[];
  /** Files in the temp area (uploads/.tmp). */
  tempFiles: string[];
  /** Staging folders in the temp area (each named <host>~<pid>~<id>). */
  tempDirs: string[];
}

const STORED_PATH = /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[a-z]+$/;

/** Rows against files: every row has its file (with its size), every stored file has its row. */
export function auditUploads(home: string): UploadAudit {
  const uploads = path.join(home, 'uploads');
  const documents = selectAll<DocumentRow>(home, 'SELECT id, filename, original_filename, file_path, file_size, mime_type, topic_id, agent_id FROM documents ORDER BY id');
  const all = filesUnder(uploads);
  const tempFiles = all.filter((file) => file.startsWith(`.tmp${path.sep}`));
  const stored = all.filter((file) => STORED_PATH.test(file));
  const strayFiles = all.filter((file) => !file.startsWith(`.tmp${path.sep}`) && !STORED_PATH.test(file));
  const named = new Set(documents.map((row) => row.file_path));
  const orphanRows: UploadAudit['orphanRows'] = [];
  for (const row of documents) {
    const file = path.join(uploads, row.file_path);
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined) orphanRows.push({ ...row, problem: 'file missing' });
    else if (size !== Number(row.file_size)) orphanRows.push({ ...row, problem: `file has ${size} bytes, row says ${row.file_size}` });
  }
  const tempRoot = path.join(uploads, '.tmp');
  const tempDirs = fs.existsSync(tempRoot) ? fs.readdirSync(tempRoot) : [];
  return { documents, stored, orphanRows, orphanFiles: stored.filter((file) => !named.has(file)), strayFiles, tempFiles, tempDirs };
}

export function sha256(bytes: Buffer | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** The sha256 of a stored file, or undefined when it is missing. */
export function storedHash(home: string, filePath: string): string | undefined {
  const file = path.join(home, 'uploads', filePath);
  return fs.existsSync(file) ? sha256(fs.readFileSync(file)) : undefined;
}
