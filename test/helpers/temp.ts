// Temporary folders that tests create and that disappear after the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created: string[] = [];

export function tempDir(prefix = 'dana-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Every regular file under `dir`, relative paths, sorted (for "nothing left on disk" checks). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)))
    .sort();
}

/** Stored files only: what is under YYYY/MM/DD, not the temp area. */
export function storedFiles(uploadDir: string): string[] {
  return filesUnder(uploadDir).filter((file) => /^\d{4}\//.test(file));
}

process.on('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});
