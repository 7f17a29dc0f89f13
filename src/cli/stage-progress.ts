// One status line on stderr for long work (backup, restore), rewritten in place on a
// terminal at most ten times a second; nothing at all elsewhere, so scripts see only results.
import type { CliIo } from './io.js';

export function stageProgress(stderr: CliIo['stderr']): { update(stage: string, done: number, total: number): void; done(): void } {
  if (!stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update(stage, done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      shown = true;
      stderr.write(`\r\x1b[2K${stage}: ${done}${total ? ` of ${total}` : ''}`);
    },
    done() {
      if (shown) stderr.write('\r\x1b[2K');
    },
  };
}
