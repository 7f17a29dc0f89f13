// Only the owner can read what Dana keeps: the data folder is 0700, the SQLite file and its
// -wal/-shm and every stored upload 0600, whatever the umask. Existing folders keep their mode.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createContext, type DanaContext } from '../../src/core/context.js';
import { testConfig } from '../helpers/context.js';
import { isPostgres, freshPostgresUrl, dropSchema } from '../helpers/backend.js';
import { tempDir, filesUnder } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';

const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

describe('permissions of the data folder', () => {
  let context: DanaContext | undefined;
  let schema: string | undefined;
  let previousUmask: number;
  beforeEach(() => {
    // The most permissive umask: the modes must come from Dana, not from the umask.
    previousUmask = process.umask(0);
  });
  afterEach(async () => {
    process.umask(previousUmask);
    await context?.close();
    context = undefined;
    if (schema) await dropSchema(schema);
    schema = undefined;
  });

  async function open(home: string): Promise<DanaContext> {
    const postgres = isPostgres ? await freshPostgresUrl() : undefined;
    schema = postgres?.schema;
    context = await createContext(testConfig(home, postgres ? { DANA_DATABASE_URL: postgres.url } : {}));
    return context;
  }

  it('creates the data folder and the upload folders 0700, and stores uploads and staged files 0600', async () => {
    const home = path.join(tempDir(), 'new', 'home');
    const ctx = await open(home);
    await uploadBytes(ctx, 'private notes', 'notes.txt');
    expect(modeOf(home)).to.equal('700');
    const uploads = ctx.config.uploadDir;
    expect(modeOf(uploads)).to.equal('700');
    const files = filesUnder(uploads);
    expect(files).to.have.length(1);
    for (const file of files) expect(modeOf(path.join(uploads, file)), file).to.equal('600');
    for (let dir = path.dirname(path.join(uploads, files[0])); dir !== uploads; dir = path.dirname(dir)) expect(modeOf(dir), dir).to.equal('700');
  });

  it('creates a new SQLite file 0600, and its -wal and -shm with it', async function () {
    if (isPostgres) this.skip();
    const home = path.join(tempDir(), 'home');
    const ctx = await open(home);
    await uploadBytes(ctx, 'private notes', 'notes.txt');
    for (const name of ['local.db', 'local.db-wal', 'local.db-shm']) expect(modeOf(path.join(home, name)), name).to.equal('600');
  });

  it('leaves an existing data folder and upload folder with their mode', async () => {
    const home = tempDir();
    fs.chmodSync(home, 0o750);
    fs.mkdirSync(path.join(home, 'uploads'), { mode: 0o755 });
    fs.chmodSync(path.join(home, 'uploads'), 0o755);
    await open(home);
    expect(modeOf(home)).to.equal('750');
    expect(modeOf(path.join(home, 'uploads'))).to.equal('755');
  });
});
