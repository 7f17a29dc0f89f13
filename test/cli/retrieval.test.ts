// What a CLI user sees of retrieval: a one-word question that used to be a stop word, an
// unreadable file named on upload, and documents indexed by an older Dana re-cut.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { danaIn } from '../helpers/cli-in-process.js';
import { tempDir } from '../helpers/temp.js';

describe('dana chat and docs: finding passages', () => {
  let home: string;
  let sources: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    sources = tempDir();
    dana = danaIn(home);
  });

  function source(name: string, bytes: Buffer | string): string {
    const file = path.join(sources, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  async function agent(config: Record<string, unknown> = {}): Promise<number> {
    const created = await dana(['agents', 'create', '--name', 'Finder', '--config', JSON.stringify(config), '--json']);
    expect(created.code, created.stderr).to.equal(0);
    return created.json.id;
  }

  it('finds find.1.txt for `dana chat -m "find"`', async () => {
    const id = await agent();
    const uploaded = await dana(['docs', 'upload', source('find.1.txt', 'find(1): search for files in a directory hierarchy.'), '--agent', String(id)]);
    expect(uploaded.code, uploaded.stderr).to.equal(0);
    const result = await dana(['chat', '--agent', String(id), '-m', 'find']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('find.1.txt');
    expect(result.stdout).to.include('search for files in a directory hierarchy');
    expect(result.stdout).to.not.include("couldn't find anything");
  });

  it('names a truncated PDF on stderr when it is uploaded, and the chat says it could not be read', async () => {
    const id = await agent();
    const result = await dana(['docs', 'upload', source('cut.pdf', '%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R'), source('ok.txt', 'Kestrels hover over fields.'), '--agent', String(id)]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/^Warning: cut\.pdf is stored, but its text could not be read: .+\n$/);
    const chat = await dana(['chat', '--agent', String(id), '-m', 'kestrels hover']);
    expect(chat.stdout).to.include('ok.txt');
    expect(chat.stdout).to.include('I could not read cut.pdf');
  });

  it('gives as many sources as config.sources says', async () => {
    const id = await agent({ sources: 2 });
    const files = [1, 2, 3].map((n) => source(`otter-${n}.txt`, `Otters ${n} float on their backs and hold hands.`));
    expect((await dana(['docs', 'upload', ...files, '--agent', String(id)])).code).to.equal(0);
    const result = await dana(['chat', '--agent', String(id), '-m', 'otters float', '--json']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.json.sources).to.have.length(2);
    const refused = await dana(['agents', 'update', String(id), '--config', '{"sources": 21}']);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.include('sources');
  });
});
