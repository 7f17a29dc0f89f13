// Error messages that say what went wrong and where: the file, the flag, the command, the
// database; never an internal name or a raw system error code on its own.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError } from '../helpers/cli-output.js';
import { tempDir } from '../helpers/temp.js';

function files(contents: Record<string, string | Buffer>): Record<string, string> {
  const dir = tempDir();
  return Object.fromEntries(Object.entries(contents).map(([name, body]) => {
    fs.writeFileSync(path.join(dir, name), body);
    return [name, path.join(dir, name)];
  }));
}

describe('precise error messages', () => {
  describe('docs upload of several files', () => {
    it('names the file whose type is not allowed, and stores none', async () => {
      const dana = danaIn(tempDir());
      const given = files({ 'notes.md': '# notes', 'setup.exe': 'MZ' });
      const result = await dana(['docs', 'upload', given['notes.md'], given['setup.exe']]);
      expectCliError(result, 2, new RegExp(`${given['setup.exe'].replaceAll('/', '\\/')}: File type not allowed`));
      expect((await dana(['docs', 'list', '--json'])).json).to.deep.equal([]);
    });

    it('names the file that is too large', async () => {
      const dana = danaIn(tempDir(), { DANA_MAX_UPLOAD_MB: '1' });
      const given = files({ 'small.txt': 'hi', 'large.txt': Buffer.alloc(1024 * 1024 + 1, 'a') });
      const result = await dana(['docs', 'upload', given['small.txt'], given['large.txt']]);
      expectCliError(result, 2, /large\.txt: File too large\. Maximum size is 1MB/);
    });
  });

  describe('docs download -o', () => {
    it('creates the missing folders of the path', async () => {
      const dana = danaIn(tempDir());
      await dana(['docs', 'upload', files({ 'notes.md': '# notes' })['notes.md']]);
      const target = path.join(tempDir(), 'missing', 'dir', 'copy.md');
      const result = await dana(['docs', 'download', '1', '-o', target]);
      expect(result.code, result.stderr).to.equal(0);
      expect(fs.readFileSync(target, 'utf8')).to.equal('# notes');
    });

    it('says which folder cannot be created, never a temporary .part name', async () => {
      const dana = danaIn(tempDir());
      const given = files({ 'notes.md': '# notes' });
      await dana(['docs', 'upload', given['notes.md']]);
      const result = await dana(['docs', 'download', '1', '-o', path.join(given['notes.md'], 'sub', 'copy.md')]);
      expectCliError(result, 2, /--output: cannot create the folder .*notes\.md\/sub/);
      expect(result.stderr).to.not.contain('.part');
    });
  });

  it('docs update --name "" names --name', async () => {
    const dana = danaIn(tempDir());
    await dana(['docs', 'upload', files({ 'notes.md': '# notes' })['notes.md']]);
    const result = await dana(['docs', 'update', '1', '--name', '']);
    expectCliError(result, 2, /^Error: --name: /);
    expect(result.stderr).to.not.contain('original-filename');
  });

  it('chat with empty standard input says so once', async () => {
    const dana = danaIn(tempDir());
    await dana(['agents', 'create', '--name', 'Ada']);
    const result = await dana(['chat', '--agent', '1'], { input: '  \n' });
    expectCliError(result, 2, /standard input: empty: pipe a message in, or pass one with -m TEXT/);
    expect(result.stderr).to.not.contain('--message');
  });

  it('a flag that breaks two rules is named once', async () => {
    const dana = danaIn(tempDir());
    await dana(['agents', 'create', '--name', 'Ada']);
    const result = await dana(['chat', '--agent', '1', '-m', '']);
    expectCliError(result, 2, /--message/);
    expect(result.stderr.split('--message').length - 1).to.equal(1);
  });

  it('db status with an unreachable PostgreSQL exits 1 and says which database, password masked', async () => {
    const dana = danaIn(tempDir(), { DANA_DATABASE_URL: 'postgres://dana:hunter2@127.0.0.1:1/dana' });
    const result = await dana(['db', 'status']);
    expectCliError(result, 1, /The database cannot be reached \(ECONNREFUSED\): postgres:\/\/dana:\*\*\*@127\.0\.0\.1:1\/dana/);
    expect(result.stderr).to.not.contain('hunter2').and.not.contain('pending');
  });

  describe('a data folder that is a file', () => {
    it('is named plainly, without a raw EEXIST', async () => {
      const file = files({ 'not-a-folder': '' })['not-a-folder'];
      const result = await danaIn(tempDir())(['agents', 'list', '--data-dir', file]);
      expectCliError(result, 2, new RegExp(`data folder .*: ${file.replaceAll('/', '\\/')} is a file, not a folder`));
      expect(result.stderr).to.not.contain('EEXIST');
    });

    it('names the file in the way of a folder below it', async () => {
      const file = files({ 'not-a-folder': '' })['not-a-folder'];
      const result = await danaIn(tempDir())(['agents', 'list', '--data-dir', path.join(file, 'dana')]);
      expectCliError(result, 2, new RegExp(`${file.replaceAll('/', '\\/')} is a file, not a folder`));
      expect(result.stderr).to.not.contain('ENOTDIR');
    });
  });
});
