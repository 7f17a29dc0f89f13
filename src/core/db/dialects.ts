// Everything that differs between SQLite and PostgreSQL lives here: how connections are
// opened and tuned, and which of them reads and writes go through.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import type { DatabaseSettings } from '../config.js';

const require = createRequire(import.meta.url);

/** How long a statement waits for another process's write lock before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;
/** Prepared statements kept per SQLite connection; Dana issues a few dozen distinct queries. */
const STATEMENT_CACHE_SIZE = 500;
/** WAL pages written before the writer copies them back into the database file (SQLite's default: 1,000). */
const WAL_CHECKPOINT_PAGES = 16_000;

export type Dialect = 'sqlite' | 'postgres';

export interface OpenDatabase {
  dialect: Dialect;
  /** Single read statements, ready at once; on SQLite they never wait for a writer. */
  sql: SqlRunner;
  /** knex, for writes, created on first use: commands that only read never load it. */
  readonly knex: Knex;
  /** Gives the connections back; the last user of a shared SQLite file closes them. */
  release(): Promise<void>;
}

interface SqliteFile {
  reader?: SqliteConnection;
  sql: SqlRunner;
  knex?: Knex;
  users: number;
}

// Contexts of one process share one writer per SQLite file. Two writers would deadlock:
// better-sqlite3 waits for a lock synchronously, so a transaction of one context (open
// across an await) could never finish while the other waits for it. Readers take no lock
// a writer waits for (WAL), so they sit beside it on a connection of their own.
const sharedSqlite = new Map<string, SqliteFile>();

export function openDatabase(settings: DatabaseSettings): OpenDatabase {
  if (settings.client === 'postgres') {
    const knex = openPostgresKnex(settings);
    return { dialect: 'postgres', sql: knexRunner(() => knex, 'postgres'), knex, release: () => knex.destroy() };
  }
  const { filename } = settings;
  const writerOf = (entry: SqliteFile) => (entry.knex ??= openSqliteKnex(filename));
  const isMemory = filename === ':memory:';
  const key = isMemory ? Symbol('memory').toString() : path.resolve(filename);
  let file = sharedSqlite.get(key);
  if (!file) {
    // A second connection to ":memory:" would be another, empty database: reads go through knex there.
    const reader = isMemory ? undefined : openReader(filename);
    const created: SqliteFile = {
      reader,
      sql: reader ? readerRunner(reader) : knexRunner(() => writerOf(created), 'sqlite'),
      users: 0,
    };
    file = created;
    sharedSqlite.set(key, file);
  }
  file.users++;
  const entry = file;
  let released = false;
  return {
    dialect: 'sqlite',
    sql: entry.sql,
    get knex() {
      return writerOf(entry);
    },
    async release() {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      sharedSqlite.delete(key);
      entry.reader?.close();
      if (entry.knex) await entry.knex.destroy();
    },
  };
}

// knex warns on the console (e.g. about migration locks); a CLI's stderr is for its own
// one-line errors, so those go to stderr only with DEBUG set.
const log = {
  warn: (message: unknown) => debugLog('warn', message),
  error: (message: unknown) => debugLog('error', message),
  deprecate: (method: string, alternative: string) => debugLog('deprecate', `${method}: use ${alternative}`),
  debug: (message: unknown) => debugLog('debug', message),
};

function debugLog(level: string, message: unknown): void {
  if (process.env.DEBUG) process.stderr.write(`knex ${level}: ${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
}

// knex and objection are CommonJS: required synchronously, and only when first needed.
function knexFactory(config: Knex.Config): Knex {
  return (require('knex') as typeof import('knex').default)(config);
}

function openPostgresKnex(settings: Extract<DatabaseSettings, { client: 'postgres' }>): Knex {
  return knexFactory({
    log,
    client: 'pg',
    connection: settings.connectionString,
    pool: { min: 0, max: settings.poolMax },
    acquireConnectionTimeout: BUSY_TIMEOUT_MS,
  });
}

/**
 * The connection reads go through: WAL on, and unable to write (query_only), so it never
 * holds a lock a writer waits for, and sees every write committed before each statement.
 */
function openReader(filename: string): SqliteConnection {
  createPrivateFile(filename);
  const Database = require('better-sqlite3') as new (filename: string) => SqliteConnection;
  const connection = new Database(filename);
  configureConnection(connection);
  connection.pragma('query_only = ON');
  return connection;
}

/**
 * Creates a new database file 0600 before SQLite opens it (SQLite would use 0644 less the
 * umask), so the file and its -wal and -shm, which SQLite gives the main file's mode, are
 * the owner's alone. An existing file is left as it is.
 */
function createPrivateFile(filename: string): void {
  fs.mkdirSync(path.dirname(filename), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = fs.openSync(filename, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  fs.closeSync(fd);
}

/** The one writer of a SQLite file: knex's better-sqlite3 client with a pool of one connection. */
function openSqliteKnex(filename: string): Knex {
  const knex = knexFactory({
    log,
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(connection: SqliteConnection, done: (error: Error | null, connection: SqliteConnection) => void) {
        try {
          configureConnection(connection);
          // Checkpoints are when WAL mode syncs to disk (two fsyncs each). At SQLite's default
          // (every 1,000 pages, 4 MB) indexing one long document checkpoints once or more, and
          // the syncs cost more than the writes; every 16,000 pages keeps the WAL under 64 MB.
          connection.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
          reusePreparedStatements(connection);
          done(null, connection);
        } catch (error) {
          done(error as Error, connection);
        }
      },
    },
  });
  return writeFirst(knex);
}

/**
 * SQLite begins a transaction deferred: one that reads, then writes after another process
 * (the CLI beside a server) wrote in between, fails with SQLITE_BUSY_SNAPSHOT instead of
 * waiting. So every transaction's first statement is a write that changes nothing: it takes
 * the write lock, waiting up to the busy timeout, before anything is read. The statement
 * names knex's migration lock table, which exists from the first migration on; before it
 * does (a new database), only the migrator writes, and it retries when it loses a race.
 */
function writeFirst(knex: Knex): Knex {
  const begin = knex.transaction.bind(knex) as (container?: unknown, config?: unknown) => Promise<unknown>;
  const lock = async (trx: Knex.Transaction) => {
    try {
      await trx.raw(TAKE_WRITE_LOCK);
    } catch (error) {
      if (!/no such table/.test((error as Error).message)) throw error;
    }
  };
  Object.defineProperty(knex, 'transaction', {
    configurable: true,
    value(container?: unknown, config?: unknown) {
      if (typeof container === 'function') {
        return begin(async (trx: Knex.Transaction) => {
          await lock(trx);
          return (container as (trx: Knex.Transaction) => unknown)(trx);
        }, config);
      }
      return begin(container, config).then(async (trx) => {
        await lock(trx as Knex.Transaction);
        return trx;
      });
    },
  });
  return knex;
}

/**
 * knex's client prepares every statement it runs; preparing costs more than running a small
 * insert. The writer's `prepare` answers from the same cache as the reader's statements, so
 * each distinct SQL text (a few dozen: knex builds the same text for the same columns) is
 * prepared once. knex only calls `all` or `run` on a statement, so sharing one is safe.
 */
function reusePreparedStatements(connection: SqliteConnection): void {
  const prepare = connection.prepare.bind(connection);
  connection.prepare = (sql: string) => cachedStatement(connection, sql, prepare);
}

const TAKE_WRITE_LOCK = 'UPDATE knex_migrations_lock SET is_locked = is_locked WHERE 0';

/**
 * Makes the calling transaction the only one changing the schema: SQLite takes the write
 * lock; PostgreSQL takes a transaction-scoped advisory lock.
 */
export async function serializeSchemaChanges(trx: Knex.Transaction): Promise<void> {
  if (dialectOf(trx) === 'postgres') await trx.raw('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
  // On a new database the lock table of writeFirst does not exist yet: write the header instead.
  else await trx.raw('PRAGMA user_version = 0');
}

// An arbitrary constant naming Dana's schema lock among PostgreSQL advisory locks.
const SCHEMA_LOCK_KEY = 0x44616e61;

export function dialectOf(knex: Knex): Dialect {
  return knex.client.config.client === 'pg' ? 'postgres' : 'sqlite';
}

/** The driver's error code, also when objection wrapped the error (db-errors' `nativeError`). */
export function databaseErrorCode(error: unknown): string | undefined {
  const { code, nativeError } = (error ?? {}) as { code?: unknown; nativeError?: { code?: unknown } };
  const found = code ?? nativeError?.code;
  return typeof found === 'string' ? found : undefined;
}

/** Sets what every SQLite connection needs, the moment it opens. */
function configureConnection(connection: SqliteConnection): void {
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  enableWal(connection);
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
}

/**
 * Two processes opening a new database at once: switching it to WAL can answer SQLITE_BUSY
 * at once instead of through the busy handler, so it is retried until the busy timeout.
 */
function enableWal(connection: SqliteConnection): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      connection.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (databaseErrorCode(error) !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      // Connections open synchronously: a short blocking pause, as SQLite's own busy handler does.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/**
 * Read statements by SQL text (with `?` placeholders, portable across dialects) for the hot
 * paths (lookups, lists): on SQLite a cached prepared statement runs on the reader, without
 * a query builder or a pool in between, and never behind a write. Writes go through knex.
 */
export interface SqlRunner {
  /** Which SQL this runner speaks, for the few statements that differ. */
  dialect: Dialect;
  all<T = Record<string, unknown>>(sql: string, bindings?: readonly unknown[]): Promise<T[]>;
  first<T = Record<string, unknown>>(sql: string, bindings?: readonly unknown[]): Promise<T | undefined>;
}

/** knex's raw queries: PostgreSQL's pool, or the writer of an in-memory SQLite database. */
function knexRunner(knexOf: () => Knex, dialect: Dialect): SqlRunner {
  const rows = async (sql: string, bindings: readonly unknown[]) => {
    const result = await knexOf().raw(sql, bindings as Knex.RawBinding[]);
    return (Array.isArray(result) ? result : result.rows) as unknown[];
  };
  return {
    dialect,
    all: async <T>(sql: string, bindings: readonly unknown[] = []) => (await rows(sql, bindings)) as T[],
    first: async <T>(sql: string, bindings: readonly unknown[] = []) => (await rows(sql, bindings))[0] as T | undefined,
  };
}

function readerRunner(connection: SqliteConnection): SqlRunner {
  const run = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return {
    dialect: 'sqlite',
    all: <T>(sql: string, bindings: readonly unknown[] = []) => run(() => cachedStatement(connection, sql).all(bindings as unknown[]) as T[]),
    first: <T>(sql: string, bindings: readonly unknown[] = []) => run(() => cachedStatement(connection, sql).get(bindings as unknown[]) as T | undefined),
  };
}

interface SqliteStatement {
  all(bindings: unknown[]): unknown[];
  get(bindings: unknown[]): unknown;
}
interface SqliteConnection {
  pragma(source: string): unknown;
  close(): void;
  prepare(sql: string): SqliteStatement;
}

const statementCaches = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

function cachedStatement(connection: SqliteConnection, sql: string, prepare = (text: string) => connection.prepare(text)): SqliteStatement {
  let cache = statementCaches.get(connection);
  if (!cache) statementCaches.set(connection, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    statement = prepare(sql);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(sql, statement);
  }
  return statement;
}
