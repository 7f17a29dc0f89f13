// Everything that differs between SQLite and PostgreSQL lives here: how a connection is
// opened and tuned, and how each reports a constraint violation.
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

export type Dialect = 'sqlite' | 'postgres';

export interface OpenDatabase {
  dialect: Dialect;
  /** Single statements, ready at once. */
  sql: SqlRunner;
  /** knex, created on first use: commands that only read never load it. */
  readonly knex: Knex;
  /** Gives the connection back; the last user of a shared SQLite file closes it. */
  release(): Promise<void>;
}

interface SqliteFile {
  gate: ConnectionGate;
  sql: SqlRunner;
  knex?: Knex;
  users: number;
}

// Contexts of one process share one connection per SQLite file. Two connections would
// deadlock: better-sqlite3 waits for a lock synchronously, so a transaction of one
// context (open across an await) could never finish while the other waits for it.
const sharedSqlite = new Map<string, SqliteFile>();

export function openDatabase(settings: DatabaseSettings): OpenDatabase {
  if (settings.client === 'postgres') {
    const knex = openPostgresKnex(settings);
    return { dialect: 'postgres', sql: postgresRunner(knex), knex, release: () => knex.destroy() };
  }
  const key = settings.filename === ':memory:' ? Symbol('memory').toString() : path.resolve(settings.filename);
  let file = sharedSqlite.get(key);
  if (!file) {
    const gate = new ConnectionGate(openSqliteConnection(settings.filename));
    file = { gate, sql: sqliteRunner(gate), users: 0 };
    sharedSqlite.set(key, file);
  }
  file.users++;
  const entry = file;
  let released = false;
  return {
    dialect: 'sqlite',
    sql: entry.sql,
    get knex() {
      entry.knex ??= openSqliteKnex(settings.filename, entry.gate);
      return entry.knex;
    },
    async release() {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      sharedSqlite.delete(key);
      // knex, when it was opened, closes the connection through the gate it was given.
      if (entry.knex) await entry.knex.destroy();
      else await entry.gate.destroy();
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

function openSqliteConnection(filename: string): SqliteConnection {
  if (filename !== ':memory:') createPrivateFile(filename);
  const Database = require('better-sqlite3') as new (filename: string) => SqliteConnection;
  const connection = new Database(filename);
  configureConnection(connection);
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

function openSqliteKnex(filename: string, gate: ConnectionGate): Knex {
  return knexFactory({
    log,
    client: sqliteClient(),
    connection: { filename },
    useNullAsDefault: true,
    // Read by DanaSqliteClient: knex lends the one connection through the same gate.
    danaGate: gate,
  } as Knex.Config);
}

/**
 * Makes the calling transaction the only one changing the schema: SQLite's BEGIN
 * IMMEDIATE already is; PostgreSQL takes a transaction-scoped advisory lock.
 */
export async function serializeSchemaChanges(trx: Knex.Transaction): Promise<void> {
  if (dialectOf(trx) === 'postgres') await trx.raw('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
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

export function isUniqueViolation(error: unknown): boolean {
  const code = databaseErrorCode(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
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
 * The one connection of a process to a SQLite file, lent to one query or transaction at a
 * time. better-sqlite3 is synchronous, so a pool of one needs no more than this: a queue,
 * without the timers and bookkeeping of a general-purpose pool on every query.
 */
class ConnectionGate {
  private isLent = false;
  private readonly waiting: Array<(connection: SqliteConnection) => void> = [];

  constructor(private connection: SqliteConnection | undefined) {}

  acquire(): Promise<SqliteConnection> {
    const { connection } = this;
    if (!connection) return Promise.reject(new Error('The database is closed'));
    if (!this.isLent) {
      this.isLent = true;
      return Promise.resolve(connection);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Runs synchronous work on the connection: right away when nobody holds it (no queue, no
   * awaits), otherwise after whoever does (a transaction) gives it back.
   */
  run<T>(work: (connection: SqliteConnection) => T): Promise<T> {
    if (this.connection && !this.isLent) {
      try {
        return Promise.resolve(work(this.connection));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.acquire().then((connection) => {
      try {
        return work(connection);
      } finally {
        this.release(connection);
      }
    });
  }

  release(connection: SqliteConnection): void {
    const next = this.waiting.shift();
    if (next) next(connection);
    else this.isLent = false;
  }

  async destroy(): Promise<void> {
    const { connection } = this;
    this.connection = undefined;
    connection?.close();
  }
}

/**
 * Single statements by SQL text (with `?` placeholders, portable across dialects) for the
 * hot paths (lookups, lists, one-row inserts with RETURNING): on SQLite a cached prepared
 * statement runs directly on the connection, without a query builder or a pool round trip
 * in between. Anything that needs a transaction goes through knex and the models.
 */
export interface SqlRunner {
  all<T = Record<string, unknown>>(sql: string, bindings?: readonly unknown[]): Promise<T[]>;
  first<T = Record<string, unknown>>(sql: string, bindings?: readonly unknown[]): Promise<T | undefined>;
}

function postgresRunner(knex: Knex): SqlRunner {
  return {
    all: async <T>(sql: string, bindings: readonly unknown[] = []) => (await knex.raw(sql, bindings as Knex.RawBinding[])).rows as T[],
    first: async <T>(sql: string, bindings: readonly unknown[] = []) => (await knex.raw(sql, bindings as Knex.RawBinding[])).rows[0] as T | undefined,
  };
}

function sqliteRunner(gate: ConnectionGate): SqlRunner {
  return {
    all: <T>(sql: string, bindings: readonly unknown[] = []) => gate.run((connection) => cachedStatement(connection, sql).all(bindings as unknown[]) as T[]),
    first: <T>(sql: string, bindings: readonly unknown[] = []) => gate.run((connection) => cachedStatement(connection, sql).get(bindings as unknown[]) as T | undefined),
  };
}

interface SqliteStatement {
  reader: boolean;
  all(bindings: unknown[]): unknown[];
  get(bindings: unknown[]): unknown;
  run(bindings: unknown[]): { lastInsertRowid: number | bigint; changes: number };
}
interface SqliteConnection {
  pragma(source: string): unknown;
  close(): void;
  prepare(sql: string): SqliteStatement;
  __danaStatements?: Map<string, SqliteStatement>;
}
interface QueryObject {
  sql: string;
  bindings?: unknown[];
  response?: unknown;
  context?: unknown;
}

let sqliteClientClass: typeof Knex.Client | undefined;

/**
 * knex's better-sqlite3 client with two changes:
 * - transactions start with BEGIN IMMEDIATE, so a transaction that reads before it writes
 *   waits for the write lock (busy timeout) instead of failing with SQLITE_BUSY when
 *   another process (the CLI beside a server) wrote in between;
 * - prepared statements are cached per connection instead of re-prepared on every query;
 * - its single connection is lent through a ConnectionGate instead of a general pool.
 */
function sqliteClient(): typeof Knex.Client {
  if (sqliteClientClass) return sqliteClientClass;
  // knex's internals are plain CommonJS classes without typings.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type AnyClass = new (...args: any[]) => any;
  const BetterSqliteClient: AnyClass = require('knex/lib/dialects/better-sqlite3/index.js');
  const SqliteTransaction: AnyClass = require('knex/lib/dialects/sqlite3/execution/sqlite-transaction.js');

  class ImmediateTransaction extends SqliteTransaction {
    begin(connection: SqliteConnection) {
      return this.query(connection, 'BEGIN IMMEDIATE;');
    }
  }

  class DanaSqliteClient extends BetterSqliteClient {
    declare pool: ConnectionGate | undefined;

    initializePool() {
      this.pool = (this.config as { danaGate: ConnectionGate }).danaGate;
    }

    acquireConnection(): Promise<SqliteConnection> {
      if (!this.pool) return Promise.reject(new Error('The database is closed'));
      return this.pool.acquire();
    }

    releaseConnection(connection: SqliteConnection): Promise<void> {
      this.pool?.release(connection);
      return Promise.resolve();
    }

    transaction(container: unknown, config: unknown, outerTx: unknown) {
      return new ImmediateTransaction(this, container, config, outerTx);
    }

    async _query(connection: SqliteConnection, obj: QueryObject) {
      if (!obj.sql) throw new Error('The query is empty');
      const statement = cachedStatement(connection, obj.sql);
      const bindings = this._formatBindings(obj.bindings);
      if (statement.reader) {
        obj.response = statement.all(bindings);
        return obj;
      }
      const response = statement.run(bindings);
      obj.response = response;
      obj.context = { lastID: response.lastInsertRowid, changes: response.changes };
      return obj;
    }
  }
  sqliteClientClass = DanaSqliteClient as unknown as typeof Knex.Client;
  return sqliteClientClass;
}

function cachedStatement(connection: SqliteConnection, sql: string): SqliteStatement {
  const cache = (connection.__danaStatements ??= new Map());
  let statement = cache.get(sql);
  if (!statement) {
    statement = connection.prepare(sql);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(sql, statement);
  }
  return statement;
}
