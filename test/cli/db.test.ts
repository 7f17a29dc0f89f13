import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { danaIn } from '../helpers/cli-in-process.js';
import { parseRecord } from '../helpers/cli-output.js';
import { storedFiles, tempDir } from '../helpers/temp.js';

describe('dana db', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  it('status shows a new database with its migrations pending, without migrating', async () => {
    const result = await dana(['db', 'status', '--json']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.json).to.include({ backend: 'sqlite', location: path.join(home, 'local.db') });
    expect(result.json.migrations.applied).to.deep.equal([]);
    expect(result.json.migrations.pending).to.have.length.greaterThan(1);
    expect((await dana(['db', 'status', '--json'])).json.migrations.applied).to.deep.equal([]);
  });

  it('migrate applies them once, then says the database is up to date', async () => {
    const first = await dana(['db', 'migrate', '--json']);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.json.applied).to.include('001_initial_schema');
    const second = await dana(['db', 'migrate']);
    expect(second.stdout.trim()).to.equal('The database is up to date.');
    const status = parseRecord((await dana(['db', 'status'])).stdout);
    expect(status).to.include({ backend: 'sqlite', agents: '0', documents: '0' });
    expect(status.migrations).to.match(/up to date/);
  });

  it('status counts the rows', async () => {
    await dana(['agents', 'create', '--name', 'counted']);
    const result = await dana(['db', 'status', '--json']);
    expect(result.json.counts).to.include({ agents: 1, topics: 0, messages: 0 });
  });

  it('check passes on a sound database and fails (exit 1) naming a missing file and an orphan one', async () => {
    const file = path.join(tempDir(), 'kept.txt');
    fs.writeFileSync(file, 'kept');
    await dana(['docs', 'upload', file]);
    await dana(['docs', 'upload', file]);
    const sound = await dana(['db', 'check', '--json']);
    expect(sound.code, sound.stderr).to.equal(0);
    expect(sound.json).to.include({ ok: true, documents_checked: 2 });
    const uploads = path.join(home, 'uploads');
    const [first] = storedFiles(uploads);
    fs.unlinkSync(path.join(uploads, first));
    fs.writeFileSync(path.join(uploads, path.dirname(first), 'stray.txt'), 'stray');
    const broken = await dana(['db', 'check']);
    expect(broken.code).to.equal(1);
    expect(broken.stdout).to.contain('2 problems');
    expect(broken.stdout).to.match(/missing_file: document \d+ \(kept\.txt\)/);
    expect(broken.stdout).to.match(/orphan_file: .*stray\.txt belongs to no document/);
  });
});
