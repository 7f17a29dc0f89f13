// Reads and discards what is left of a refused request body, so the client (still
// sending) can read our error instead of a broken pipe. Past a cap, the connection is cut.
import type { IncomingMessage } from 'node:http';

const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

export function drainRequest(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let drained = 0;
    const finish = () => {
      clearTimeout(timer);
      req.removeListener('data', count);
      resolve();
    };
    const count = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) {
        req.socket.destroy();
        finish();
      }
    };
    const timer = setTimeout(() => {
      req.socket.destroy();
      finish();
    }, DRAIN_TIMEOUT_MS);
    req.on('data', count);
    req.once('end', finish);
    req.once('close', finish);
    req.once('error', finish);
    req.resume();
  });
}
