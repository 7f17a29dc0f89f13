// Keeps a streaming upload from growing the process. Each socket read arrives in a fresh
// buffer that becomes garbage a moment later, and V8 only collects such off-heap memory
// once a few tens of megabytes have piled up, so a 40 MB upload could grow the process by
// as much. A young-generation collection every few megabytes received (about a
// millisecond each) returns them as it goes.
import v8 from 'node:v8';
import vm from 'node:vm';

const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type Collect = (options?: { type: 'minor' | 'major' }) => void;
let collect: Collect | undefined | null;

function collector(): Collect | undefined {
  if (collect === undefined) {
    try {
      // The supported way to reach V8's gc() without starting node with --expose-gc.
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as Collect;
    } catch {
      collect = null;
    }
  }
  return collect ?? undefined;
}

/**
 * Counts the bytes a stream passes and collects young garbage every few megabytes. Attach
 * it only to a stream that is already flowing (piped): a 'data' listener starts the flow.
 */
export function collectWhileStreaming(stream: NodeJS.ReadableStream): void {
  let sinceCollect = 0;
  stream.on('data', (chunk: Buffer) => {
    sinceCollect += chunk.length;
    if (sinceCollect < COLLECT_EVERY_BYTES) return;
    sinceCollect = 0;
    collector()?.({ type: 'minor' });
  });
}
