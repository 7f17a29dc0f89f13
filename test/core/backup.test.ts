import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { createContext, type DanaContext } from '../../src/core/context.js';
import { createBackup, restoreBackup, BACKUP_TABLES } from '../../src/core/backup.js';
import { ConflictError, ValidationError } from '../../src/core/errors.js';
import { openTestContext, testConfig, type TestContext } from '../helpers/context.js';
import { dropSchema, freshPostgresUrl, isPostgres } from '../helpers/backend.js';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';

/** Every row of every table as the archive would hold it: comparable across backends. */
async function dump(ctx: DanaContext): Promise<Record<string, Array<Record<string, unknown>>>> {
  const tables: Record<string, Array<Record<string, unknown>>> = {};
  for (const table of BACKUP_TABLES) {
    const rows = (await ctx.knex(table).select('*').orderBy('id')) as Array<Record<string, unknown>>;
    tables[table] = rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        if (key === 'search') continue;
        if (value instanceof Date) out[key] = value.toISOString();
        else if (typeof value === 'boolean') out[key] = value ? 1 : 0;
        else if (typeof value === 'string' && /^\d+$/.test(value) && key === 'file_size') out[key] = Number(value);
        else out[key] = value;
      }
      return out;
    });
  }
  return tables;
}

/** Each stored file's bytes by its path in the upload folder. */
async function storedBytes(ctx: DanaContext): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const stored of await ctx.files.storedFiles()) files[stored] = fs.readFileSync(path.join(ctx.files.root, stored)).toString('base64');
  return files;
}

async function fill(ctx: DanaContext): Promise<void> {
  const { services } = ctx;
  const topic = await services.topics.create({ name: 'Geology', description: 'rocks' });
  const agent = await services.agents.create({ name: 'Geologist', description: 'answers', config: { provider: 'local', topic_ids: [topic.id], colour: 'red' } });
  await services.providers.add({ name: 'ollama', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2', is_default: false });
  await services.tokens.create({ name: 'ci', readOnly: true });
  await uploadBytes(ctx, 'Basalt is a volcanic rock. Magma cools quickly into basalt.', 'basalt.txt', { agent_id: agent.id });
  await uploadBytes(ctx, Buffer.from('# Granite\n\nGranite cools slowly, deep underground. ünïcødé ✓'), 'granite.md', { topic_id: topic.id });
  const conversation = await services.conversations.create({ title: 'Rocks', agent_id: agent.id });
  await services.messages.create(conversation.id, { sender: 'user', content: 'Where does basalt come from?' });
  await ctx.knex.transaction((trx) => services.messages.append(trx, conversation.id, [{
    sender: 'agent', content: 'From lava.', sources: [{ document_id: 1, original_filename: 'basalt.txt', snippet: 'Basalt is a volcanic rock.' }],
  }]));
  // A gap in the ids: restored ids are kept, not renumbered.
  const gone = await services.conversations.create({ title: 'Deleted' });
  await services.conversations.delete(gone.id);
  await services.conversations.create({ title: 'After the gap' });
}

describe('backup and restore', function () {
  this.timeout(120_000);
  let source: TestContext;
  let archive: string;
  before(async () => {
    source = await openTestContext();
    await fill(source);
    archive = path.join(tempDir(), 'backup.tar.gz');
    const summary = await createBackup(source, archive);
    expect(summary.files).to.equal(2);
    expect(summary.rows.messages).to.equal(2);
  });
  after(async () => {
    await source.close();
  });

  it('restores every row and every file into an empty target, ids kept and search rebuilt', async () => {
    const target = await openTestContext();
    try {
      const summary = await restoreBackup(target, archive);
      expect(summary.rows.documents).to.equal(2);
      expect(await dump(target)).to.deep.equal(await dump(source));
      expect(await storedBytes(target)).to.deep.equal(await storedBytes(source));
      expect((await target.services.database.check()).problems).to.deep.equal([]);
      const results = await target.services.search.search({ q: 'basalt' });
      expect(results.map((result) => result.kind).sort()).to.deep.equal(['document', 'message']);
      // Ranking's term counts are derived from the passages again, exactly as they were.
      const termCounts = (ctx: DanaContext) => ctx.knex('document_terms').select('document_id', 'term', 'occurrences').orderBy(['document_id', 'term']);
      const wordCounts = (ctx: DanaContext) => ctx.knex('document_words').select('document_id', 'words').orderBy('document_id');
      expect(await termCounts(target)).to.deep.equal(await termCounts(source));
      expect(await wordCounts(target)).to.deep.equal(await wordCounts(source));
      expect((await termCounts(target)).length).to.be.greaterThan(0);
      // New rows continue after the restored ids.
      const next = await target.services.conversations.create({ title: 'New' });
      expect(next.id).to.equal(4);
    } finally {
      await target.close();
    }
  });

  it('refuses a target holding data, and --force replaces it', async () => {
    const target = await openTestContext();
    try {
      await target.services.topics.create({ name: 'Mine', description: '' });
      await uploadBytes(target, 'my own file', 'mine.txt');
      const error = await restoreBackup(target, archive).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConflictError);
      expect((error as Error).message).to.include('1 topics').and.include('--force');
      expect((await target.services.topics.list()).items.map((topic) => topic.name)).to.deep.equal(['Mine']);
      await restoreBackup(target, archive, { force: true });
      expect(await dump(target)).to.deep.equal(await dump(source));
      expect(await storedBytes(target)).to.deep.equal(await storedBytes(source));
      expect((await target.services.database.check()).ok).to.equal(true);
    } finally {
      await target.close();
    }
  });

  it('refuses a damaged archive before writing anything', async () => {
    // The gzip stream is unpacked, a byte of a stored file changed, and packed again.
    const tarBytes = zlib.gunzipSync(fs.readFileSync(archive));
    const at = tarBytes.indexOf(Buffer.from('Magma cools quickly'));
    expect(at).to.be.greaterThan(0);
    tarBytes[at] = 'X'.charCodeAt(0);
    const damaged = path.join(tempDir(), 'damaged.tar.gz');
    fs.writeFileSync(damaged, zlib.gzipSync(tarBytes));
    const target = await openTestContext();
    try {
      const error = await restoreBackup(target, damaged).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as Error).message).to.match(/does not match its SHA-256/);
      for (const rows of Object.values(await dump(target))) expect(rows).to.deep.equal([]);
      expect(await target.files.storedFiles()).to.deep.equal([]);
      const notBackup = path.join(tempDir(), 'x.tar.gz');
      fs.writeFileSync(notBackup, 'not an archive');
      expect(await restoreBackup(target, notBackup).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    } finally {
      await target.close();
    }
  });
});

describe('backup of a SQLite data folder with a server writing, restored into SQLite and PostgreSQL', function () {
  this.timeout(180_000);
  let server: TestServer;
  const contexts: DanaContext[] = [];
  const schemas: string[] = [];
  // Always SQLite here, whatever the suite's backend: the data folder a user moves to PostgreSQL.
  const sqliteUrl = path.join(tempDir(), 'local.db');
  before(async () => {
    server = await startTestServer({ DANA_DATABASE_URL: sqliteUrl });
  });
  after(async () => {
    await server.close();
    for (const ctx of contexts) await ctx.close();
    for (const schema of schemas) await dropSchema(schema);
  });

  async function open(env: Record<string, string> = {}): Promise<DanaContext> {
    const ctx = await createContext(testConfig(tempDir(), env));
    contexts.push(ctx);
    return ctx;
  }

  it('a snapshot taken under write load restores into an empty folder and into PostgreSQL, every row and byte identical', async () => {
    const conversation = await (await server.api('/api/conversations/', json('POST', { title: 'Load' }))).json() as { id: number };
    for (let i = 0; i < 20; i++) await uploadBytes(server.context, `document ${i} about basalt and granite `.repeat(50), `doc-${i}.txt`);
    // Writers keep going while the backup runs, from the server and through the API.
    let writing = true;
    let written = 0;
    const load = (async () => {
      while (writing) {
        await server.api(`/api/conversations/${conversation.id}/messages/`, json('POST', { sender: 'user', content: `message ${written} about basalt` }));
        if (written % 5 === 0) {
          const form = new FormData();
          form.append('file', new Blob([`uploaded during backup ${written}`]), `late-${written}.txt`);
          await server.api('/api/documents/upload', { method: 'POST', body: form });
        }
        written++;
      }
    })();
    const backupContext = await open({ DANA_HOME: server.context.home, DANA_DATABASE_URL: sqliteUrl });
    const archive = path.join(tempDir(), 'live.tar.gz');
    while (written < 10) await new Promise((resolve) => setImmediate(resolve));
    await createBackup(backupContext, archive);
    writing = false;
    await load;
    expect(written).to.be.greaterThan(10);

    const restoredSqlite = await open();
    await restoreBackup(restoredSqlite, archive);
    // Into PostgreSQL on the suite's PostgreSQL pass (npm test runs this file on both).
    let restoredPostgres: DanaContext | undefined;
    if (isPostgres) {
      const postgres = await freshPostgresUrl();
      schemas.push(postgres.schema);
      restoredPostgres = await open({ DANA_DATABASE_URL: postgres.url });
      await restoreBackup(restoredPostgres, archive);
    }

    const sourceRows = await dump(server.context);
    for (const restored of restoredPostgres ? [restoredSqlite, restoredPostgres] : [restoredSqlite]) {
      const rows = await dump(restored);
      // A consistent snapshot: each table holds a prefix of the source's rows, unchanged.
      // The one row the load changes is the conversation: each message bumps its updated_at.
      const withoutBump = (list: Array<Record<string, unknown>>) => list.map(({ updated_at: _, ...row }) => row);
      for (const table of BACKUP_TABLES) {
        const expected = sourceRows[table].slice(0, rows[table].length);
        if (table === 'conversations') expect(withoutBump(rows[table])).to.deep.equal(withoutBump(expected));
        else expect(rows[table], table).to.deep.equal(expected);
      }
      const lastMessage = rows.messages[rows.messages.length - 1];
      expect(Date.parse(String(rows.conversations[0].updated_at))).to.be.at.least(Date.parse(String(lastMessage.created_at)));
      expect(rows.messages.length).to.be.greaterThan(0);
      // Every message of the snapshot's conversation up to its last one, and every file's bytes.
      const files = await storedBytes(restored);
      const sourceFiles = await storedBytes(server.context);
      expect(Object.keys(files)).to.have.length(rows.documents.length);
      for (const [stored, bytes] of Object.entries(files)) expect(bytes, stored).to.equal(sourceFiles[stored]);
      const check = await restored.services.database.check();
      expect(check.problems, JSON.stringify(check.problems)).to.deep.equal([]);
    }

    // And back: the PostgreSQL copy backs up and restores into SQLite unchanged.
    if (!restoredPostgres) return;
    const again = path.join(tempDir(), 'from-postgres.tar.gz');
    await createBackup(restoredPostgres, again);
    const back = await open();
    await restoreBackup(back, again);
    expect(await dump(back)).to.deep.equal(await dump(restoredSqlite));
    expect(await storedBytes(back)).to.deep.equal(await storedBytes(restoredSqlite));
  });
});
