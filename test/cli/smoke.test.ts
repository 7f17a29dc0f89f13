// One run of the built `dana` per user path, as a child process the way users and scripts
// start it: the binary, its manifest and the process's own streams, end to end. Everything
// else about the commands is tested in-process (see helpers/cli-in-process.ts); `dana serve`
// has its own spawned tests in test/server.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { danaIn, type CliResult } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/chat.js';
import { parseRecord, parseTable } from '../helpers/cli-output.js';
import { tempDir } from '../helpers/temp.js';

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).to.equal(0);
  return result;
}

describe('the built dana, one run per user path', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  it('agents: create, then list as a table', async () => {
    expect(ok(await dana(['agents', 'create', '--name', 'Researcher', '--json'])).json).to.include({ id: 1, name: 'Researcher' });
    expect(parseTable(ok(await dana(['agents', 'list'])).stdout).map((row) => row.NAME)).to.deep.equal(['Researcher']);
  });

  it('topics: create, then get', async () => {
    ok(await dana(['topics', 'create', '--name', 'papers']));
    expect(parseRecord(ok(await dana(['topics', 'get', '1'])).stdout)).to.include({ id: '1', name: 'papers' });
  });

  it('docs: upload a file, then download its exact bytes to a file and to stdout', async () => {
    const source = path.join(FIXTURES, 'photosynthesis.pdf');
    const uploaded = ok(await dana(['docs', 'upload', source, '--json'])).json;
    expect(uploaded).to.include({ id: 1, original_filename: 'photosynthesis.pdf' });
    const target = path.join(tempDir(), 'copy.pdf');
    ok(await dana(['docs', 'download', '1', '-o', target]));
    expect(fs.readFileSync(target).equals(fs.readFileSync(source))).to.equal(true);
    expect(ok(await dana(['docs', 'download', '1', '-o', '-'])).stdoutBytes.equals(fs.readFileSync(source))).to.equal(true);
  });

  it('conversations and messages: create both, then list the messages', async () => {
    ok(await dana(['conversations', 'create', '--title', 'notes']));
    ok(await dana(['messages', 'create', '--conversation', '1', '--sender', 'me', '--content', 'hello']));
    expect(ok(await dana(['messages', 'list', '--conversation', '1', '--json'])).json.map((m: { content: string }) => m.content)).to.deep.equal(['hello']);
  });

  it('chat: one question piped on stdin, answered from a document', async () => {
    ok(await dana(['agents', 'create', '--name', 'Librarian']));
    ok(await dana(['docs', 'upload', path.join(FIXTURES, 'photosynthesis.pdf'), '--agent', '1']));
    const answered = ok(await dana(['chat', '--agent', '1'], { input: 'What does chlorophyll absorb?\n' }));
    expect(answered.stdout).to.include('Chlorophyll absorbs sunlight');
    expect(answered.stderr).to.match(/Sources: photosynthesis\.pdf/);
  });

  it('db: migrate, then check', async () => {
    ok(await dana(['db', 'migrate']));
    expect(ok(await dana(['db', 'check', '--json'])).json).to.include({ ok: true });
  });

  it('providers: add one, then list it', async () => {
    ok(await dana(['providers', 'add', 'ollama', '--base-url', 'http://127.0.0.1:11434/v1']));
    expect(ok(await dana(['providers', 'list', '--json'])).json.map((p: { name: string }) => p.name)).to.include('ollama');
  });

  it('tokens: create one (printed once), list it, revoke it', async () => {
    const created = ok(await dana(['tokens', 'create', '--name', 'laptop']));
    expect(created.stdout.trim()).to.match(/^\S{20,}$/);
    expect(created.stderr).to.match(/Store it now/);
    expect(ok(await dana(['tokens', 'list', '--json'])).json.map((t: { name: string }) => t.name)).to.deep.equal(['laptop']);
    ok(await dana(['tokens', 'revoke', 'laptop']));
  });
});
