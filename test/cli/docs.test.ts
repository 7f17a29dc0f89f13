import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { formatTimestamp } from '../../src/cli/output.js';
import { DANA_BIN, cleanEnv } from '../helpers/cli.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, expectJsonError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { seed } from '../helpers/seed.js';
import { filesUnder, storedFiles, tempDir } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';

const NOT_ALLOWED = 'File type not allowed. Allowed types: .csv, .docx, .json, .md, .pdf, .txt';
const MIB = 1024 * 1024;

describe('dana docs', () => {
  let home: string;
  let uploads: string;
  let sources: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    uploads = path.join(home, 'uploads');
    sources = tempDir();
    dana = danaIn(home);
  });

  /** Writes a file to upload and returns its path. */
  function source(name: string, bytes: Buffer | string): string {
    const file = path.join(sources, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  describe('upload, get, list, update, delete', () => {
    it('walks a document through its life, printing the API shapes under --json', async () => {
      const uploaded = await dana(['docs', 'upload', source('notes.md', '# Notes\nhello'), '--json']);
      expect(uploaded.code, uploaded.stderr).to.equal(0);
      const document = uploaded.json;
      expect(document).to.have.all.keys('id', 'filename', 'original_filename', 'file_size', 'mime_type', 'sha256', 'text_status', 'text_error', 'topic_id', 'agent_id', 'created_at', 'updated_at');
      expect(document).to.include({ id: 1, original_filename: 'notes.md', file_size: 13, mime_type: 'text/markdown', topic_id: null, agent_id: null });
      expect(storedFiles(uploads).map((file) => path.basename(file))).to.deep.equal([document.filename]);

      const [getJson, getHuman, listJson, listHuman] = await Promise.all([
        dana(['docs', 'get', '1', '--json']),
        dana(['docs', 'get', '1']),
        dana(['docs', 'list', '--json']),
        dana(['docs', 'list']),
      ]);
      expect(getJson.json).to.deep.equal(document);
      expect(parseRecord(getHuman.stdout)).to.include({ id: '1', filename: document.filename, original_filename: 'notes.md', file_size: '13', mime_type: 'text/markdown', topic_id: '' });
      expect(listJson.json).to.deep.equal([document]);
      expect(parseTable(listHuman.stdout)).to.deep.equal([
        { ID: '1', NAME: 'notes.md', SIZE: '13 B', TYPE: 'text/markdown', TOPIC: '', AGENT: '', CREATED: formatTimestamp(document.created_at) },
      ]);

      const updated = await dana(['docs', 'update', '1', '--name', 'final notes.md', '--json']);
      expect(updated.code, updated.stderr).to.equal(0);
      expect(updated.json).to.include({ id: 1, original_filename: 'final notes.md', filename: document.filename, created_at: document.created_at });
      expect(Date.parse(updated.json.updated_at)).to.be.greaterThan(Date.parse(document.updated_at));

      const deleted = await dana(['docs', 'delete', '1', '--json']);
      expect(deleted.json).to.deep.equal({ message: 'Document deleted successfully' });
      expect(filesUnder(uploads)).to.deep.equal([]);
      expectJsonError(await dana(['docs', 'get', '1', '--json']), 3, 'Document not found');
    });

    it('uploads several files into a topic for an agent, printing an array under --json', async () => {
      await seed(home, async (ctx) => {
        await ctx.services.topics.create({ name: 't', description: '' });
        await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      });
      const files = [source('a.txt', 'a'), source('b.csv', 'x,y\n1,2\n'), source('c.json', '{"k":1}')];
      const uploaded = await dana(['docs', 'upload', ...files, '--topic', '1', '--agent', '1', '--json']);
      expect(uploaded.code, uploaded.stderr).to.equal(0);
      expect(uploaded.json).to.be.an('array').with.length(3);
      expect(uploaded.json.map((document: { original_filename: string }) => document.original_filename)).to.deep.equal(['a.txt', 'b.csv', 'c.json']);
      for (const document of uploaded.json) expect(document).to.include({ topic_id: 1, agent_id: 1 });
      expect(storedFiles(uploads)).to.have.length(3);

      const [ofTopic, ofAgent, human] = await Promise.all([
        dana(['docs', 'list', '--topic', '1', '--json']),
        dana(['docs', 'list', '--agent', '1', '--json']),
        dana(['docs', 'upload', source('d.txt', 'd'), source('e.txt', 'e')]),
      ]);
      expect(ofTopic.json).to.deep.equal(uploaded.json);
      expect(ofAgent.json).to.deep.equal(uploaded.json);
      expect(parseTable(human.stdout).map((row) => row.NAME)).to.deep.equal(['d.txt', 'e.txt']);
      expect((await dana(['docs', 'list', '--topic', '1', '--json'])).json).to.have.length(3);
    });

    it('moves a document between topics and detaches it with "none"', async () => {
      await seed(home, async (ctx) => {
        await ctx.services.topics.create({ name: 't', description: '' });
        await uploadBytes(ctx, 'a', 'a.txt');
      });
      expect((await dana(['docs', 'update', '1', '--topic', '1', '--json'])).json).to.include({ topic_id: 1 });
      expect((await dana(['docs', 'update', '1', '--topic', 'none', '--json'])).json).to.include({ topic_id: null });
      const unknown = await dana(['docs', 'update', '1', '--topic', '999', '--json']);
      expectJsonError(unknown, 2);
      expect(unknown.json.detail[0].loc).to.deep.equal(['body', 'topic_id']);
    });
  });

  describe('upload refuses what it cannot store', () => {
    it('refuses a file type that is not allowed with exit 2, the allowed types and no row', async () => {
      const file = source('setup.exe', 'MZ');
      const [human, json] = await Promise.all([dana(['docs', 'upload', file]), dana(['docs', 'upload', file, '--json'])]);
      expectCliError(human, 2, NOT_ALLOWED);
      expectJsonError(json, 2, NOT_ALLOWED);
      expect((await dana(['docs', 'list', '--json'])).json).to.deep.equal([]);
      expect(filesUnder(uploads)).to.deep.equal([]);
    });

    it('stores none of several files when one is not allowed', async () => {
      expectCliError(await dana(['docs', 'upload', source('good.txt', 'ok'), source('bad.html', '<p>')]), 2, /bad\.html: File type not allowed\./);
      expect((await dana(['docs', 'list', '--json'])).json).to.deep.equal([]);
      expect(filesUnder(uploads)).to.deep.equal([]);
    });

    it('checks every file before storing the first: a bad second file leaves nothing stored', async () => {
      const small = danaIn(home, { DANA_MAX_UPLOAD_MB: '1' });
      expectCliError(await small(['docs', 'upload', source('a.txt', 'first'), source('b.exe', 'MZ')]), 2, /b\.exe: File type not allowed\./);
      expectCliError(await small(['docs', 'upload', source('c.txt', 'first'), source('d.pdf', Buffer.alloc(MIB + 1, 1))]), 2, /d\.pdf: File too large\. Maximum size is 1MB$/);
      expect((await small(['docs', 'list', '--json'])).json).to.deep.equal([]);
      expect(filesUnder(uploads)).to.deep.equal([]);
    });

    it('refuses a file over DANA_MAX_UPLOAD_MB with exit 2, and leaves no row and no file', async () => {
      const small = danaIn(home, { DANA_MAX_UPLOAD_MB: '1' });
      const big = source('big.pdf', Buffer.alloc(MIB + 1, 1));
      const [human, json] = await Promise.all([small(['docs', 'upload', big]), small(['docs', 'upload', big, '--json'])]);
      expectCliError(human, 2, 'File too large. Maximum size is 1MB');
      expectJsonError(json, 2, 'File too large. Maximum size is 1MB');
      expect((await small(['docs', 'list', '--json'])).json).to.deep.equal([]);
      expect(filesUnder(uploads)).to.deep.equal([]);
    });

    it('accepts a file of exactly DANA_MAX_UPLOAD_MB', async () => {
      const small = danaIn(home, { DANA_MAX_UPLOAD_MB: '1' });
      const result = await small(['docs', 'upload', source('exact.pdf', Buffer.alloc(MIB, 1)), '--json']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.json).to.include({ file_size: MIB });
    });

    it('refuses a path that does not exist, or a folder, with exit 2 and one line', async () => {
      const [missing, folder] = await Promise.all([
        dana(['docs', 'upload', path.join(sources, 'missing.txt')]),
        dana(['docs', 'upload', sources]),
      ]);
      expectCliError(missing, 2, /missing\.txt/);
      expectCliError(folder, 2);
      expect(filesUnder(uploads)).to.deep.equal([]);
    });

    it('refuses an unknown --topic or --agent with exit 2 naming the field, and stores nothing', async () => {
      const file = source('a.txt', 'a');
      const [topic, agent] = await Promise.all([
        dana(['docs', 'upload', file, '--topic', '9', '--json']),
        dana(['docs', 'upload', file, '--agent', '9', '--json']),
      ]);
      expectJsonError(topic, 2);
      expect(topic.json.detail[0].loc).to.deep.equal(['form', 'topic_id']);
      expectJsonError(agent, 2);
      expect(agent.json.detail[0].loc).to.deep.equal(['form', 'agent_id']);
      expect(filesUnder(uploads)).to.deep.equal([]);
    });
  });

  describe('upload accepts', () => {
    it('an empty file', async () => {
      const result = await dana(['docs', 'upload', source('empty.txt', ''), '--json']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.json).to.include({ file_size: 0, original_filename: 'empty.txt' });
    });

    it('names with spaces, accents and other scripts, kept as they are', async () => {
      const names = ['a b é.txt', 'résumé 履歴書.md', "it's (final) #2.csv"];
      const result = await dana(['docs', 'upload', ...names.map((name) => source(name, 'x')), '--json']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.json.map((document: { original_filename: string }) => document.original_filename)).to.deep.equal(names);
      const table = parseTable((await dana(['docs', 'list'])).stdout);
      expect(table.map((row) => row.NAME)).to.deep.equal(names);
    });
  });

  describe('download', () => {
    it('returns the exact bytes of a few-MB binary file, to a path and to stdout', async () => {
      const bytes = randomBytes(3 * MIB + 123);
      await dana(['docs', 'upload', source('paper.pdf', bytes)]);
      const target = path.join(tempDir(), 'copy.pdf');
      const [toFile, toStdout] = await Promise.all([dana(['docs', 'download', '1', '-o', target]), dana(['docs', 'download', '1', '-o', '-'])]);
      expect(toFile.code, toFile.stderr).to.equal(0);
      expect(toFile.stdout).to.equal('');
      expect(fs.readFileSync(target).equals(bytes)).to.equal(true);
      expect(toStdout.code, toStdout.stderr).to.equal(0);
      expect(toStdout.stdoutBytes.equals(bytes)).to.equal(true);
    });

    it('exits 0 without a word when the reader of -o - stops early', async () => {
      await dana(['docs', 'upload', source('big.pdf', randomBytes(4 * MIB))]);
      const child = spawn(process.execPath, [DANA_BIN, 'docs', 'download', '1', '-o', '-'], {
        env: cleanEnv({ DANA_HOME: home }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code, stderr).to.equal(0);
      expect(stderr).to.equal('');
    });

    it('saves under the original name in a folder given with -o, or in the working folder', async () => {
      await dana(['docs', 'upload', source('report 1.txt', 'content')]);
      const folder = tempDir();
      const cwd = tempDir();
      const [intoFolder, intoCwd] = await Promise.all([dana(['docs', 'download', '1', '-o', folder]), dana(['docs', 'download', '1'], { cwd })]);
      expect(intoFolder.code, intoFolder.stderr).to.equal(0);
      expect(intoCwd.code, intoCwd.stderr).to.equal(0);
      expect(fs.readFileSync(path.join(folder, 'report 1.txt'), 'utf8')).to.equal('content');
      expect(fs.readdirSync(cwd)).to.deep.equal(['report 1.txt']);
    });

    it('refuses to overwrite an existing file without --force (exit 4), and overwrites with it', async () => {
      await dana(['docs', 'upload', source('a.txt', 'new')]);
      const target = path.join(tempDir(), 'a.txt');
      fs.writeFileSync(target, 'old');
      expectCliError(await dana(['docs', 'download', '1', '-o', target]), 4);
      expect(fs.readFileSync(target, 'utf8')).to.equal('old');
      const forced = await dana(['docs', 'download', '1', '-o', target, '--force']);
      expect(forced.code, forced.stderr).to.equal(0);
      expect(fs.readFileSync(target, 'utf8')).to.equal('new');
      expect(fs.readdirSync(path.dirname(target))).to.deep.equal(['a.txt']);
    });

    it('exit 3 for an unknown id and for a document whose file is gone', async () => {
      await dana(['docs', 'upload', source('a.txt', 'a')]);
      for (const file of storedFiles(uploads)) fs.rmSync(path.join(uploads, file));
      const out = tempDir();
      const [unknown, gone] = await Promise.all([
        dana(['docs', 'download', '9', '-o', path.join(out, 'x.txt'), '--json']),
        dana(['docs', 'download', '1', '-o', path.join(out, 'y.txt'), '--json']),
      ]);
      expectJsonError(unknown, 3, 'Document not found');
      expectJsonError(gone, 3, 'Document file not found');
      expect(fs.readdirSync(out)).to.deep.equal([]);
    });
  });

  describe('unknown ids', () => {
    it('exit 3 with {"detail": "Document not found"} under --json, and exit 2 for ids that are not integers', async () => {
      const results = await Promise.all([
        dana(['docs', 'get', '5', '--json']),
        dana(['docs', 'update', '5', '--name', 'x.txt', '--json']),
        dana(['docs', 'delete', '5', '--json']),
        dana(['docs', 'delete', '5']),
        dana(['docs', 'get', 'five', '--json']),
      ]);
      for (const result of results.slice(0, 3)) expectJsonError(result, 3, 'Document not found');
      expectCliError(results[3], 3, 'Document not found');
      expectJsonError(results[4], 2);
    });
  });

  describe('text that cannot be read, and bytes already stored', () => {
    it('warns on stderr naming the document that already holds the same bytes, and stores the copy', async () => {
      const first = await dana(['docs', 'upload', source('orig.txt', 'the same bytes'), '--json']);
      const copy = await dana(['docs', 'upload', source('report.md', 'the same bytes'), '--json']);
      expect(copy.code, copy.stderr).to.equal(0);
      expect(copy.json.id).to.not.equal(first.json.id);
      expect(copy.stderr).to.equal(`Warning: report.md has the same bytes as document ${first.json.id} (orig.txt)\n`);
      const other = await dana(['docs', 'upload', source('other.txt', 'other bytes')]);
      expect(other.stderr).to.equal('');
    });

    it('says on stderr which files could not be read, stores them, and exits 0', async () => {
      const result = await dana(['docs', 'upload', source('scan.pdf', 'not a pdf'), source('fine.txt', 'readable'), '--json']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.json.map((document: { text_status: string }) => document.text_status)).to.deep.equal(['failed', 'indexed']);
      expect(result.stderr).to.equal('Warning: scan.pdf is stored, but its text could not be read: The file is not a PDF (it has no %PDF- header).\n');
    });

    it('exits 1 from docs reindex when some text cannot be read, after printing every result', async () => {
      await dana(['docs', 'upload', source('good.txt', 'readable words'), source('bad.docx', 'not a zip')]);
      const human = await dana(['docs', 'reindex']);
      expect(human.code, human.stderr).to.equal(1);
      expect(human.stdout).to.match(/^2\s+bad\.docx\s+failed\s+0\s+The file is not a DOCX/m);
      expect(human.stderr).to.equal('Error: the text of 1 of 2 documents could not be read.\n');
      const json = await dana(['docs', 'reindex', '--json']);
      expect(json.code).to.equal(1);
      expect(json.json.map((result: { status: string }) => result.status)).to.deep.equal(['indexed', 'failed']);
      expect((await dana(['docs', 'reindex', '1'])).code).to.equal(0);
    });

    it('refuses a new name without an allowed extension with exit 2, naming the flag', async () => {
      await dana(['docs', 'upload', source('keep.txt', 'x')]);
      const result = await dana(['docs', 'update', '1', '--name', 'keep.exe']);
      expectCliError(result, 2, /--name: Must end in an allowed extension/);
      expect((await dana(['docs', 'get', '1', '--json'])).json.original_filename).to.equal('keep.txt');
    });
  });
});
