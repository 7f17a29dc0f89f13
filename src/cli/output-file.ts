// Files the CLI writes for the user (`docs download -o`, `agents export -o`,
// `conversations export -o`): missing folders are created, as `curl --create-dirs` does,
// and the bytes are written beside the target and renamed, so an interrupted write leaves
// no half file. Errors name the user's path, never the temporary one.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../core/errors.js';

/** Writes `content` (text, or a stream of bytes) to `target`, all or nothing. */
export async function writeOutputFile(target: string, content: string | Readable): Promise<void> {
  const folder = path.dirname(target);
  try {
    fs.mkdirSync(folder, { recursive: true });
  } catch (error) {
    if (typeof content !== 'string') content.destroy();
    throw ValidationError.field(['body', 'output'], `cannot create the folder ${folder} (${(error as NodeJS.ErrnoException).code})`, 'file_error');
  }
  const partial = `${target}.${process.pid}.part`;
  try {
    if (typeof content === 'string') fs.writeFileSync(partial, content, { mode: 0o600 });
    else await pipeline(content, fs.createWriteStream(partial, { mode: 0o600 }));
    fs.renameSync(partial, target);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code && (error as NodeJS.ErrnoException).syscall) throw new Error(`Cannot write ${target} (${code})`);
    throw error;
  }
}
