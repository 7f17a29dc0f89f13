// Backup and restore: one .tar.gz that does not depend on the backend. Every row of every
// table as JSON lines (timestamps ISO, booleans true/false, numbers numbers), every stored
// file, and a manifest with counts and each file's SHA-256. The rows are one consistent
// snapshot taken while servers keep writing: a read transaction on a connection of its
// own on SQLite (WAL keeps its view fixed), one REPEATABLE READ transaction on PostgreSQL.
// Each document's file is hard-linked inside that snapshot, so a document deleted a moment
// later still has its bytes in the archive.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { DanaContext } from './context.js';
import { ConflictError, ValidationError } from './errors.js';
import { MIGRATIONS } from './db/migrations.js';
import { VERSION } from './version.js';

const require = createRequire(import.meta.url);

export const BACKUP_FORMAT = 'dana-backup';
export const BACKUP_VERSION = 1;

/**
 * What a backup holds, parents before children. Providers are configuration (names, URLs
 * and the names of key variables, never keys), so they travel. API tokens travel too: only
 * their SHA-256 is stored, which opens nothing by itself, and a server moved to PostgreSQL
 * keeps accepting the tokens its clients already use (revoke them after a restore if the
 * archive may have been seen by others).
 */
export const BACKUP_TABLES = ['agents', 'topics', 'providers', 'api_tokens', 'documents', 'passages', 'conversations', 'messages'] as const;
type TableName = (typeof BACKUP_TABLES)[number];

type Kind = 'integer' | 'boolean' | 'timestamp' | 'text';
type Columns = Array<{ name: string; kind: Kind }>;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  created_at: string;
  dana_version: string;
  source_backend: 'sqlite' | 'postgres';
  migrations: string[];
  tables: Record<string, { rows: number; path: string; sha256: string }>;
  files: Array<{ path: string; size: number; sha256: string }>;
}

export interface BackupSummary {
  path: string;
  bytes: number;
  rows: Record<string, number>;
  files: number;
  file_bytes: number;
}

export type Progress = (stage: string, done: number, total: number) => void;

const PAGE = 1000;
const INSERT_BATCH = 250;

// ---------------------------------------------------------------------------------------
// Backup

/** Writes the archive to `target` (through a temp name, renamed when complete). */
export async function createBackup(context: DanaContext, target: string, progress: Progress = () => undefined): Promise<BackupSummary> {
  const archive = path.resolve(target);
  return context.files.withTempDir(async (staging) => {
    await fsp.mkdir(path.join(staging, 'tables'));
    await fsp.mkdir(path.join(staging, 'files'));
    const manifest = await snapshot(context, staging, progress);
    await fsp.writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const tar = await import('tar');
    const partial = `${archive}.${process.pid}.part`;
    const totalBytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
    let written = 0;
    try {
      const pack = tar.create(
        {
          gzip: true, cwd: staging, portable: true, noDirRecurse: false,
          onWriteEntry: (entry) => {
            if (entry.type === 'File' && entry.path.startsWith('files/')) {
              written += entry.stat?.size ?? 0;
              progress('files', written, totalBytes);
            }
          },
        },
        ['manifest.json', 'tables', 'files'],
      );
      await pipeline(pack, fs.createWriteStream(partial, { mode: 0o600 }));
      await fsp.rename(partial, archive);
    } catch (error) {
      await fsp.rm(partial, { force: true });
      throw error;
    }
    const rows = Object.fromEntries(Object.entries(manifest.tables).map(([name, table]) => [name, table.rows]));
    return { path: archive, bytes: (await fsp.stat(archive)).size, rows, files: manifest.files.length, file_bytes: totalBytes };
  });
}

/** Reads every table inside one snapshot into `staging`, linking each document's file beside. */
async function snapshot(context: DanaContext, staging: string, progress: Progress): Promise<BackupManifest> {
  const { database } = context.config;
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created_at: new Date().toISOString(),
    dana_version: VERSION,
    source_backend: database.client,
    migrations: [],
    tables: {},
    files: [],
  };
  const readAll = async (reader: SnapshotReader) => {
    manifest.migrations = (await reader.rows('SELECT name FROM knex_migrations ORDER BY id')).map((row) => String(row.name));
    const kept = new Set<number>();
    for (const table of BACKUP_TABLES) {
      const columns = await reader.columns(table);
      const file = path.join(staging, 'tables', `${table}.jsonl`);
      const out = fs.createWriteStream(file);
      const hash = createHash('sha256');
      let count = 0;
      const write = async (line: string) => {
        hash.update(line);
        if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      };
      for await (const raw of reader.iterate(table, columns)) {
        const row = normalize(raw, columns);
        if (table === 'documents') {
          const file = await linkStoredFile(context, staging, String(row.file_path));
          // Deleted between the snapshot and now: as if deleted just before it.
          if (!file) continue;
          manifest.files.push(file);
          kept.add(Number(row.id));
          progress('snapshot', manifest.files.length, 0);
        }
        if (table === 'passages' && !kept.has(Number(row.document_id))) continue;
        await write(`${JSON.stringify(row)}\n`);
        count++;
      }
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      manifest.tables[table] = { rows: count, path: `tables/${table}.jsonl`, sha256: hash.digest('hex') };
    }
  };
  if (database.client === 'sqlite') await withSqliteSnapshot(database.filename, readAll);
  else await context.knex.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await readAll(postgresReader(trx));
  });
  return manifest;
}

/** A document's file linked (or copied, across filesystems) into the staging folder, with its digest. */
async function linkStoredFile(context: DanaContext, staging: string, relativePath: string): Promise<BackupManifest['files'][number] | undefined> {
  let source: string;
  try {
    source = await context.files.regularPath(relativePath);
  } catch {
    return undefined;
  }
  const copy = path.join(staging, 'files', relativePath);
  await fsp.mkdir(path.dirname(copy), { recursive: true });
  try {
    await fsp.link(source, copy);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code !== 'EXDEV' && code !== 'EPERM') throw error;
    await fsp.copyFile(source, copy);
  }
  const { size, sha256 } = await digestOf(copy);
  return { path: relativePath, size, sha256 };
}

async function digestOf(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

interface SnapshotReader {
  columns(table: string): Promise<Columns>;
  iterate(table: string, columns: Columns): AsyncIterable<Record<string, unknown>>;
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
}

interface SqliteSnapshotConnection {
  pragma(source: string): unknown;
  exec(sql: string): void;
  prepare(sql: string): { all(...bindings: unknown[]): unknown[]; iterate(...bindings: unknown[]): IterableIterator<unknown> };
  close(): void;
}

/**
 * One read transaction on a connection of its own: under WAL it sees the database as it was
 * at its first read, whatever servers commit meanwhile, and blocks none of them.
 */
async function withSqliteSnapshot(filename: string, use: (reader: SnapshotReader) => Promise<void>): Promise<void> {
  const Database = require('better-sqlite3') as new (filename: string, options: { readonly: boolean; fileMustExist: boolean }) => SqliteSnapshotConnection;
  const connection = new Database(filename, { readonly: true, fileMustExist: true });
  try {
    connection.pragma('busy_timeout = 10000');
    connection.exec('BEGIN');
    await use({
      columns: async (table) =>
        (connection.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; type: string }>).map((column) => ({ name: column.name, kind: kindOf(column.type) })),
      async *iterate(table, columns) {
        yield* connection.prepare(`SELECT ${columns.map((column) => column.name).join(', ')} FROM ${table} ORDER BY id`).iterate() as IterableIterator<Record<string, unknown>>;
      },
      rows: async (sql) => connection.prepare(sql).all() as Array<Record<string, unknown>>,
    });
    connection.exec('COMMIT');
  } finally {
    connection.close();
  }
}

function postgresReader(trx: Knex.Transaction): SnapshotReader {
  const rows = async (sql: string, bindings: unknown[] = []) => ((await trx.raw(sql, bindings as Knex.RawBinding[])) as { rows: Array<Record<string, unknown>> }).rows;
  return {
    rows: (sql) => rows(sql),
    // Generated columns (the tsvectors) are derived data: the target makes its own.
    columns: async (table) =>
      (await rows(
        `SELECT column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position`,
        [table],
      )).map((column) => ({ name: String(column.column_name), kind: kindOf(String(column.data_type)) })),
    async *iterate(table, columns) {
      let after = 0;
      for (;;) {
        const page = await rows(`SELECT ${columns.map((column) => column.name).join(', ')} FROM ${table} WHERE id > ? ORDER BY id LIMIT ${PAGE}`, [after]);
        if (!page.length) return;
        yield* page;
        after = Number(page[page.length - 1].id);
      }
    },
  };
}

/** A column's kind from its declared type on either backend. */
function kindOf(type: string): Kind {
  const lower = type.toLowerCase();
  if (lower.includes('bool')) return 'boolean';
  if (lower.includes('int')) return 'integer';
  if (lower.includes('timestamp') || lower.includes('datetime')) return 'timestamp';
  return 'text';
}

/** A row as the archive holds it, whichever backend it came from. */
function normalize(row: Record<string, unknown>, columns: Columns): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, kind } of columns) {
    const value = row[name];
    if (value === null || value === undefined) out[name] = null;
    else if (kind === 'boolean') out[name] = value === true || value === 1 || value === '1' || value === 't' || value === 'true';
    else if (kind === 'integer') out[name] = Number(value);
    else if (kind === 'timestamp') out[name] = value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
    else out[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Restore

export interface RestoreSummary {
  rows: Record<string, number>;
  files: number;
  file_bytes: number;
  replaced: boolean;
}

/**
 * Fills this context's database and upload folder from an archive. Everything is checked
 * first (format, migrations, each table's and file's SHA-256); then the rows go in inside
 * one transaction and the files are moved into place before it commits, so a restore that
 * fails leaves the target as it was. A target holding data is refused (ConflictError)
 * unless `force`, which replaces its contents.
 */
export async function restoreBackup(context: DanaContext, source: string, options: { force?: boolean; progress?: Progress } = {}): Promise<RestoreSummary> {
  const progress = options.progress ?? (() => undefined);
  const archive = path.resolve(source);
  if (!fs.existsSync(archive)) throw ValidationError.field(['args', 'file'], `${source} does not exist`, 'file_error');
  const existing = await contentsOf(context);
  if (existing.length && !options.force) {
    throw new ConflictError(`The target is not empty (${existing.join(', ')}): restore into an empty data folder or database, or add --force to replace its contents`);
  }
  return context.files.withTempDir(async (staging) => {
    const tar = await import('tar');
    progress('reading', 0, 0);
    let digests: Map<string, { size: number; sha256: string }>;
    try {
      digests = await unpack(tar, archive, staging);
    } catch (error) {
      throw damaged(`${source} is not a readable .tar.gz (${(error as Error).message})`);
    }
    const manifest = await readManifest(staging, source);
    verify(digests, manifest);
    const summary = await load(context, staging, manifest, Boolean(options.force), progress);
    return { ...summary, replaced: existing.length > 0 };
  });
}

function damaged(detail: string): ValidationError {
  return ValidationError.field(['args', 'file'], detail, 'backup_damaged');
}

/** What the target already holds, e.g. ["3 agents", "2 stored files"]; empty when it holds nothing. */
async function contentsOf(context: DanaContext): Promise<string[]> {
  const found: string[] = [];
  for (const table of BACKUP_TABLES) {
    const row = await context.knex(table).count({ total: '*' }).first();
    const total = Number(row?.total ?? 0);
    if (total) found.push(`${total} ${table.replace('_', ' ')}`);
  }
  const stored = (await context.files.storedFiles()).length;
  if (stored) found.push(`${stored} stored file${stored === 1 ? '' : 's'}`);
  return found;
}

async function readManifest(staging: string, source: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await fsp.readFile(path.join(staging, 'manifest.json'), 'utf8')) as BackupManifest;
  } catch {
    throw damaged(`${source} holds no readable manifest.json: not a Dana backup`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw damaged(`${source} is not a Dana backup`);
  if (manifest.version > BACKUP_VERSION) throw damaged(`${source} is a version ${manifest.version} backup; this Dana reads version ${BACKUP_VERSION} (upgrade Dana first)`);
  const known = new Set(MIGRATIONS.map((migration) => migration.name));
  const unknown = (manifest.migrations ?? []).filter((name) => !known.has(name));
  if (unknown.length) throw damaged(`${source} was made by a newer Dana (schema ${unknown.join(', ')}); upgrade Dana first`);
  for (const file of manifest.files) {
    if (!/^\d{4}\/\d{2}\/\d{2}\/[^/]+$/.test(file.path)) throw damaged(`${source} names a file outside the upload layout: ${file.path}`);
  }
  return manifest;
}

/** Every table file and stored file is there with the size and SHA-256 the manifest says. */
function verify(digests: Map<string, { size: number; sha256: string }>, manifest: BackupManifest): void {
  for (const [table, entry] of Object.entries(manifest.tables)) {
    if (!(BACKUP_TABLES as readonly string[]).includes(table)) throw damaged(`the backup holds an unknown table ${table}`);
    const found = digests.get(entry.path);
    if (!found || found.sha256 !== entry.sha256) throw damaged(`the backup is damaged: ${entry.path} does not match its SHA-256 in the manifest`);
  }
  for (const file of manifest.files) {
    const found = digests.get(`files/${file.path}`);
    if (!found) throw damaged(`the backup is damaged: files/${file.path} is missing`);
    if (found.sha256 !== file.sha256 || found.size !== file.size) throw damaged(`the backup is damaged: files/${file.path} does not match its SHA-256 in the manifest`);
  }
}

// What an archive may hold: the manifest, table files, and stored files in the upload layout.
const ARCHIVE_PATH = /^(manifest\.json|tables\/[a-z_]+\.jsonl|files\/\d{4}\/\d{2}\/\d{2}\/[0-9A-Za-z][\w.-]*)$/;

/**
 * The archive's files written under `staging`, each hashed as it is written (one pass over
 * the bytes; node-tar's own extract also sets owners and times, several times slower here).
 * Anything but a regular file at an expected path is skipped.
 */
async function unpack(tar: typeof import('tar'), archive: string, staging: string): Promise<Map<string, { size: number; sha256: string }>> {
  const digests = new Map<string, { size: number; sha256: string }>();
  const writes: Array<Promise<void>> = [];
  const madeDirs = new Set<string>();
  await tar.list({
    file: archive,
    strict: true,
    onReadEntry(entry) {
      const name = entry.path.replace(/^\.\//, '');
      if (entry.type !== 'File' || !ARCHIVE_PATH.test(name)) {
        entry.resume();
        return;
      }
      const target = path.join(staging, name);
      const dir = path.dirname(target);
      if (!madeDirs.has(dir)) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        madeDirs.add(dir);
      }
      const out = fs.createWriteStream(target, { mode: 0o600 });
      const hash = createHash('sha256');
      let size = 0;
      entry.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        if (!out.write(chunk)) {
          entry.pause();
          out.once('drain', () => entry.resume());
        }
      });
      writes.push(new Promise<void>((resolve, reject) => {
        out.on('error', reject);
        entry.on('end', () => {
          digests.set(name, { size, sha256: hash.digest('hex') });
          out.end(() => resolve());
        });
      }));
    },
  });
  await Promise.all(writes);
  return digests;
}

async function load(context: DanaContext, staging: string, manifest: BackupManifest, force: boolean, progress: Progress): Promise<Omit<RestoreSummary, 'replaced'>> {
  const { knex, files } = context;
  const dialect = context.config.database.client;
  const previousFiles = force ? await files.storedFiles() : [];
  const placed: string[] = [];
  const rows: Record<string, number> = {};
  try {
    await knex.transaction(async (trx) => {
      if (force) for (const table of [...BACKUP_TABLES].reverse()) await trx(table).delete();
      // On SQLite the full-text triggers would index row by row; without them the rows go in
      // plainly and each index is rebuilt once, in the same transaction (DDL is transactional there).
      const triggers = dialect === 'sqlite'
        ? ((await trx.raw(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('passages', 'messages')`)) as Array<{ name: string; sql: string }>)
        : [];
      for (const trigger of triggers) await trx.raw(`DROP TRIGGER ${trigger.name}`);
      for (const table of BACKUP_TABLES) {
        const entry = manifest.tables[table];
        rows[table] = 0;
        if (!entry) continue;
        const columns = await targetColumns(trx, dialect, table);
        let batch: Array<Record<string, unknown>> = [];
        const flush = async () => {
          if (batch.length) await trx(table).insert(batch);
          rows[table] += batch.length;
          batch = [];
          progress(`rows of ${table}`, rows[table], entry.rows);
        };
        const lines = readline.createInterface({ input: fs.createReadStream(path.join(staging, entry.path)), crlfDelay: Infinity });
        for await (const line of lines) {
          if (!line) continue;
          batch.push(forTarget(JSON.parse(line) as Record<string, unknown>, columns, dialect));
          if (batch.length === INSERT_BATCH) await flush();
        }
        await flush();
        if (rows[table] !== entry.rows) throw damaged(`the backup is damaged: ${entry.path} holds ${rows[table]} rows, the manifest says ${entry.rows}`);
      }
      if (dialect === 'postgres') {
        // Ids were kept: each sequence continues after the largest one restored.
        for (const table of BACKUP_TABLES) {
          await trx.raw(`SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE((SELECT MAX(id) FROM ${table}), 0) + 1, false)`, [table]);
        }
      } else {
        // PostgreSQL's tsvectors are generated columns; SQLite's indexes are rebuilt from the rows.
        for (const index of ['passages_fts', 'messages_fts']) await trx.raw(`INSERT INTO ${index} (${index}) VALUES ('rebuild')`);
        for (const trigger of triggers) await trx.raw(trigger.sql);
      }
      // Ranking's per-document term counts are derived from the passages, not archived.
      await context.services.documents.recountTerms(trx);
      // Files last, still inside the transaction: should one fail, the rows roll back too.
      let done = 0;
      for (const file of manifest.files) {
        const target = files.resolve(file.path);
        await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
        await fsp.rename(path.join(staging, 'files', file.path), target);
        await fsp.chmod(target, 0o600);
        placed.push(file.path);
        progress('files', ++done, manifest.files.length);
      }
    });
  } catch (error) {
    for (const placedPath of placed) if (!previousFiles.includes(placedPath)) await files.remove(placedPath);
    throw error;
  }
  // The replaced contents' files that the backup does not hold.
  const restored = new Set(placed);
  for (const old of previousFiles) if (!restored.has(old)) await files.remove(old);
  return { rows, files: placed.length, file_bytes: manifest.files.reduce((sum, file) => sum + file.size, 0) };
}

async function targetColumns(trx: Knex.Transaction, dialect: 'sqlite' | 'postgres', table: string): Promise<Map<string, Kind>> {
  const result = dialect === 'postgres'
    ? ((await trx.raw(`SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER'`, [table])) as { rows: Array<{ name: string; type: string }> }).rows
    : ((await trx.raw(`PRAGMA table_info(${table})`)) as Array<{ name: string; type: string }>);
  return new Map(result.map((column) => [column.name, kindOf(column.type)]));
}

/** An archived row as the target stores it: its own columns only, booleans as SQLite keeps them. */
function forTarget(row: Record<string, unknown>, columns: Map<string, Kind>, dialect: 'sqlite' | 'postgres'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    const kind = columns.get(name);
    if (!kind) continue;
    out[name] = kind === 'boolean' && dialect === 'sqlite' && value !== null ? (value ? 1 : 0) : value;
  }
  return out;
}

export type { TableName };
