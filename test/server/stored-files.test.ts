// A document is served only from a regular file inside the upload folder: a symlink planted
// there (to /etc/passwd, or a day folder leading outside) or a FIFO is a 404, never followed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectError, uploadDocument } from '../helpers/api.js';
import { tempDir } from '../helpers/temp.js';

describe('serving stored files', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  /** Uploads a document and returns it with the absolute path of its stored file. */
  async function stored(): Promise<{ id: number; file: string }> {
    const document = await uploadDocument(server, 'notes.txt', 'the real bytes');
    const row = await server.context.knex('documents').where('id', document.id).first('file_path');
    return { id: document.id, file: path.join(server.context.config.uploadDir, row.file_path) };
  }

  it('serves a regular file', async () => {
    const { id } = await stored();
    const res = await server.api(`/api/documents/${id}/download`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('the real bytes');
  });

  it('answers 404 "Document file not found" for a symlink in place of the file', async () => {
    const { id, file } = await stored();
    fs.rmSync(file);
    fs.symlinkSync('/etc/passwd', file);
    await expectError(await server.api(`/api/documents/${id}/download`), 404, 'Document file not found');
  });

  it('answers 404 for a symlink to another stored file inside the folder', async () => {
    const other = await stored();
    const { id, file } = await stored();
    fs.rmSync(file);
    fs.symlinkSync(other.file, file);
    await expectError(await server.api(`/api/documents/${id}/download`), 404, 'Document file not found');
  });

  it('answers 404 when a folder on the way is a symlink leading outside the upload folder', async () => {
    const { id, file } = await stored();
    const outside = tempDir();
    const day = path.dirname(file);
    fs.cpSync(day, outside, { recursive: true });
    fs.rmSync(day, { recursive: true });
    fs.symlinkSync(outside, day);
    await expectError(await server.api(`/api/documents/${id}/download`), 404, 'Document file not found');
    fs.rmSync(day);
    fs.cpSync(outside, day, { recursive: true });
  });

  it('answers 404 for a FIFO in place of the file, without waiting on it', async () => {
    const { id, file } = await stored();
    fs.rmSync(file);
    execFileSync('mkfifo', [file]);
    await expectError(await server.api(`/api/documents/${id}/download`), 404, 'Document file not found');
  });
});

describe('reading the text of stored files', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('does not index what a symlink in place of the file points at', async () => {
    const document = await uploadDocument(server, 'notes.txt', 'harmless words');
    const row = await server.context.knex('documents').where('id', document.id).first('file_path');
    const file = path.join(server.context.config.uploadDir, row.file_path);
    const secret = path.join(tempDir(), 'secret.txt');
    fs.writeFileSync(secret, 'zanzibar password hunter2');
    fs.rmSync(file);
    fs.symlinkSync(secret, file);
    const [result] = await server.context.services.documents.reindex([document.id]);
    expect(result.status).to.equal('failed');
    const passages = await server.context.knex('passages').where('document_id', document.id).count({ n: '*' }).first();
    expect(Number(passages?.n)).to.equal(0);
  });
});
