// A real Dana context on a fresh database: a SQLite file in a temp folder, or (with
// DANA_TEST_BACKEND=postgres) a schema of its own on PostgreSQL, dropped on close.
import { resolveConfig, type DanaConfig } from '../../src/core/config.js';
import { createContext, type ContextOptions, type DanaContext } from '../../src/core/context.js';
import { dropSchema, freshPostgresUrl, isPostgres } from './backend.js';
import { tempDir } from './temp.js';

export interface TestContext extends DanaContext {
  home: string;
}

/** Environment for a test data folder: nothing from the developer's own DANA_* settings. */
export function testEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DANA_HOME: home, ...extra };
}

export function testConfig(home = tempDir(), env: Record<string, string> = {}): DanaConfig {
  return resolveConfig({}, testEnv(home, env));
}

export async function openTestContext(env: Record<string, string> = {}, options: ContextOptions = {}): Promise<TestContext> {
  const home = tempDir();
  const postgres = isPostgres && !env.DANA_DATABASE_URL ? await freshPostgresUrl() : undefined;
  const context = await createContext(testConfig(home, postgres ? { DANA_DATABASE_URL: postgres.url, ...env } : env), options);
  if (postgres) {
    const close = context.close.bind(context);
    context.close = async () => {
      await close();
      await dropSchema(postgres.schema);
    };
  }
  return Object.assign(context, { home });
}
