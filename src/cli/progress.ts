// A progress bar on stderr for long transfers, shown only on a terminal and only for files
// big enough to take a moment; elsewhere the stream passes through untouched.
import { pipeline, Transform, type Readable } from 'node:stream';
import type { CliIo } from './io.js';

const SHOW_ABOVE_BYTES = 4 * 1024 * 1024;

export async function withProgress(source: Readable, totalBytes: number, label: string, stderr: CliIo['stderr']): Promise<Readable> {
  if (!stderr.isTTY || totalBytes < SHOW_ABOVE_BYTES) return source;
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {eta_formatted}`,
      stream: stderr as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: true,
    },
    progress.Presets.shades_classic,
  );
  const toMb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  bar.start(toMb(totalBytes), 0);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      bar.update(toMb(sent));
      callback(null, chunk);
    },
  });
  return pipeline(source, counter, () => bar.stop());
}
