// `npm test` after the build: the whole suite on SQLite, then the service and HTTP suites
// again on PostgreSQL (DANA_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
// Without a reachable PostgreSQL the second pass is skipped with a notice, unless
// DANA_REQUIRE_POSTGRES is set (as in CI): then the run fails and says why.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const mocha = require.resolve('mocha/bin/mocha.js');
const url = process.env.DANA_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

function run(label, args, env = {}) {
  console.log(`\n${label}`);
  const result = spawnSync(process.execPath, [mocha, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

async function postgresProblem() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error.message || error.code || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const masked = url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
// When PostgreSQL is required, find out before spending minutes on the SQLite pass.
let problem = process.env.DANA_REQUIRE_POSTGRES ? await postgresProblem() : undefined;
const sqlite = problem ? 1 : run('SQLite: the whole suite', []);
problem ??= await postgresProblem();
if (problem) {
  const message = `PostgreSQL is not reachable at ${masked} (${problem}).`;
  if (process.env.DANA_REQUIRE_POSTGRES) {
    console.error(`\n${message} This run requires it (DANA_REQUIRE_POSTGRES): start PostgreSQL or set DANA_TEST_DATABASE_URL.`);
    process.exit(1);
  }
  console.warn(`\n${message} Skipping the PostgreSQL pass; set DANA_TEST_DATABASE_URL to run it.`);
  process.exit(sqlite);
}
const postgres = run(`PostgreSQL (${masked}): the service and HTTP suites again`, ['--config', '.mocharc.postgres.json'], {
  DANA_TEST_BACKEND: 'postgres',
  DANA_TEST_DATABASE_URL: url,
});
process.exit(sqlite || postgres);
