// A real Dana context on a fresh SQLite file in a temp folder, closed after each test.
import { resolveConfig, type DanaConfig } from '../../src/core/config.js';
import { createContext, type DanaContext } from '../../src/core/context.js';
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

export async function openTestContext(env: Record<string, string> = {}): Promise<TestContext> {
  const home = tempDir();
  const context = await createContext(testConfig(home, env));
  return Object.assign(context, { home });
}
