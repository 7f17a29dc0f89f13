import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { filesUnder, storedFiles } from '../helpers/temp.js';
import { downloadBytes, streamOf, uploadBytes, utcDay } from '../helpers/uploads.js';
import { NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../src/core/errors.js';

const NOT_ALLOWED = 'File type not allowed. Allowed types: .csv, .docx, .json, .md, .pdf, .txt';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MIB = 1024 * 1024;

function locsOf(error: unknown): string[] {
  expect(error).to.be.instanceOf(ValidationError);
  return (error as ValidationError).issues.map((issue) => issue.loc.join('.'));
}

describe('documents service', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  describe('upload stores the exact bytes under YYYY/MM/DD/<uuid><ext>', () => {
    it('returns the Document shape and keeps the bytes at the dated UUID path', async () => {
      const bytes = randomBytes(200_000);
      const before = utcDay();
      const document = await uploadBytes(ctx, bytes, 'Report.PDF');
      const days = [before, utcDay()];
      expect(document).to.have.all.keys('id', 'filename', 'original_filename', 'file_size', 'mime_type', 'sha256', 'text_status', 'text_error', 'topic_id', 'agent_id', 'created_at', 'updated_at');
      expect(document).to.include({ original_filename: 'Report.PDF', file_size: bytes.length, mime_type: 'application/pdf', topic_id: null, agent_id: null });
      expect(document.filename.endsWith('.pdf')).to.equal(true);
      expect(document.filename.slice(0, -4)).to.match(UUID_V4);
      const stored = storedFiles(ctx.config.uploadDir);
      expect(stored).to.have.length(1);
      expect(days.map((day) => `${day}/${document.filename}`)).to.include(stored[0]);
      expect(fs.readFileSync(path.join(ctx.config.uploadDir, stored[0])).equals(bytes)).to.equal(true);
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal(stored);
      expect(await ctx.services.documents.get(document.id)).to.deep.equal(document);
    });

    it('gives every upload its own file, even with the same name', async () => {
      const first = await uploadBytes(ctx, 'one', 'same.txt');
      const second = await uploadBytes(ctx, 'two', 'same.txt');
      expect(first.filename).to.not.equal(second.filename);
      expect(storedFiles(ctx.config.uploadDir)).to.have.length(2);
      expect((await downloadBytes(ctx, first.id)).bytes.toString()).to.equal('one');
      expect((await downloadBytes(ctx, second.id)).bytes.toString()).to.equal('two');
    });
  });

  describe('upload takes the MIME type from the extension', () => {
    it('maps each of the six allowed extensions', async () => {
      const expected: Record<string, string> = {
        'a.pdf': 'application/pdf',
        'a.txt': 'text/plain',
        'a.md': 'text/markdown',
        'a.json': 'application/json',
        'a.csv': 'text/csv',
        'a.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      };
      for (const [name, mimeType] of Object.entries(expected)) {
        const document = await uploadBytes(ctx, 'x', name);
        expect(document.mime_type, name).to.equal(mimeType);
        expect(document.filename.endsWith(path.extname(name)), name).to.equal(true);
      }
    });

    it('reads extensions case-insensitively and stores them lower-cased', async () => {
      for (const name of ['NOTES.TXT', 'Data.Csv', 'Spec.DOCX', 'readme.Md']) {
        const document = await uploadBytes(ctx, 'x', name);
        expect(document.original_filename).to.equal(name);
        expect(document.filename).to.equal(document.filename.toLowerCase());
        expect(document.filename.endsWith(path.extname(name).toLowerCase()), name).to.equal(true);
      }
    });
  });

  describe('upload refuses file types that are not allowed', () => {
    it('answers with the list of allowed types and leaves nothing on disk', async () => {
      for (const name of ['setup.exe', 'notes.txt.exe', 'README', 'page.html', 'archive.tar.gz', 'report\u202Efdp.exe']) {
        const error = await uploadBytes(ctx, 'MZ', name).catch((e) => e);
        expect(error, name).to.be.instanceOf(UnsupportedMediaTypeError).with.property('message', NOT_ALLOWED);
      }
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
      expect((await ctx.services.documents.list()).total).to.equal(0);
    });
  });

  describe('upload refuses files over the limit', () => {
    let small: TestContext;
    beforeEach(async () => {
      small = await openTestContext({ DANA_MAX_UPLOAD_MB: '1' });
    });
    afterEach(async () => {
      await small.close();
    });

    it('answers "File too large" with the limit in MB and leaves no row, no file and no temp file', async () => {
      const error = await uploadBytes(small, Buffer.alloc(MIB + 1, 7), 'big.pdf').catch((e) => e);
      expect(error).to.be.instanceOf(PayloadTooLargeError).with.property('message', 'File too large. Maximum size is 1MB');
      expect((await small.services.documents.list()).total).to.equal(0);
      expect(filesUnder(small.config.uploadDir)).to.deep.equal([]);
    });

    it('accepts a file of exactly the limit', async () => {
      const bytes = randomBytes(MIB);
      const document = await uploadBytes(small, bytes, 'exact.pdf');
      expect(document.file_size).to.equal(MIB);
      expect((await downloadBytes(small, document.id)).bytes.equals(bytes)).to.equal(true);
    });

    it('stops reading an endless stream once it passes the limit', async () => {
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      async function* endless() {
        for (;;) {
          sent += chunk.length;
          yield chunk;
        }
      }
      const error = await small.services.documents.receive(Readable.from(endless()), { clientName: 'endless.txt' }).catch((e) => e);
      expect(error).to.be.instanceOf(PayloadTooLargeError);
      expect(sent).to.be.lessThan(4 * MIB);
      expect(filesUnder(small.config.uploadDir)).to.deep.equal([]);
    });
  });

  describe('upload of an empty file', () => {
    it('is accepted with file_size 0', async () => {
      const document = await ctx.services.documents.receive(Readable.from([]), { clientName: 'empty.txt' });
      expect(document).to.include({ file_size: 0, original_filename: 'empty.txt', mime_type: 'text/plain' });
      const stored = storedFiles(ctx.config.uploadDir);
      expect(stored).to.have.length(1);
      expect(fs.statSync(path.join(ctx.config.uploadDir, stored[0])).size).to.equal(0);
      expect(await downloadBytes(ctx, document.id)).to.deep.equal({ bytes: Buffer.alloc(0), size: 0 });
    });
  });

  describe('upload keeps only the base name of the client\'s file name', () => {
    it('drops directory parts, Unix and Windows', async () => {
      expect((await uploadBytes(ctx, 'x', '../../evil.txt')).original_filename).to.equal('evil.txt');
      expect((await uploadBytes(ctx, 'x', 'C:\\Users\\me\\secret.txt')).original_filename).to.equal('secret.txt');
      expect((await uploadBytes(ctx, 'x', '/etc/cron.d/job.md')).original_filename).to.equal('job.md');
      for (const file of storedFiles(ctx.config.uploadDir)) expect(file).to.match(/^\d{4}\/\d\d\/\d\d\/[^/]+$/);
    });

    it('removes control characters', async () => {
      const document = await uploadBytes(ctx, 'x', 'a\u0000b\u0007c\u001b[31m\u007f\u0085d.txt');
      expect(document.original_filename).to.equal('abc[31md.txt');
    });

    it('keeps unicode', async () => {
      const name = 'résumé 履歴書 🚀 naïve.md';
      expect((await uploadBytes(ctx, 'x', name)).original_filename).to.equal(name);
    });
  });

  describe('upload form fields', () => {
    it('converts ids sent as text', async () => {
      const topic = await ctx.services.topics.create({ name: 't', description: '' });
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      const document = await uploadBytes(ctx, 'x', 'a.txt', { topic_id: String(topic.id), agent_id: String(agent.id) });
      expect(document).to.include({ topic_id: topic.id, agent_id: agent.id });
    });

    it('ignores fields other than topic_id and agent_id', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt', { note: 'hello', file: 'other.exe', original_filename: 'z.pdf' });
      expect(document).to.include({ original_filename: 'a.txt', topic_id: null, agent_id: null });
    });

    it('refuses a topic_id that names no topic, on form.topic_id, leaving nothing on disk', async () => {
      const error = await uploadBytes(ctx, 'x', 'a.txt', { topic_id: '999' }).catch((e) => e);
      expect(locsOf(error)).to.deep.equal(['form.topic_id']);
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
      expect((await ctx.services.documents.list()).total).to.equal(0);
    });

    it('refuses an agent_id that names no agent, on form.agent_id, leaving nothing on disk', async () => {
      const error = await uploadBytes(ctx, 'x', 'a.txt', { agent_id: 999 }).catch((e) => e);
      expect(locsOf(error)).to.deep.equal(['form.agent_id']);
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
      expect((await ctx.services.documents.list()).total).to.equal(0);
    });

    it('refuses ids that are not positive integers', async () => {
      for (const form of [{ topic_id: 'abc' }, { agent_id: '1.5' }, { topic_id: '0' }, { agent_id: '-2' }]) {
        const error = await uploadBytes(ctx, 'x', 'a.txt', form).catch((e) => e);
        expect(locsOf(error), JSON.stringify(form)).to.deep.equal([`form.${Object.keys(form)[0]}`]);
      }
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
    });
  });

  describe('preflight checks an upload before any byte is sent', () => {
    it('refuses a type not allowed, a size over the limit and fields naming no row, storing nothing', async () => {
      const { documents } = ctx.services;
      const refusal = (meta: Parameters<typeof documents.preflight>[0]) => documents.preflight(meta).then(() => undefined, (e) => e);
      expect(await refusal({ clientName: 'setup.exe' })).to.be.instanceOf(UnsupportedMediaTypeError);
      expect(await refusal({ clientName: 'big.pdf', size: ctx.config.maxUploadBytes + 1 })).to.be.instanceOf(PayloadTooLargeError);
      expect(locsOf(await refusal({ clientName: 'a.txt', fields: { topic_id: 999 } }))).to.deep.equal(['form.topic_id']);
      expect(await refusal({ clientName: 'exact.pdf', size: ctx.config.maxUploadBytes })).to.equal(undefined);
      expect((await documents.list()).total).to.equal(0);
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
    });

    it('is what receive runs first: fields known beforehand are refused before a byte is read', async () => {
      let read = false;
      const source = new Readable({
        read() {
          read = true;
          this.push(null);
        },
      });
      const error = await ctx.services.documents.receive(source, { clientName: 'a.txt', fields: { agent_id: 999 } }).catch((e) => e);
      expect(locsOf(error)).to.deep.equal(['form.agent_id']);
      expect(read, 'bytes read').to.equal(false);
    });

    it('awaits fields that follow the bytes (a form), and drops the staged file when they fail', async () => {
      const error = await ctx.services.documents.receive(streamOf('x'), { clientName: 'a.txt', fields: Promise.resolve({ topic_id: '999' }) }).catch((e) => e);
      expect(locsOf(error)).to.deep.equal(['form.topic_id']);
      const cancelled = await ctx.services.documents.receive(streamOf('x'), { clientName: 'a.txt', fields: Promise.reject(new Error('form failed')) }).catch((e) => e);
      expect(cancelled).to.have.property('message', 'form failed');
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
      expect((await ctx.services.documents.list()).total).to.equal(0);
    });
  });

  describe('a failed upload', () => {
    it('leaves neither a row nor a file when the source breaks midway', async () => {
      let reads = 0;
      const source = new Readable({
        read() {
          if (++reads < 3) this.push(Buffer.alloc(64 * 1024, 1));
          else this.destroy(new Error('connection reset'));
        },
      });
      const error = await ctx.services.documents.receive(source, { clientName: 'cut.pdf' }).catch((e) => e);
      expect(error).to.be.instanceOf(Error).with.property('message', 'connection reset');
      expect(filesUnder(ctx.config.uploadDir)).to.deep.equal([]);
      expect((await ctx.services.documents.list()).total).to.equal(0);
    });
  });

  describe('update', () => {
    it('renames, files under a topic and gives to an agent, advancing updated_at', async () => {
      const topic = await ctx.services.topics.create({ name: 't', description: '' });
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      const updated = await ctx.services.documents.update(document.id, { original_filename: 'final.txt', topic_id: topic.id, agent_id: agent.id });
      expect(updated).to.include({
        id: document.id,
        filename: document.filename,
        original_filename: 'final.txt',
        topic_id: topic.id,
        agent_id: agent.id,
        file_size: 1,
        created_at: document.created_at,
      });
      expect(Date.parse(updated.updated_at)).to.be.greaterThan(Date.parse(document.updated_at));
      expect(await ctx.services.documents.get(document.id)).to.deep.equal(updated);
    });

    it('changes only the fields given', async () => {
      const topic = await ctx.services.topics.create({ name: 't', description: '' });
      const document = await uploadBytes(ctx, 'x', 'a.txt', { topic_id: topic.id });
      const updated = await ctx.services.documents.update(document.id, { original_filename: 'b.txt' });
      expect(updated).to.include({ original_filename: 'b.txt', topic_id: topic.id, agent_id: null });
    });

    it('detaches with null', async () => {
      const topic = await ctx.services.topics.create({ name: 't', description: '' });
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      const document = await uploadBytes(ctx, 'x', 'a.txt', { topic_id: topic.id, agent_id: agent.id });
      expect(await ctx.services.documents.update(document.id, { topic_id: null, agent_id: null })).to.include({ topic_id: null, agent_id: null });
    });

    it('sanitises a new original_filename', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      expect((await ctx.services.documents.update(document.id, { original_filename: '../../b\u0001.txt' })).original_filename).to.equal('b.txt');
      expect(locsOf(await ctx.services.documents.update(document.id, { original_filename: '..' }).catch((e) => e))).to.deep.equal(['body.original_filename']);
      expect(locsOf(await ctx.services.documents.update(document.id, { original_filename: '' }).catch((e) => e))).to.deep.equal(['body.original_filename']);
    });

    it('refuses ids that name no row, on the body field, and changes nothing', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      expect(locsOf(await ctx.services.documents.update(document.id, { topic_id: 999 }).catch((e) => e))).to.deep.equal(['body.topic_id']);
      expect(locsOf(await ctx.services.documents.update(document.id, { agent_id: 999 }).catch((e) => e))).to.deep.equal(['body.agent_id']);
      expect(await ctx.services.documents.get(document.id)).to.deep.equal(document);
    });

    it('refuses unknown fields, ids as text and an empty body', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      expect(locsOf(await ctx.services.documents.update(document.id, { filename: 'x.txt' }).catch((e) => e))).to.deep.equal(['body.filename']);
      expect(locsOf(await ctx.services.documents.update(document.id, { topic_id: '1' }).catch((e) => e))).to.deep.equal(['body.topic_id']);
      expect(await ctx.services.documents.update(document.id, {}).catch((e) => e)).to.be.instanceOf(ValidationError);
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.documents.update(999, { original_filename: 'x.txt' }).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Document not found');
    });
  });

  describe('delete', () => {
    it('removes the row and the file', async () => {
      const keep = await uploadBytes(ctx, 'keep', 'keep.txt');
      const document = await uploadBytes(ctx, 'gone', 'gone.txt');
      expect(await ctx.services.documents.delete(document.id)).to.deep.equal({ message: 'Document deleted successfully' });
      expect(await ctx.services.documents.get(document.id).catch((e) => e)).to.be.instanceOf(NotFoundError);
      expect(storedFiles(ctx.config.uploadDir).map((file) => path.basename(file))).to.deep.equal([keep.filename]);
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.documents.delete(999).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Document not found');
    });
  });

  describe('download', () => {
    it('streams the exact bytes and announces their size', async () => {
      const bytes = randomBytes(3 * MIB + 17);
      const document = await ctx.services.documents.receive(streamOf(bytes, 100_000), { clientName: 'data.pdf' });
      const { bytes: downloaded, size } = await downloadBytes(ctx, document.id);
      expect(size).to.equal(bytes.length);
      expect(downloaded.equals(bytes)).to.equal(true);
    });

    it('names the document it belongs to', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      const download = await ctx.services.documents.download(document.id);
      download.stream.destroy();
      expect(download.document).to.deep.equal(document);
    });

    it('is "Document file not found" when the file is gone from disk', async () => {
      const document = await uploadBytes(ctx, 'x', 'a.txt');
      for (const file of storedFiles(ctx.config.uploadDir)) fs.rmSync(path.join(ctx.config.uploadDir, file));
      const error = await ctx.services.documents.download(document.id).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Document file not found');
    });

    it('is "Document not found" for an unknown id', async () => {
      const error = await ctx.services.documents.download(999).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Document not found');
    });
  });

  describe('list', () => {
    it('filters by topic_id and agent_id, with the total after filters', async () => {
      const topic = await ctx.services.topics.create({ name: 't', description: '' });
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      const inTopic = await uploadBytes(ctx, 'x', '1.txt', { topic_id: topic.id });
      const both = await uploadBytes(ctx, 'x', '2.txt', { topic_id: topic.id, agent_id: agent.id });
      const ofAgent = await uploadBytes(ctx, 'x', '3.txt', { agent_id: agent.id });
      const neither = await uploadBytes(ctx, 'x', '4.txt');
      const ids = async (query: Record<string, unknown>) => {
        const page = await ctx.services.documents.list(query);
        return { total: page.total, ids: page.items.map((document) => document.id) };
      };
      expect(await ids({})).to.deep.equal({ total: 4, ids: [inTopic.id, both.id, ofAgent.id, neither.id] });
      expect(await ids({ topic_id: topic.id })).to.deep.equal({ total: 2, ids: [inTopic.id, both.id] });
      expect(await ids({ agent_id: String(agent.id) })).to.deep.equal({ total: 2, ids: [both.id, ofAgent.id] });
      expect(await ids({ topic_id: topic.id, agent_id: agent.id })).to.deep.equal({ total: 1, ids: [both.id] });
      expect(await ids({ topic_id: topic.id, limit: 1, skip: 1 })).to.deep.equal({ total: 2, ids: [both.id] });
      expect(await ids({ topic_id: 999 })).to.deep.equal({ total: 0, ids: [] });
    });

    it('refuses filters that are not positive integers, on the query', async () => {
      expect(locsOf(await ctx.services.documents.list({ topic_id: 'abc' }).catch((e) => e))).to.deep.equal(['query.topic_id']);
    });
  });

  describe('deleting an agent', () => {
    it('keeps its documents, with agent_id null', async () => {
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      const document = await uploadBytes(ctx, 'x', 'a.txt', { agent_id: agent.id });
      await ctx.services.agents.delete(agent.id);
      expect(await ctx.services.documents.get(document.id)).to.include({ agent_id: null, original_filename: 'a.txt' });
    });
  });
});
