// Brings a database to the latest schema on first use. Several processes may start at once
// (a server and a CLI, or several servers): knex's migrator runs all pending migrations in
// one transaction holding its lock, and the bookkeeping tables it would create racily are
// created first, in a transaction of their own that processes take one at a time.
import type { Knex } from 'knex';
import { MIGRATIONS, type Migration } from './migrations.js';
import { serializeSchemaChanges, type SqlRunner } from './dialects.js';

const MIGRATIONS_TABLE = 'knex_migrations';
const LOCK_TABLE = `${MIGRATIONS_TABLE}_lock`;
const RACE_DEADLINE_MS = 30_000;

/** The migrations in code; each one's report lines go to `report`. */
function migrationSource(report: (line: string) => void): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => MIGRATIONS,
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({ ...migration, up: (knex: Knex) => migration.up(knex, report) }),
  };
}

export interface MigrationState {
  applied: string[];
  pending: string[];
}

export async function migrationState(sql: SqlRunner): Promise<MigrationState> {
  let applied: string[] = [];
  try {
    applied = (await sql.all<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`)).map((row) => row.name);
  } catch {
    // No migrations table yet: nothing applied.
  }
  return { applied, pending: MIGRATIONS.map((m) => m.name).filter((name) => !applied.includes(name)) };
}

/** The migrations not applied yet (one query when there are none). */
export async function pendingMigrations(sql: SqlRunner): Promise<string[]> {
  return (await migrationState(sql)).pending;
}

export interface MigrationOutcome {
  /** The migrations this call applied. */
  applied: string[];
  /** What they changed that users should know of (e.g. an agent's endpoint moved to a provider). */
  changes: string[];
}

/** Applies pending migrations. */
export async function migrateToLatest(knex: Knex): Promise<MigrationOutcome> {
  const deadline = Date.now() + RACE_DEADLINE_MS;
  for (;;) {
    // Lines of an attempt that lost a race were rolled back with it.
    const changes: string[] = [];
    try {
      await prepareBookkeeping(knex);
      const [, applied] = await knex.migrate.latest({ migrationSource: migrationSource((line) => changes.push(line)), tableName: MIGRATIONS_TABLE });
      return { applied: applied as string[], changes };
    } catch (error) {
      if (!isMigrationRace(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
    }
  }
}

/**
 * Creates knex's migration tables and its single lock row, as knex itself would, but in
 * one serialised transaction. Left to knex, two processes starting together on an empty
 * database could each insert a lock row, after which the lock can never be taken.
 */
async function prepareBookkeeping(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await serializeSchemaChanges(trx);
    if (!(await trx.schema.hasTable(MIGRATIONS_TABLE))) {
      await trx.schema.createTable(MIGRATIONS_TABLE, (table) => {
        table.increments();
        table.string('name');
        table.integer('batch');
        table.timestamp('migration_time');
      });
    }
    if (!(await trx.schema.hasTable(LOCK_TABLE))) {
      await trx.schema.createTable(LOCK_TABLE, (table) => {
        table.increments('index').primary();
        table.integer('is_locked');
      });
    }
    // Migrations take and free the lock inside their own transaction, so no committed
    // lock can belong to a migration in progress: anything but one free row is debris.
    const rows: Array<{ is_locked: number }> = await trx(LOCK_TABLE).select('is_locked');
    if (rows.length !== 1 || rows[0].is_locked !== 0) {
      await trx(LOCK_TABLE).delete();
      await trx(LOCK_TABLE).insert({ is_locked: 0 });
    }
  });
}


/** The errors another process's concurrent migration causes: wait and look again. */
function isMigrationRace(error: unknown): boolean {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  if (name === 'MigrationLocked') return true;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === '42P07' || code === '23505') return true;
  return /already exists|is locked/i.test(message ?? '');
}
