// Which database the service and HTTP suites run on. `npm test` runs them twice: on SQLite
// files in temp folders, then with DANA_TEST_BACKEND=postgres on PostgreSQL, where every
// test context gets a schema of its own that is dropped when the context closes.
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';

export const TEST_BACKEND: 'sqlite' | 'postgres' = process.env.DANA_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const isPostgres = TEST_BACKEND === 'postgres';
export const TEST_DATABASE_URL = process.env.DANA_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const SCHEMA_PREFIX = 'dana_test_';

let admin: Knex | undefined;

function adminConnection(): Knex {
  admin ??= knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 2 } });
  return admin;
}

// Schema names carry their creation time, so a run cleans up after runs that died without
// touching the schemas of another run on the same database (two checkouts testing at once).
const STALE_AFTER_S = 3600;
const RUN = `${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;

/** A database URL whose search_path is a new, empty schema. */
export async function freshPostgresUrl(): Promise<{ url: string; schema: string }> {
  const schema = `${SCHEMA_PREFIX}${RUN}_${randomBytes(6).toString('hex')}`;
  await adminConnection().raw(`CREATE SCHEMA "${schema}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), schema };
}

export async function dropSchema(schema: string): Promise<void> {
  await adminConnection().raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Drops this run's schemas, and those of runs that died more than an hour ago. */
export async function dropLeftoverSchemas(): Promise<void> {
  const { rows } = await adminConnection().raw('SELECT nspname FROM pg_namespace WHERE nspname LIKE ?', [`${SCHEMA_PREFIX}%`]);
  const staleBefore = Date.now() / 1000 - STALE_AFTER_S;
  for (const { nspname } of rows as Array<{ nspname: string }>) {
    const created = Number(/^dana_test_(\d+)_/.exec(nspname)?.[1] ?? 0);
    if (nspname.startsWith(`${SCHEMA_PREFIX}${RUN}_`) || created < staleBefore) await dropSchema(nspname);
  }
}

export async function closeAdminConnection(): Promise<void> {
  await admin?.destroy();
  admin = undefined;
}
