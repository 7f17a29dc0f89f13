// Brings a database to the latest schema on first use. Several processes may start at once
// (a server and a CLI, or several servers): knex's migration lock serialises them and the
// losers of a race simply retry until the winner is done.
import type { Knex } from 'knex';
import { MIGRATIONS, type Migration } from './migrations.js';

const MIGRATIONS_TABLE = 'knex_migrations';
const RACE_DEADLINE_MS = 60_000;

const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};

export interface MigrationState {
  applied: string[];
  pending: string[];
}

export async function migrationState(knex: Knex): Promise<MigrationState> {
  let applied: string[] = [];
  try {
    applied = (await knex(MIGRATIONS_TABLE).select('name').orderBy('id')).map((row: { name: string }) => row.name);
  } catch {
    // No migrations table yet: nothing applied.
  }
  return { applied, pending: MIGRATIONS.map((m) => m.name).filter((name) => !applied.includes(name)) };
}

/** Applies pending migrations; returns the names applied by this call. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  if ((await migrationState(knex)).pending.length === 0) return [];
  const deadline = Date.now() + RACE_DEADLINE_MS;
  for (;;) {
    try {
      const [, applied] = await knex.migrate.latest({ migrationSource, tableName: MIGRATIONS_TABLE });
      return applied as string[];
    } catch (error) {
      if (!isMigrationRace(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
      if ((await migrationState(knex)).pending.length === 0) return [];
    }
  }
}

export async function releaseMigrationLock(knex: Knex): Promise<void> {
  await knex.migrate.forceFreeMigrationsLock({ migrationSource, tableName: MIGRATIONS_TABLE });
}

/** The errors another process's concurrent migration causes: wait and look again. */
function isMigrationRace(error: unknown): boolean {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  if (name === 'MigrationLocked') return true;
  if (code === 'SQLITE_BUSY' || code === '42P07' || code === '23505') return true;
  return /already exists|is locked/i.test(message ?? '');
}
