// The text lifecycle of a document: its digest, whether its text could be read (and why
// not), parsing in bounded parser processes, and pending documents finished at start.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { createContext } from '../../src/core/context.js';
import { ValidationError } from '../../src/core/errors.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { docxBomb } from '../helpers/bombs.js';
import { fixture } from '../helpers/chat.js';
import { childProcesses } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

async function passageCount(ctx: TestContext, documentId: number): Promise<number> {
  const row = await ctx.knex('passages').where('document_id', documentId).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

describe('document text', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext({ DANA_EXTRACT_MEMORY_MB: '128', DANA_EXTRACT_TIMEOUT_S: '20' });
  });
  afterEach(async () => {
    await ctx.close();
  });

  describe('sha256 is the hex digest of the stored bytes', () => {
    it('for a file with content', async () => {
      const bytes = fixture('photosynthesis.pdf');
      expect((await uploadBytes(ctx, bytes, 'a.pdf')).sha256).to.equal(sha256(bytes));
    });

    it('for an empty file', async () => {
      expect((await uploadBytes(ctx, '', 'empty.txt')).sha256).to.equal(EMPTY_SHA256);
    });

    it('lists the copies of the same bytes with ?sha256 (in either case)', async () => {
      const first = await uploadBytes(ctx, 'same bytes', 'one.txt');
      await uploadBytes(ctx, 'other bytes', 'other.txt');
      const second = await uploadBytes(ctx, 'same bytes', 'two.md');
      const page = await ctx.services.documents.list({ sha256: sha256('same bytes').toUpperCase() });
      expect(page.items.map((document) => document.id)).to.deep.equal([first.id, second.id]);
      expect(page.total).to.equal(2);
    });
  });

  describe('text_status says whether the text could be read', () => {
    it('indexes a .txt, with text_error null, and its passages are searchable', async () => {
      const document = await uploadBytes(ctx, 'The lighthouse keeper polished the brass lantern.', 'keeper.txt');
      expect([document.text_status, document.text_error]).to.deep.equal(['indexed', null]);
      expect(await passageCount(ctx, document.id)).to.equal(1);
    });

    it('indexes a PDF and a DOCX, parsed in a parser process', async () => {
      const pdf = await uploadBytes(ctx, fixture('photosynthesis.pdf'), 'p.pdf');
      const docx = await uploadBytes(ctx, fixture('volcanoes.docx'), 'v.docx');
      expect([pdf.text_status, docx.text_status]).to.deep.equal(['indexed', 'indexed']);
      expect(await passageCount(ctx, pdf.id)).to.equal(1);
      expect(await passageCount(ctx, docx.id)).to.equal(1);
    });

    it('indexes an empty file with no passages, whatever its type', async () => {
      for (const name of ['empty.txt', 'empty.pdf', 'empty.docx']) {
        const document = await uploadBytes(ctx, '', name);
        expect([document.text_status, document.text_error], name).to.deep.equal(['indexed', null]);
        expect(await passageCount(ctx, document.id)).to.equal(0);
      }
    });

    it('fails a truncated PDF with the reason, and keeps its bytes', async () => {
      const pdf = fixture('photosynthesis.pdf');
      const document = await uploadBytes(ctx, pdf.subarray(0, pdf.length / 2), 'truncated.pdf');
      expect(document.text_status).to.equal('failed');
      expect(document.text_error).to.match(/^The PDF could not be read \(.+\)\.$/);
      expect(document.file_size).to.equal(Math.floor(pdf.length / 2));
    });

    it('fails a text file named .pdf, saying it is not a PDF', async () => {
      const document = await uploadBytes(ctx, 'just some notes, not a PDF', 'notes.pdf');
      expect([document.text_status, document.text_error]).to.deep.equal(['failed', 'The file is not a PDF (it has no %PDF- header).']);
    });

    it('fails a DOCX that is not a zip archive, and one that is a damaged zip', async () => {
      const notZip = await uploadBytes(ctx, 'plain words', 'words.docx');
      expect([notZip.text_status, notZip.text_error]).to.deep.equal(['failed', 'The file is not a DOCX (it is not a zip archive).']);
      const damaged = await uploadBytes(ctx, Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(100)]), 'damaged.docx');
      expect(damaged.text_status).to.equal('failed');
      expect(damaged.text_error).to.match(/^The DOCX could not be read \(.+\)\.$/);
    });

    it('fails a document whose stored file is missing when it is reindexed', async () => {
      const document = await uploadBytes(ctx, 'soon gone', 'gone.txt');
      const row = await ctx.knex('documents').where('id', document.id).first();
      fs.rmSync(ctx.files.resolve(row.file_path));
      const [result] = await ctx.services.documents.reindex([document.id]);
      expect(result).to.include({ status: 'failed', error: 'The stored file is missing.', passages: 0 });
      expect(await passageCount(ctx, document.id)).to.equal(0);
    });

    it('fails a DOCX bomb with the memory limit as its reason, then reads the next file in a fresh parser process', async function () {
      this.timeout(60_000);
      const bomb = await uploadBytes(ctx, await docxBomb(100), 'bomb.docx');
      expect(bomb.text_status).to.equal('failed');
      expect(bomb.text_error).to.equal('Reading the text needed more than 128 MB of memory.');
      const next = await uploadBytes(ctx, fixture('volcanoes.docx'), 'next.docx');
      expect(next.text_status).to.equal('indexed');
    });
  });

  describe('parser processes', () => {
    it('are started for a PDF and stopped when the context closes', async () => {
      const before = childProcesses('parser-process');
      const other = await openTestContext();
      try {
        await uploadBytes(other, fixture('photosynthesis.pdf'), 'p.pdf');
        const started = childProcesses('parser-process').filter((pid) => !before.includes(pid));
        expect(started).to.have.length(1);
        await other.close();
        expect(childProcesses('parser-process').filter((pid) => started.includes(pid))).to.deep.equal([]);
      } finally {
        await other.close();
      }
    });
  });

  describe('original_filename keeps an allowed extension', () => {
    it('accepts a new name with an allowed extension, in any case', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      expect((await ctx.services.documents.update(document.id, { original_filename: 'Final.MD' })).original_filename).to.equal('Final.MD');
    });

    for (const name of ['report', 'report.exe', 'report.txt.exe', '.txt', 'report.']) {
      it(`refuses ${JSON.stringify(name)} with a 422 on original_filename, changing nothing`, async () => {
        const document = await uploadBytes(ctx, 'x', 'a.txt');
        const error = await ctx.services.documents.update(document.id, { original_filename: name }).catch((caught: unknown) => caught);
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).issues.map((issue) => issue.loc.join('.'))).to.deep.equal(['body.original_filename']);
        expect((await ctx.services.documents.get(document.id)).original_filename).to.equal('a.txt');
      });
    }
  });
});

describe('the next start finishes what a crash left undone', () => {
  it('indexes documents left "pending" and fills in a missing sha256', async () => {
    const first = await openTestContext();
    const bytes = 'The harbour master logs every tide at Portsoy.';
    const txt = await uploadBytes(first, bytes, 'tides.txt');
    const pdf = await uploadBytes(first, fixture('photosynthesis.pdf'), 'p.pdf');
    await first.knex('documents').update({ text_status: 'pending', text_error: null, sha256: null });
    await first.knex('passages').delete();

    const second = await createContext(first.config);
    try {
      const documents = (await second.services.documents.list()).items;
      expect(documents.map((document) => [document.text_status, document.sha256])).to.deep.equal([
        ['indexed', sha256(bytes)],
        ['indexed', sha256(fixture('photosynthesis.pdf'))],
      ]);
      expect(await passageCount(second as TestContext, txt.id)).to.equal(1);
      expect(await passageCount(second as TestContext, pdf.id)).to.equal(1);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('marks a pending document whose file is gone as failed', async () => {
    const first = await openTestContext();
    const document = await uploadBytes(first, 'short-lived', 'gone.txt');
    const row = await first.knex('documents').where('id', document.id).first();
    fs.rmSync(first.files.resolve(row.file_path));
    await first.knex('documents').update({ text_status: 'pending' });
    const second = await createContext(first.config);
    try {
      expect(await second.services.documents.get(document.id)).to.include({ text_status: 'failed', text_error: 'The stored file is missing.' });
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('leaves alone a pending document that another process is still indexing (its staged link is there)', async () => {
    const first = await openTestContext();
    const document = await uploadBytes(first, 'being indexed elsewhere', 'busy.txt');
    const row = await first.knex('documents').where('id', document.id).first();
    await first.knex('documents').update({ text_status: 'pending' });
    const link = path.join(tempDir(), 'staged-elsewhere.txt');
    fs.linkSync(first.files.resolve(row.file_path), link);
    const second = await createContext(first.config);
    try {
      expect((await second.services.documents.get(document.id)).text_status).to.equal('pending');
    } finally {
      await second.close();
      await first.close();
    }
  });
});
