import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { testConfig } from '../helpers/context.js';
import { filesUnder, storedFiles, tempDir } from '../helpers/temp.js';
import { downloadBytes, uploadBytes } from '../helpers/uploads.js';
import { createContext } from '../../src/core/context.js';
import { NotFoundError, UnsupportedMediaTypeError } from '../../src/core/errors.js';
import { FileStore, classifyFile, sanitizeFilename } from '../../src/core/files.js';

const NOT_ALLOWED = 'File type not allowed. Allowed types: .csv, .docx, .json, .md, .pdf, .txt';
// Far above any pid Linux hands out (pid_max is at most 2^22), so no process has it.
const DEAD_PID = 2147483646;

describe('file store', () => {
  describe('sanitizeFilename', () => {
    it('keeps only the base name of Unix and Windows paths', () => {
      expect(sanitizeFilename('../../evil.txt')).to.equal('evil.txt');
      expect(sanitizeFilename('C:\\Users\\me\\secret.txt')).to.equal('secret.txt');
      expect(sanitizeFilename('/abs/dir/file.md')).to.equal('file.md');
      expect(sanitizeFilename('dir/file.txt/')).to.equal('file.txt');
    });

    it('turns "." and ".." into an empty name', () => {
      for (const name of ['..', '.', '../..', 'a/..', '..\\..']) expect(sanitizeFilename(name), name).to.equal('');
    });

    it('removes NUL and other control characters', () => {
      expect(sanitizeFilename('a\u0000b.txt')).to.equal('ab.txt');
      expect(sanitizeFilename('line\nbreak\r\t.txt')).to.equal('linebreak.txt');
      expect(sanitizeFilename('\u0000\u0001\u001f')).to.equal('');
    });

    it('removes bidirectional override characters that disguise extensions', () => {
      expect(sanitizeFilename('invoice\u202Efdp.exe')).to.equal('invoicefdp.exe');
      expect(sanitizeFilename('a\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069b.txt')).to.equal('ab.txt');
    });

    it('keeps unicode, in composed (NFC) form', () => {
      expect(sanitizeFilename('résumé 履歴書 🚀.md')).to.equal('résumé 履歴書 🚀.md');
      expect(sanitizeFilename('cafe\u0301.md')).to.equal('caf\u00e9.md');
    });

    it('trims surrounding whitespace', () => {
      expect(sanitizeFilename('  notes.txt  ')).to.equal('notes.txt');
    });

    it('cuts a long name to 255 characters keeping the extension', () => {
      const name = sanitizeFilename(`${'a'.repeat(996)}.pdf`);
      expect(name).to.have.length(255);
      expect(name).to.equal(`${'a'.repeat(251)}.pdf`);
    });

    it('cuts a long name between characters, never inside one', () => {
      const name = sanitizeFilename(`${'🚀'.repeat(300)}.txt`);
      expect(name.length).to.be.at.most(255);
      expect(name.endsWith('.txt')).to.equal(true);
      expect(name, 'no lone UTF-16 surrogate').to.not.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      expect(name.replace('.txt', '')).to.match(/^(🚀)+$/u);
    });
  });

  describe('classifyFile', () => {
    it('gives the sanitised name, the lower-cased extension and its MIME type', () => {
      expect(classifyFile('../Report.PDF')).to.deep.equal({ originalFilename: 'Report.PDF', extension: '.pdf', mimeType: 'application/pdf' });
      expect(classifyFile('data.csv')).to.deep.equal({ originalFilename: 'data.csv', extension: '.csv', mimeType: 'text/csv' });
    });

    it('refuses other types, by the real extension', () => {
      for (const name of ['x.exe', 'x.txt.exe', 'x', 'x.html', 'x.pdf.', 'photo\u202Etxt.exe', '..', '']) {
        expect(() => classifyFile(name), JSON.stringify(name)).to.throw(UnsupportedMediaTypeError, NOT_ALLOWED);
      }
    });
  });

  describe('resolve keeps stored paths inside the upload folder', () => {
    const root = path.join(os.tmpdir(), 'dana-resolve', 'uploads');
    const store = new FileStore(root, 1024, 1);

    it('resolves a stored relative path under the upload folder', () => {
      expect(store.resolve('2025/01/02/a.txt')).to.equal(path.join(root, '2025', '01', '02', 'a.txt'));
    });

    it('refuses paths that leave it with "Document file not found"', () => {
      for (const relative of ['../x', '/etc/passwd', '2025/../../x', '..', '', '.', '../uploads-evil/a.txt', `${root}/a.txt`]) {
        expect(() => store.resolve(relative), relative).to.throw(NotFoundError, 'Document file not found');
      }
    });

    it('never opens a file outside it', async () => {
      const error = await store.open('../../../../../../etc/passwd').catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Document file not found');
    });
  });

  describe('recovery from a crashed upload', () => {
    let home: string;
    let uploadDir: string;
    beforeEach(() => {
      home = tempDir();
      uploadDir = testConfig(home).uploadDir;
    });

    /** What a process leaves when it dies after placing a file: the temp link and the placed file. */
    function leaveStagedFile(owner: string, relativePath = `2025/01/02/${randomUUID()}.txt`) {
      const stagingDir = path.join(uploadDir, '.tmp', `${owner}~abcd1234`);
      const tempFile = path.join(stagingDir, relativePath.replaceAll('/', '-'));
      const placed = path.join(uploadDir, relativePath);
      fs.mkdirSync(stagingDir, { recursive: true });
      fs.mkdirSync(path.dirname(placed), { recursive: true });
      if (fs.existsSync(placed)) fs.linkSync(placed, tempFile);
      else {
        fs.writeFileSync(tempFile, 'half done');
        fs.linkSync(tempFile, placed);
      }
      return { stagingDir, tempFile, placed, relativePath };
    }

    async function reopen() {
      const ctx = await createContext(testConfig(home));
      return ctx;
    }

    it('removes a dead process\'s staged file and its placed copy when no row names it', async () => {
      const ctx = await reopen();
      const kept = await uploadBytes(ctx, 'kept', 'kept.txt');
      await ctx.close();
      const keptFiles = storedFiles(uploadDir);
      const crash = leaveStagedFile(`${os.hostname()}~${DEAD_PID}`);
      const next = await reopen();
      try {
        expect(fs.existsSync(crash.placed)).to.equal(false);
        expect(fs.existsSync(crash.stagingDir)).to.equal(false);
        expect(storedFiles(uploadDir)).to.deep.equal(keptFiles);
        expect(filesUnder(uploadDir)).to.deep.equal(keptFiles);
        expect((await downloadBytes(next, kept.id)).bytes.toString()).to.equal('kept');
      } finally {
        await next.close();
      }
    });

    it('keeps the stored file and removes only the temp when its row was committed', async () => {
      const ctx = await reopen();
      const document = await uploadBytes(ctx, 'committed', 'a.txt');
      await ctx.close();
      const [stored] = storedFiles(uploadDir);
      const crash = leaveStagedFile(`${os.hostname()}~${DEAD_PID}`, stored);
      const next = await reopen();
      try {
        expect(fs.existsSync(crash.stagingDir)).to.equal(false);
        expect(filesUnder(uploadDir)).to.deep.equal([stored]);
        expect((await downloadBytes(next, document.id)).bytes.toString()).to.equal('committed');
      } finally {
        await next.close();
      }
    });

    it('finishes a delete cut short between its commit and the file\'s removal', async () => {
      const ctx = await reopen();
      const document = await uploadBytes(ctx, 'deleted', 'gone.txt');
      const [stored] = storedFiles(uploadDir);
      // What documents.delete leaves when the process dies right after its commit.
      await ctx.knex('documents').where('id', document.id).delete();
      await ctx.close();
      const crash = leaveStagedFile(`${os.hostname()}~${DEAD_PID}`, stored);
      const next = await reopen();
      try {
        expect(fs.existsSync(crash.placed)).to.equal(false);
        expect(filesUnder(uploadDir)).to.deep.equal([]);
      } finally {
        await next.close();
      }
    });

    it('leaves nothing in staging after an ordinary delete', async () => {
      const ctx = await reopen();
      const document = await uploadBytes(ctx, 'bye', 'bye.txt');
      await ctx.services.documents.delete(document.id);
      try {
        expect(filesUnder(uploadDir)).to.deep.equal([]);
      } finally {
        await ctx.close();
      }
    });

    it('leaves the staging folder of a live process alone', async () => {
      const live = leaveStagedFile(`${os.hostname()}~${process.ppid}`);
      const ctx = await reopen();
      try {
        expect(fs.existsSync(live.tempFile)).to.equal(true);
        expect(fs.existsSync(live.placed)).to.equal(true);
      } finally {
        await ctx.close();
      }
    });

    it('leaves another host\'s recent staging folder alone and clears one older than a day', async () => {
      const recent = leaveStagedFile(`other-host~${DEAD_PID}`);
      const old = leaveStagedFile(`old-host~${DEAD_PID}`);
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
      fs.utimesSync(old.stagingDir, twoDaysAgo, twoDaysAgo);
      const ctx = await reopen();
      try {
        expect(fs.existsSync(recent.tempFile)).to.equal(true);
        expect(fs.existsSync(recent.placed)).to.equal(true);
        expect(fs.existsSync(old.stagingDir)).to.equal(false);
        expect(fs.existsSync(old.placed)).to.equal(false);
      } finally {
        await ctx.close();
      }
    });
  });
});
