// The upload store: files stream into a per-process temp folder inside the upload folder,
// are counted as they pass (the size limit is enforced while streaming), then linked into
// YYYY/MM/DD/<uuid><ext> in the same unit of work as their database row. Every path read
// from the database is resolved inside the upload folder, never outside it, and only a
// regular file is ever read back. Folders are 0700 and files 0600 whatever the umask: the
// uploads are the owner's alone.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.csv': 'text/csv',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};
export const ALLOWED_EXTENSIONS = Object.keys(MIME_TYPES).sort();
const NOT_ALLOWED = `File type not allowed. Allowed types: ${ALLOWED_EXTENSIONS.join(', ')}`;

const TEMP_DIR = '.tmp';
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const MAX_NAME_LENGTH = 255;
// C0/C1 controls, and bidirectional overrides that make "exe.txt" display as "txt.exe".
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export interface FileKind {
  originalFilename: string;
  extension: string;
  mimeType: string;
}

/** A file received into temp storage, not yet part of the store. */
export interface StagedFile extends FileKind {
  tempPath: string;
  /** Where it will live, relative to the upload folder (YYYY/MM/DD/<uuid><ext>). */
  relativePath: string;
  /** The stored name, <uuid><ext>. */
  filename: string;
  size: number;
  /** Hex SHA-256 of the bytes, computed as they streamed in. */
  sha256: string;
}

export interface StagedRemoval {
  relativePath: string;
  tempPath?: string;
}

/** The client's name reduced to a safe base name: no directories, no control characters. */
export function sanitizeFilename(name: string): string {
  const base = name.normalize('NFC').replace(UNSAFE_CHARACTERS, '').split(/[\\/]/).filter((part) => part.trim() !== '').pop() ?? '';
  const trimmed = base.trim();
  if (trimmed === '.' || trimmed === '..') return '';
  if (trimmed.length <= MAX_NAME_LENGTH) return trimmed;
  const ext = path.extname(trimmed).slice(0, 16);
  // Cut between characters (code points), never inside a surrogate pair.
  let stem = '';
  for (const char of trimmed.slice(0, trimmed.length - ext.length)) {
    if (stem.length + char.length > MAX_NAME_LENGTH - ext.length) break;
    stem += char;
  }
  return stem + ext;
}

/** Decides from the name alone whether a file may be stored (415 otherwise). */
export function classifyFile(clientName: string): FileKind {
  const originalFilename = sanitizeFilename(clientName);
  const extension = path.extname(originalFilename).toLowerCase();
  const mimeType = MIME_TYPES[extension];
  if (!mimeType) throw new UnsupportedMediaTypeError(NOT_ALLOWED);
  return { originalFilename, extension, mimeType };
}

// Staging folders of the stores open in this process: alive, whatever their pid says.
const liveStagingDirs = new Set<string>();

export class FileStore {
  readonly root: string;
  private readonly tempRoot: string;
  private readonly processTempDir: string;
  private readonly createdDirs = new Set<string>();

  constructor(
    root: string,
    readonly maxUploadBytes: number,
    readonly maxUploadMb: number,
  ) {
    this.root = path.resolve(root);
    this.tempRoot = path.join(this.root, TEMP_DIR);
    this.processTempDir = path.join(this.tempRoot, `${os.hostname()}~${process.pid}~${randomUUID().slice(0, 8)}`);
    liveStagingDirs.add(this.processTempDir);
  }

  /** Streams `source` into temp storage, refusing it once it passes the size limit. */
  async stage(source: Readable, kind: FileKind): Promise<StagedFile> {
    // An error before the pipe below is attached must not go unhandled.
    source.on('error', () => undefined);
    await this.ensureDir(this.processTempDir);
    const now = new Date();
    const day = [now.getUTCFullYear(), pad(now.getUTCMonth() + 1), pad(now.getUTCDate())].join('/');
    const filename = `${randomUUID()}${kind.extension}`;
    const relativePath = `${day}/${filename}`;
    const tempPath = path.join(this.processTempDir, relativePath.replaceAll('/', '-'));
    let size = 0;
    const limit = this.maxUploadBytes;
    const digest = createHash('sha256');
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        size += chunk.length;
        if (size > limit) return callback(this.tooLarge());
        digest.update(chunk);
        callback(null, chunk);
      },
    });
    // The source is piped, not handed to the pipeline: on a refusal it is left to its owner
    // (a form parser reads on past the file; destroying its stream would stall it).
    // A source that failed while this store was getting ready (a form cut short) is done.
    if (source.errored || source.destroyed) throw source.errored ?? new Error('The upload stream closed before its end');
    source.once('error', (error) => counter.destroy(error));
    source.pipe(counter);
    try {
      await pipeline(counter, fs.createWriteStream(tempPath, { flags: 'wx', mode: FILE_MODE }));
    } catch (error) {
      source.unpipe(counter);
      await removeQuietly(tempPath);
      throw error;
    }
    return { ...kind, tempPath, relativePath, filename, size, sha256: digest.digest('hex') };
  }

  tooLarge(): PayloadTooLargeError {
    return new PayloadTooLargeError(`File too large. Maximum size is ${this.maxUploadMb}MB`);
  }

  /**
   * Puts a staged file at its final path. It is hard-linked, so the temp name stays as a
   * record until `settle()`: a crash between here and the database commit is undone on the
   * next start (see `staleStagedFiles`).
   */
  async place(staged: StagedFile): Promise<void> {
    const target = this.resolve(staged.relativePath);
    await this.ensureDir(path.dirname(target));
    try {
      await fsp.link(staged.tempPath, target);
    } catch (error) {
      // Some shared file systems have no hard links; a rename is still atomic.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await fsp.rename(staged.tempPath, target);
    }
  }

  /** The row is committed: drop the temp record. */
  async settle(staged: StagedFile): Promise<void> {
    await removeQuietly(staged.tempPath);
  }

  /** The upload failed: nothing of it remains. */
  async discard(staged: StagedFile): Promise<void> {
    await removeQuietly(staged.tempPath);
    await removeQuietly(this.resolve(staged.relativePath));
  }

  /** An absolute path for a stored relative path, refusing anything outside the upload folder. */
  resolve(relativePath: string): string {
    const absolute = path.resolve(this.root, relativePath);
    if (path.isAbsolute(relativePath) || !absolute.startsWith(this.root + path.sep)) {
      throw new NotFoundError('Document file not found');
    }
    return absolute;
  }

  /** A stored file's bytes: 404 "Document file not found" unless it is a regular file inside the folder. */
  async open(relativePath: string): Promise<{ stream: fs.ReadStream; size: number }> {
    const opened = await this.openRegular(relativePath);
    if (!('handle' in opened)) throw new NotFoundError('Document file not found');
    return { stream: opened.handle.createReadStream({ autoClose: true }), size: opened.size };
  }

  /** The absolute path of a stored file for a parser to read, once it is known to be a regular file inside the folder. */
  async regularPath(relativePath: string): Promise<string> {
    const opened = await this.openRegular(relativePath);
    if (!('handle' in opened)) throw new NotFoundError('Document file not found');
    await opened.handle.close();
    return this.resolve(relativePath);
  }

  /** What `dana db check` finds at a stored path. */
  async inspect(relativePath: string): Promise<'ok' | 'missing' | 'not_regular_file'> {
    const opened = await this.openRegular(relativePath);
    if (!('handle' in opened)) return opened.problem;
    await opened.handle.close();
    return 'ok';
  }

  /**
   * Opens a stored path only when it is a regular file whose real location is inside the
   * upload folder: a symlink (to /etc/passwd, or a linked day folder leading elsewhere)
   * planted in the folder is never followed.
   */
  private async openRegular(relativePath: string): Promise<{ handle: fsp.FileHandle; size: number } | { problem: 'missing' | 'not_regular_file' }> {
    let absolute: string;
    let real: string;
    try {
      absolute = this.resolve(relativePath);
      real = await fsp.realpath(absolute);
    } catch (error) {
      if (error instanceof NotFoundError) return { problem: 'missing' };
      return problemOf(error);
    }
    if (real !== path.join(await fsp.realpath(this.root), relativePath)) return { problem: 'not_regular_file' };
    let handle: fsp.FileHandle;
    try {
      // O_NOFOLLOW: a symlink swapped in after the check above still is not followed;
      // O_NONBLOCK: a FIFO planted there does not wait for a writer.
      handle = await fsp.open(absolute, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (error) {
      return problemOf(error);
    }
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, size: stats.size };
    await handle.close();
    return { problem: 'not_regular_file' };
  }

  /** Every stored file, relative to the upload folder (YYYY/MM/DD/<name>), outside temp. */
  async storedFiles(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (relative: string, depth: number): Promise<void> => {
      for (const entry of await fsp.readdir(path.join(this.root, relative), { withFileTypes: true }).catch(() => [])) {
        const child = relative ? `${relative}/${entry.name}` : entry.name;
        if (depth < 3 && entry.isDirectory() && /^\d+$/.test(entry.name)) await walk(child, depth + 1);
        else if (depth === 3 && entry.isFile()) found.push(child);
      }
    };
    await walk('', 0);
    return found.sort();
  }

  /**
   * Before a document's row is deleted: a link to its file in this process's staging folder.
   * Should the process die between the commit and the file's removal, the next start finds
   * a staged file without a row and removes the file (see `abandonedStaging`).
   */
  async prepareRemoval(relativePath: string): Promise<StagedRemoval> {
    const tempPath = path.join(this.processTempDir, relativePath.replaceAll('/', '-'));
    try {
      await this.ensureDir(this.processTempDir);
      await fsp.link(this.resolve(relativePath), tempPath);
      return { relativePath, tempPath };
    } catch {
      // No file to remove, no hard links here, or no room for the link (a full disk): the
      // removal simply is not journalled.
      return { relativePath };
    }
  }

  /** The row is gone: so are the file and its link. */
  async finishRemoval(removal: StagedRemoval): Promise<void> {
    await this.remove(removal.relativePath);
    if (removal.tempPath) await removeQuietly(removal.tempPath);
  }

  /** The row stays: only the link goes. */
  async abandonRemoval(removal: StagedRemoval): Promise<void> {
    if (removal.tempPath) await removeQuietly(removal.tempPath);
  }

  async remove(relativePath: string): Promise<void> {
    await removeQuietly(this.resolve(relativePath));
  }

  /**
   * Temp folders of processes that died (this host's, whose pid is gone) or that are older
   * than a day (another host's, on a shared volume), and the files staged in them with the
   * path each was bound for.
   */
  async abandonedStaging(): Promise<{ dirs: string[]; files: Array<{ tempPath: string; relativePath: string }> }> {
    const dirs: string[] = [];
    const files: Array<{ tempPath: string; relativePath: string }> = [];
    for (const dir of await fsp.readdir(this.tempRoot).catch(() => [] as string[])) {
      const full = path.join(this.tempRoot, dir);
      if (liveStagingDirs.has(full) || !(await isAbandoned(full, dir))) continue;
      dirs.push(full);
      for (const name of await fsp.readdir(full).catch(() => [] as string[])) {
        const match = /^(\d{4})-(\d{2})-(\d{2})-([0-9a-f-]{36}\.[a-z]+)$/.exec(name);
        if (match) files.push({ tempPath: path.join(full, name), relativePath: `${match[1]}/${match[2]}/${match[3]}/${match[4]}` });
      }
    }
    return { dirs, files };
  }

  /** Removes the temp folders of dead processes (once their files are dealt with). */
  async removeDirs(dirs: string[]): Promise<void> {
    for (const dir of dirs) await fsp.rm(dir, { recursive: true, force: true });
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.createdDirs.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
    this.createdDirs.add(dir);
  }

  /**
   * A folder of this process's own in the upload folder's temp area while `use` runs: on
   * the uploads' filesystem, so stored files link into it and out of it without copying
   * (a backup's snapshot, a restore's staging). Other processes see it as live until
   * it is removed, and as abandoned should this one die.
   */
  async withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
    const dir = path.join(this.tempRoot, `${os.hostname()}~${process.pid}~${randomUUID().replaceAll('-', '')}`);
    await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
    liveStagingDirs.add(dir);
    try {
      return await use(dir);
    } finally {
      liveStagingDirs.delete(dir);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  /** Forgets this process's temp folder (called when the context closes). */
  async close(): Promise<void> {
    liveStagingDirs.delete(this.processTempDir);
    await fsp.rm(this.processTempDir, { recursive: true, force: true });
  }
}

/** A path that is gone or leads through a symlink is a finding; other errors (EMFILE, EIO) are thrown. */
function problemOf(error: unknown): { problem: 'missing' | 'not_regular_file' } {
  const { code } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { problem: 'missing' };
  if (code === 'ELOOP') return { problem: 'not_regular_file' };
  throw error;
}

async function isAbandoned(full: string, dir: string): Promise<boolean> {
  // This host's: abandoned when its process is gone, or when it has our pid but is not one
  // of our live folders (a restarted container reuses pids).
  const owner = /^(.*)~(\d+)~[0-9a-f]+$/.exec(dir);
  if (owner && owner[1] === os.hostname()) return Number(owner[2]) === process.pid || !isAlive(Number(owner[2]));
  const stats = await fsp.stat(full).catch(() => undefined);
  return !stats || Date.now() - stats.mtimeMs > 24 * 60 * 60 * 1000;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function removeQuietly(file: string): Promise<void> {
  await fsp.rm(file, { force: true }).catch(() => undefined);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
