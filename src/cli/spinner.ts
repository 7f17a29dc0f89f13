// A one-line spinner on stderr while nothing else shows progress (a slow model thinking
// before its first token). Drawn only on a terminal; stopping erases its line.
import type { Writable } from 'node:stream';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;

/** Starts the spinner; the returned function stops it (safe to call more than once). */
export function startSpinner(stream: Writable & { isTTY?: boolean }, text: string): () => void {
  if (!stream.isTTY) return () => undefined;
  let frame = 0;
  const draw = () => stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text}`);
  draw();
  const timer = setInterval(draw, FRAME_MS);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    stream.write('\r\x1b[K');
  };
}
