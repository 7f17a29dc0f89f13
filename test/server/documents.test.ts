import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { filesUnder, storedFiles } from '../helpers/temp.js';
import { utcDay } from '../helpers/uploads.js';
import {
  chunksOf, multipartBody, rawExchange, requestHead, streamRequest, type Part,
} from '../helpers/http.js';
import {
  bodyOf, ISO_UTC, createAgent, createTopic, expectCreated, expectError, expectLocs, isLater, postFile, uploadDocument,
} from '../helpers/api.js';

const DOCUMENT_KEYS = ['id', 'filename', 'original_filename', 'file_size', 'mime_type', 'sha256', 'text_status', 'text_error', 'topic_id', 'agent_id', 'created_at', 'updated_at'];
const UUID_V4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const NOT_ALLOWED = 'File type not allowed. Allowed types: .csv, .docx, .json, .md, .pdf, .txt';
const MiB = 1024 * 1024;

/** What a failed upload must not change: the rows, the stored files, and the temp area. */
interface Snapshot {
  rows: number[];
  stored: string[];
}

async function snapshot(server: TestServer): Promise<Snapshot> {
  const rows = (await server.context.knex('documents').select('id').orderBy('id')).map((row: { id: number }) => row.id);
  return { rows, stored: storedFiles(server.context.config.uploadDir) };
}

function tempFiles(server: TestServer): string[] {
  return filesUnder(path.join(server.context.config.uploadDir, '.tmp'));
}

/** Expects no new row and no new stored file. */
async function expectNoRowNoFile(server: TestServer, before: Snapshot): Promise<void> {
  expect(await snapshot(server)).to.deep.equal(before);
}

/** Expects no file under uploads/.tmp, at once or once the server has had `waitMs` to settle. */
async function expectNoTempFiles(server: TestServer, waitMs = 0): Promise<void> {
  for (let waited = 0; tempFiles(server).length && waited < waitMs; waited += 25) await delay(25);
  expect(tempFiles(server), 'temp files under uploads/.tmp').to.deep.equal([]);
}

/** A refused upload leaves no row, no stored file and no temp file. */
async function expectNothingLeft(server: TestServer, before: Snapshot, waitMs = 0): Promise<void> {
  await expectNoRowNoFile(server, before);
  await expectNoTempFiles(server, waitMs);
}

function postMultipart(server: TestServer, parts: Part[], urlPath = '/api/documents/upload'): Promise<Response> {
  const { body, contentType } = multipartBody(parts);
  return server.api(urlPath, { method: 'POST', headers: { 'content-type': contentType }, body });
}

function storedPath(server: TestServer, document: { filename: string }, day = utcDay()): string {
  return path.join(server.context.config.uploadDir, ...day.split('/'), document.filename);
}

describe('REST documents', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  describe('uploading a document', () => {
    for (const urlPath of ['/api/documents/upload', '/api/documents/', '/documents/upload', '/documents']) {
      it(`answers 201 with the Document and a Location that answers 200 on POST ${urlPath}`, async () => {
        const res = await postFile(server, 'notes.txt', 'some notes', {}, { path: urlPath });
        const document = await expectCreated(server, res);
        expect(document).to.have.all.keys(...DOCUMENT_KEYS);
        expect(res.headers.get('location')).to.equal(`/api/documents/${document.id}`);
        expect(document).to.include({ original_filename: 'notes.txt', file_size: 10, mime_type: 'text/plain', topic_id: null, agent_id: null });
        expect(document.created_at).to.match(ISO_UTC);
        expect(document.updated_at).to.equal(document.created_at);
      });
    }

    it('stores the exact bytes at uploads/YYYY/MM/DD/<uuid v4><lower-cased extension>', async () => {
      const bytes = randomBytes(4096);
      const dayBefore = utcDay();
      const document = await uploadDocument(server, 'Report.Final.PDF', bytes);
      const day = [dayBefore, utcDay()].find((d) => fs.existsSync(storedPath(server, document, d))) ?? dayBefore;
      expect(document.filename).to.match(new RegExp(`^${UUID_V4}\\.pdf$`));
      expect(document).to.include({ original_filename: 'Report.Final.PDF', mime_type: 'application/pdf', file_size: 4096 });
      expect(fs.readFileSync(storedPath(server, document, day)).equals(bytes)).to.equal(true);
      const row = await server.context.knex('documents').where('id', document.id).first();
      expect(row.file_path).to.equal(`${day}/${document.filename}`);
    });

    it('takes mime_type from the extension, not from the client\'s header', async () => {
      const expected: Record<string, string> = {
        'a.pdf': 'application/pdf',
        'a.txt': 'text/plain',
        'a.md': 'text/markdown',
        'a.json': 'application/json',
        'a.csv': 'text/csv',
        'a.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'B.CSV': 'text/csv',
      };
      for (const [name, mime] of Object.entries(expected)) {
        const res = await postFile(server, name, 'x', {}, { type: 'text/html' });
        expect(res.status, name).to.equal(201);
        expect((await bodyOf(res)).mime_type, name).to.equal(mime);
      }
    });

    it('accepts an empty file', async () => {
      const document = await uploadDocument(server, 'empty.txt', Buffer.alloc(0));
      expect(document.file_size).to.equal(0);
      const download = await server.api(`/api/documents/${document.id}/download`);
      expect(download.status).to.equal(200);
      expect(download.headers.get('content-length')).to.equal('0');
      expect((await download.arrayBuffer()).byteLength).to.equal(0);
    });

    it('ignores other text fields', async () => {
      const res = await postFile(server, 'extra.md', '# x', { title: 'A title', description: 'words', colour: 'red' });
      expect(res.status).to.equal(201);
      expect(await bodyOf(res)).to.have.all.keys(...DOCUMENT_KEYS);
    });

    it('stores topic_id and agent_id form fields as integers', async () => {
      const topic = await createTopic(server);
      const agent = await createAgent(server);
      const document = await uploadDocument(server, 'linked.txt', 'x', { topic_id: String(topic.id), agent_id: String(agent.id) });
      expect(document.topic_id).to.equal(topic.id);
      expect(document.agent_id).to.equal(agent.id);
    });
  });

  describe('uploaded file names', () => {
    it('keep only the base name of a Unix path', async () => {
      const res = await postMultipart(server, [{ name: 'file', filename: '../../evil.txt', data: 'x' }]);
      expect(res.status).to.equal(201);
      expect((await bodyOf(res)).original_filename).to.equal('evil.txt');
    });

    it('keep only the base name of a Windows path', async () => {
      const res = await postMultipart(server, [{ name: 'file', filename: 'C:\\dir\\secret.txt', data: 'x' }]);
      expect(res.status).to.equal(201);
      expect((await bodyOf(res)).original_filename).to.equal('secret.txt');
    });

    it('lose raw control bytes sent in the part header', async () => {
      const res = await postMultipart(server, [{ name: 'file', filename: Buffer.from('a\u0001b.txt', 'latin1'), data: 'control' }]);
      const text = await res.text();
      expect(res.status, text).to.equal(201);
      const document = JSON.parse(text);
      expect(document.original_filename).to.equal('ab.txt');
      expect(Buffer.from(await (await server.api(`/api/documents/${document.id}/download`)).arrayBuffer()).toString()).to.equal('control');
    });

    it('keep unicode characters', async () => {
      for (const name of ['résumé 2024.md', '日本語のファイル.txt', 'Ünïcødé 🦊.json']) {
        const res = await postFile(server, name, '{}');
        expect(res.status, name).to.equal(201);
        expect((await bodyOf(res)).original_filename).to.equal(name);
      }
    });
  });

  describe('uploads refuse files of types not allowed', () => {
    for (const name of ['virus.exe', 'page.html', 'README', 'notes.txt.exe', 'archive.tar.gz']) {
      it(`answers 415 with the allowed types for "${name}" and leaves nothing behind`, async () => {
        const before = await snapshot(server);
        await expectError(await postFile(server, name, randomBytes(2048)), 415, NOT_ALLOWED);
        await expectNothingLeft(server, before);
      });
    }
  });

  describe('uploads stream without forced garbage collection', () => {
    it('leaves gc() unexposed in the process that served an upload', async () => {
      await uploadDocument(server, 'streamed.pdf', randomBytes(5 * MiB));
      expect((globalThis as { gc?: unknown }).gc).to.equal(undefined);
    });
  });

  describe('uploads refuse malformed forms', () => {
    it('answers 422 with loc ["form", "file"] when the file comes under another field name', async () => {
      const before = await snapshot(server);
      await expectLocs(await postFile(server, 'notes.txt', 'x', {}, { fieldName: 'document' }), ['form', 'file']);
      await expectNothingLeft(server, before);
    });

    it('answers 422 with loc ["form", "file"] to two files, leaving neither behind', async () => {
      const before = await snapshot(server);
      const res = await postMultipart(server, [
        { name: 'file', filename: 'a.txt', data: randomBytes(200 * 1024) },
        { name: 'file', filename: 'b.txt', data: 'second' },
      ]);
      await expectLocs(res, ['form', 'file']);
      await expectNothingLeft(server, before);
    });

    it('answers 422 with loc ["form", "file"] for a form without a file', async () => {
      const form = new FormData();
      form.append('title', 'no file');
      await expectLocs(await server.api('/api/documents/upload', { method: 'POST', body: form }), ['form', 'file']);
    });

    it('answers 415 to a JSON body and to other content types', async () => {
      const before = await snapshot(server);
      expect((await server.api('/api/documents/upload', json('POST', { file: 'x' }))).status).to.equal(415);
      expect((await server.api('/api/documents/', json('POST', { file: 'x' }))).status).to.equal(415);
      const textPlain = await server.api('/api/documents/upload', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      expect(textPlain.status).to.equal(415);
      expect(Object.keys(await bodyOf(textPlain))).to.deep.equal(['detail']);
      expect((await server.api('/api/documents/upload', { method: 'POST', body: new URLSearchParams({ file: 'x' }) })).status).to.equal(415);
      await expectNothingLeft(server, before);
    });

    it('answers 422 naming topic_id or agent_id when they name no row, leaving nothing behind', async () => {
      const before = await snapshot(server);
      await expectLocs(await postFile(server, 'orphan.txt', randomBytes(1000), { topic_id: '99999' }), ['form', 'topic_id']);
      await expectLocs(await postFile(server, 'orphan.txt', randomBytes(1000), { agent_id: '99999' }), ['form', 'agent_id']);
      await expectNothingLeft(server, before);
    });

    it('answers 422 for topic_id or agent_id that are not positive integers, leaving nothing behind', async () => {
      const before = await snapshot(server);
      for (const value of ['abc', '1.5', '0', '-2']) {
        await expectLocs(await postFile(server, 'bad.txt', 'x', { topic_id: value }), ['form', 'topic_id']);
        await expectLocs(await postFile(server, 'bad.txt', 'x', { agent_id: value }), ['form', 'agent_id']);
      }
      await expectNothingLeft(server, before);
    });

    it('leaves neither a row nor a file when the client disconnects mid-body', async () => {
      const before = await snapshot(server);
      const { body, contentType } = multipartBody([{ name: 'file', filename: 'truncated.txt', data: randomBytes(512 * 1024) }]);
      const head = requestHead('POST', '/api/documents/upload', { 'Content-Type': contentType, 'Content-Length': body.length });
      await rawExchange(server.port, Buffer.concat([head, body.subarray(0, Math.floor(body.length / 2))]));
      await expectNothingLeft(server, before, 3_000);
      expect((await server.api('/api/health')).status, 'the server still answers').to.equal(200);
    });
  });

  describe('downloading a document', () => {
    it('returns the exact bytes of a several-MB binary file with its headers', async () => {
      const bytes = randomBytes(3 * MiB + 12345);
      const document = await uploadDocument(server, 'big-binary.pdf', bytes);
      expect(document.file_size).to.equal(bytes.length);
      const res = await server.api(`/api/documents/${document.id}/download`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/pdf');
      expect(res.headers.get('content-length')).to.equal(String(bytes.length));
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(res.headers.get('content-disposition')).to.equal('attachment; filename="big-binary.pdf"; filename*=UTF-8\'\'big-binary.pdf');
      const received = Buffer.from(await res.arrayBuffer());
      expect(received.length).to.equal(bytes.length);
      expect(received.equals(bytes), 'downloaded bytes equal the uploaded bytes').to.equal(true);
    });

    it('sends Content-Type equal to the stored mime_type', async () => {
      for (const name of ['a.txt', 'a.md', 'a.json', 'a.csv', 'a.docx']) {
        const document = await uploadDocument(server, name, 'x');
        const res = await server.api(`/api/documents/${document.id}/download`);
        expect(res.headers.get('content-type'), name).to.equal(document.mime_type);
        await res.arrayBuffer();
      }
    });

    it('names a non-ASCII file with an ASCII fallback and an exact UTF-8 filename*', async () => {
      const document = await uploadDocument(server, 'résumé 2024.md', '# CV');
      const disposition = (await server.api(`/api/documents/${document.id}/download`)).headers.get('content-disposition') ?? '';
      const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''(\S+)$/.exec(disposition);
      expect(match, disposition).to.not.equal(null);
      const [, fallback, encoded] = match as RegExpExecArray;
      expect(fallback).to.match(/^[\x20-\x7e]+$/);
      expect(fallback).to.match(/\.md$/);
      expect(decodeURIComponent(encoded)).to.equal('résumé 2024.md');
    });

    it('keeps the header parseable for a name with double quotes', async () => {
      const document = await uploadDocument(server, 'say "hi".txt', 'x');
      expect(document.original_filename).to.equal('say "hi".txt');
      const disposition = (await server.api(`/api/documents/${document.id}/download`)).headers.get('content-disposition') ?? '';
      const match = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+.^_`|~-]+)$/.exec(disposition);
      expect(match, disposition).to.not.equal(null);
      expect(decodeURIComponent((match as RegExpExecArray)[2])).to.equal('say "hi".txt');
    });

    it('answers 404 "Document file not found" when the file is gone from disk, while the metadata stays', async () => {
      const document = await uploadDocument(server, 'vanishing.txt', 'soon gone');
      const row = await server.context.knex('documents').where('id', document.id).first();
      fs.rmSync(path.join(server.context.config.uploadDir, row.file_path));
      const res = await server.api(`/api/documents/${document.id}/download`);
      await expectError(res, 404, 'Document file not found');
      expect(res.headers.get('content-disposition')).to.equal(null);
      expect((await server.api(`/api/documents/${document.id}`)).status).to.equal(200);
    });
  });

  describe('reading a document', () => {
    it('answers 200 with the Document', async () => {
      const document = await uploadDocument(server);
      const res = await server.api(`/api/documents/${document.id}`);
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal(document);
    });

    it('answers 404 "Document not found" on every route of an unknown id', async () => {
      await expectError(await server.api('/api/documents/99999'), 404, 'Document not found');
      await expectError(await server.api('/api/documents/99999/download'), 404, 'Document not found');
      await expectError(await server.api('/api/documents/99999', json('PUT', { original_filename: 'x.txt' })), 404, 'Document not found');
      await expectError(await server.api('/api/documents/99999', json('PATCH', { original_filename: 'x.txt' })), 404, 'Document not found');
      await expectError(await server.api('/api/documents/99999', { method: 'DELETE' }), 404, 'Document not found');
    });
  });

  describe('updating a document', () => {
    for (const method of ['PUT', 'PATCH']) {
      it(`${method} renames it, changing only that field and advancing updated_at`, async () => {
        const topic = await createTopic(server);
        const document = await uploadDocument(server, 'old.txt', 'x', { topic_id: String(topic.id) });
        const res = await server.api(`/api/documents/${document.id}`, json(method, { original_filename: 'new name.txt' }));
        expect(res.status).to.equal(200);
        const updated = await bodyOf(res);
        expect(updated).to.have.all.keys(...DOCUMENT_KEYS);
        expect(updated).to.include({
          original_filename: 'new name.txt', filename: document.filename, file_size: document.file_size,
          mime_type: document.mime_type, topic_id: topic.id, agent_id: null, created_at: document.created_at,
        });
        expect(isLater(updated.updated_at, document.updated_at)).to.equal(true);
      });
    }

    it('attaches a topic and an agent, and null detaches them', async () => {
      const topic = await createTopic(server);
      const agent = await createAgent(server);
      const document = await uploadDocument(server);
      const attached = await bodyOf(await server.api(`/api/documents/${document.id}`, json('PATCH', { topic_id: topic.id, agent_id: agent.id })));
      expect(attached).to.include({ topic_id: topic.id, agent_id: agent.id, original_filename: document.original_filename });
      const detached = await bodyOf(await server.api(`/api/documents/${document.id}`, json('PUT', { topic_id: null })));
      expect(detached).to.include({ topic_id: null, agent_id: agent.id });
      const both = await bodyOf(await server.api(`/api/documents/${document.id}`, json('PATCH', { agent_id: null })));
      expect(both).to.include({ topic_id: null, agent_id: null });
    });

    it('answers 422 naming topic_id or agent_id when they name no row, changing nothing', async () => {
      const document = await uploadDocument(server);
      await expectLocs(await server.api(`/api/documents/${document.id}`, json('PATCH', { topic_id: 99999 })), ['body', 'topic_id']);
      await expectLocs(await server.api(`/api/documents/${document.id}`, json('PUT', { agent_id: 99999 })), ['body', 'agent_id']);
      expect(await bodyOf(await server.api(`/api/documents/${document.id}`))).to.deep.equal(document);
    });

    it('refuses fields that cannot be updated, wrong types and an empty body', async () => {
      const document = await uploadDocument(server);
      const url = `/api/documents/${document.id}`;
      await expectLocs(await server.api(url, json('PATCH', { filename: 'x.txt' })), ['body', 'filename']);
      await expectLocs(await server.api(url, json('PATCH', { file_size: 1 })), ['body', 'file_size']);
      await expectLocs(await server.api(url, json('PATCH', { mime_type: 'text/html' })), ['body', 'mime_type']);
      await expectLocs(await server.api(url, json('PATCH', { topic_id: '1' })), ['body', 'topic_id']);
      await expectLocs(await server.api(url, json('PATCH', { original_filename: 5 })), ['body', 'original_filename']);
      await expectLocs(await server.api(url, json('PUT', {})), ['body']);
      expect(await bodyOf(await server.api(url))).to.deep.equal(document);
    });
  });

  describe('deleting a document', () => {
    it('answers {"message": "Document deleted successfully"} and removes the row and the file', async () => {
      const document = await uploadDocument(server, 'doomed.txt', 'bye');
      const row = await server.context.knex('documents').where('id', document.id).first();
      const file = path.join(server.context.config.uploadDir, row.file_path);
      expect(fs.existsSync(file)).to.equal(true);
      const res = await server.api(`/api/documents/${document.id}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal({ message: 'Document deleted successfully' });
      expect(fs.existsSync(file)).to.equal(false);
      expect(await server.context.knex('documents').where('id', document.id)).to.deep.equal([]);
      await expectError(await server.api(`/api/documents/${document.id}`), 404, 'Document not found');
      await expectError(await server.api(`/api/documents/${document.id}/download`), 404, 'Document not found');
    });
  });

  describe('listing documents', () => {
    let list: TestServer;
    let topics: Array<{ id: number }>;
    let agents: Array<{ id: number }>;
    before(async () => {
      list = await startTestServer();
      topics = [await createTopic(list), await createTopic(list)];
      agents = [await createAgent(list), await createAgent(list)];
      const plan: Array<[string, number | null, number | null]> = [
        ['a.txt', 0, 0], ['b.txt', 0, 1], ['c.txt', 1, 0], ['d.txt', null, 0], ['e.txt', 0, null],
      ];
      for (const [name, topic, agent] of plan) {
        const fields: Record<string, string> = {};
        if (topic !== null) fields.topic_id = String(topics[topic].id);
        if (agent !== null) fields.agent_id = String(agents[agent].id);
        await uploadDocument(list, name, name, fields);
      }
    });
    after(async () => {
      await list.close();
    });

    const names = async (res: Response) => (await bodyOf(res)).map((document: { original_filename: string }) => document.original_filename);

    it('answers every document in ascending id order with X-Total-Count', async () => {
      const res = await list.api('/api/documents/');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('5');
      const documents = await bodyOf(res.clone());
      expect(documents[0]).to.have.all.keys(...DOCUMENT_KEYS);
      expect(await names(res)).to.deep.equal(['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt']);
    });

    it('filters by topic_id', async () => {
      const res = await list.api(`/api/documents/?topic_id=${topics[0].id}`);
      expect(res.headers.get('x-total-count')).to.equal('3');
      expect(await names(res)).to.deep.equal(['a.txt', 'b.txt', 'e.txt']);
    });

    it('filters by agent_id', async () => {
      const res = await list.api(`/api/documents/?agent_id=${agents[0].id}`);
      expect(res.headers.get('x-total-count')).to.equal('3');
      expect(await names(res)).to.deep.equal(['a.txt', 'c.txt', 'd.txt']);
    });

    it('filters by both, and pages the result', async () => {
      const res = await list.api(`/api/documents/?topic_id=${topics[0].id}&agent_id=${agents[0].id}`);
      expect(res.headers.get('x-total-count')).to.equal('1');
      expect(await names(res)).to.deep.equal(['a.txt']);
      const page = await list.api(`/api/documents/?topic_id=${topics[0].id}&skip=1&limit=1`);
      expect(page.headers.get('x-total-count')).to.equal('3');
      expect(await names(page)).to.deep.equal(['b.txt']);
    });

    it('refuses filters and paging that are not valid with query locations', async () => {
      await expectLocs(await list.api('/api/documents/?topic_id=abc'), ['query', 'topic_id']);
      await expectLocs(await list.api('/api/documents/?agent_id=1.5'), ['query', 'agent_id']);
      await expectLocs(await list.api('/api/documents/?limit=0'), ['query', 'limit']);
      await expectLocs(await list.api('/api/documents/?skip=-1'), ['query', 'skip']);
    });
  });
});

describe('uploads refuse files over the limit', () => {
  // DANA_MAX_UPLOAD_MB=1: the limit is 1 MiB.
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ DANA_MAX_UPLOAD_MB: '1' });
  });
  after(async () => {
    await server.close();
  });

  it('answers 413 "File too large. Maximum size is 1MB" one byte over, leaving no row and no file', async () => {
    const before = await snapshot(server);
    await expectError(await postFile(server, 'big.txt', randomBytes(MiB + 1)), 413, 'File too large. Maximum size is 1MB');
    await expectNoRowNoFile(server, before);
  });

  it('leaves no temp file under uploads/.tmp once the 413 has been answered', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { body, contentType } = multipartBody([{ name: 'file', filename: 'huge.csv', data: randomBytes(3 * MiB) }]);
      const res = await streamRequest(server.url, {
        path: '/api/documents/upload',
        headers: { 'content-type': contentType, 'content-length': body.length },
        chunks: chunksOf(body, 64 * 1024),
      });
      expect(res.status).to.equal(413);
      await expectNoTempFiles(server);
    }
  });

  it('accepts a file of exactly 1 MiB', async () => {
    const bytes = randomBytes(MiB);
    const document = await uploadDocument(server, 'exact.pdf', bytes);
    expect(document.file_size).to.equal(MiB);
    expect(Buffer.from(await (await server.api(`/api/documents/${document.id}/download`)).arrayBuffer()).equals(bytes)).to.equal(true);
  });

  it('never writes more than the limit to disk while a 5 MB body streams in', async () => {
    const before = await snapshot(server);
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'huge.txt', data: randomBytes(5 * MiB) }]);
    let largest = 0;
    const uploadDir = server.context.config.uploadDir;
    const sizes = () => {
      const newStored = storedFiles(uploadDir).filter((file) => !before.stored.includes(file)).map((file) => path.join(uploadDir, file));
      const temp = tempFiles(server).map((file) => path.join(uploadDir, '.tmp', file));
      for (const file of [...newStored, ...temp]) {
        try {
          largest = Math.max(largest, fs.statSync(file).size);
        } catch {
          // removed meanwhile
        }
      }
    };
    const res = await streamRequest(server.url, {
      path: '/api/documents/upload',
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
      chunks: chunksOf(body, 64 * 1024),
      onChunk: sizes,
    });
    expect(res.status, res.text).to.equal(413);
    expect(largest).to.be.at.most(MiB);
    await expectNothingLeft(server, before, 2_000);
  });

  it('answers 413 while a 5 MB chunked body is still being sent', async () => {
    const before = await snapshot(server);
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'huge.txt', data: randomBytes(5 * MiB) }]);
    const res = await streamRequest(server.url, {
      path: '/api/documents/upload',
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
      chunks: chunksOf(body, 64 * 1024),
      pauseMs: 3,
    });
    expect(res.status, res.text).to.equal(413);
    expect(res.json).to.deep.equal({ detail: 'File too large. Maximum size is 1MB' });
    expect(res.bytesSentAtResponse, `response after ${res.bytesSentAtResponse} of ${body.length} bytes`).to.be.lessThan(body.length);
    await expectNothingLeft(server, before, 2_000);
  });

  it('answers 413 with a declared Content-Length over the limit, without resetting the connection', async () => {
    const before = await snapshot(server);
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'huge.csv', data: randomBytes(3 * MiB) }]);
    const res = await streamRequest(server.url, {
      path: '/api/documents/upload',
      headers: { 'content-type': contentType, 'content-length': body.length },
      chunks: chunksOf(body, 64 * 1024),
    });
    expect(res.status, res.text).to.equal(413);
    expect(res.json).to.deep.equal({ detail: 'File too large. Maximum size is 1MB' });
    await expectNoRowNoFile(server, before);
  });
});
