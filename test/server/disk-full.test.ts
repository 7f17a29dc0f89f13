// A full disk: an upload that finds no room is a 507 with nothing left behind, and a
// document can still be deleted (which is how the owner makes room). The disk is a real
// 2 MiB tmpfs; mounting needs root, so without it these tests are skipped (saying why).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf, expectError, postFile } from '../helpers/api.js';
import { isPostgres } from '../helpers/backend.js';
import { filesUnder, tempDir } from '../helpers/temp.js';

const DISK_BYTES = 2 * 1024 * 1024;

/** A fresh tmpfs, or undefined when this process may not mount one. */
function mountSmallDisk(bytes = DISK_BYTES): string | undefined {
  const dir = tempDir('dana-full-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

function unmount(dir: string | undefined): void {
  if (dir) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Writes a file in `dir` until the disk refuses even one more byte. */
function fillDisk(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'a');
  try {
    for (const size of [64 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function documentCount(server: TestServer): Promise<number> {
  return (await bodyOf(await server.api('/api/documents/'))).length;
}

describe('a full disk', () => {
  describe('under the upload folder', () => {
    let disk: string | undefined;
    let server: TestServer;
    before(async function () {
      disk = mountSmallDisk();
      // Mounting a tmpfs needs root (CAP_SYS_ADMIN): elsewhere there is no small disk to fill.
      if (!disk) this.skip();
      server = await startTestServer({ DANA_UPLOAD_DIR: disk });
    });
    after(async () => {
      await server?.close();
      unmount(disk);
    });

    it('refuses an upload that does not fit with 507 "Not enough disk space", leaving no file and no row', async () => {
      const res = await postFile(server, 'big.txt', Buffer.alloc(DISK_BYTES + 4096, 'a'));
      await expectError(res, 507, 'Not enough disk space');
      expect(filesUnder(disk as string)).to.deep.equal([]);
      expect(await documentCount(server)).to.equal(0);
    });

    it('still deletes a document when the disk is full, and the freed room takes an upload again', async () => {
      const kept = await bodyOf(await postFile(server, 'kept.txt', Buffer.alloc(DISK_BYTES / 2, 'k')));
      fillDisk(disk as string);
      await expectError(await postFile(server, 'more.txt', Buffer.alloc(64 * 1024, 'm')), 507, 'Not enough disk space');
      expect(await documentCount(server)).to.equal(1);

      const res = await server.api(`/api/documents/${kept.id}`, { method: 'DELETE' });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await documentCount(server)).to.equal(0);
      expect(filesUnder(disk as string)).to.deep.equal(['filler']);
      const again = await postFile(server, 'again.txt', Buffer.alloc(64 * 1024, 'a'));
      expect(again.status, await again.clone().text()).to.equal(201);
    });
  });

  describe('under the whole data folder (SQLite)', () => {
    let disk: string | undefined;
    let server: TestServer;
    before(async function () {
      // On PostgreSQL the database is not in the data folder: the case above covers it.
      if (isPostgres) this.skip();
      // Room for the database, its log and a document: not so much that filling it takes long.
      disk = mountSmallDisk(4 * DISK_BYTES);
      if (!disk) this.skip();
      server = await startTestServer({ DANA_HOME: disk });
    });
    after(async () => {
      await server?.close();
      unmount(disk);
    });

    it('refuses an upload with 507 when the database has no room for its row, leaving nothing behind', async () => {
      // A .docx that is not one: stored whole, with no text, so the database stays small.
      const kept = await bodyOf(await postFile(server, 'kept.docx', Buffer.alloc(DISK_BYTES / 2, 'k')));
      // An empty WAL must grow for the row; an empty file needs no room, so the row is what fails.
      await server.context.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
      fillDisk(disk as string);
      const uploads = path.join(disk as string, 'uploads');
      const before = filesUnder(uploads);
      await expectError(await postFile(server, 'empty.txt', ''), 507, 'Not enough disk space');
      expect(filesUnder(uploads)).to.deep.equal(before);
      expect((await bodyOf(await server.api('/api/documents/'))).map((d: { id: number }) => d.id)).to.deep.equal([kept.id]);
    });

    it('deletes a document although SQLite cannot grow its log: the file goes first to make room', async () => {
      const [document] = await bodyOf(await server.api('/api/documents/'));
      // An empty WAL must grow for the delete: with the disk full, only the file's room allows it.
      await server.context.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
      fillDisk(disk as string);
      const res = await server.api(`/api/documents/${document.id}`, { method: 'DELETE' });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await documentCount(server)).to.equal(0);
      expect(filesUnder(path.join(disk as string, 'uploads'))).to.deep.equal([]);
    });
  });
});
