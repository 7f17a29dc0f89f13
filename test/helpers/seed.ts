// Puts data in a CLI test's data folder through the core, faster than spawning `dana` for
// every row a test needs before the command it is about.
import { createContext, type DanaContext } from '../../src/core/context.js';
import { testConfig } from './context.js';

export async function seed<T>(home: string, fill: (ctx: DanaContext) => Promise<T>): Promise<T> {
  const ctx = await createContext(testConfig(home));
  try {
    return await fill(ctx);
  } finally {
    await ctx.close();
  }
}
