import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { openTestContext, testConfig, type TestContext } from '../helpers/context.js';
import { tempDir } from '../helpers/temp.js';
import { isPostgres } from '../helpers/backend.js';
import { createContext, type DanaContext } from '../../src/core/context.js';
import { migrateToLatest } from '../../src/core/db/migrate.js';
import { MIGRATIONS } from '../../src/core/db/migrations.js';

const ALL_MIGRATIONS = MIGRATIONS.map((migration) => migration.name);

describe('database', () => {
  describe('migrations run on first use', () => {
    it('create the schema in a new database (local.db in the data folder on SQLite)', async () => {
      const ctx = await openTestContext();
      try {
        if (!isPostgres) expect(fs.existsSync(path.join(ctx.home, 'local.db'))).to.equal(true);
        expect((await ctx.services.database.status()).migrations).to.deep.equal({ applied: ALL_MIGRATIONS, pending: [] });
      } finally {
        await ctx.close();
      }
    });

    it('apply nothing the second time and keep the data', async () => {
      const first = await openTestContext();
      const agent = await first.services.agents.create({ name: 'kept', description: '', config: { a: 1 } });
      const second = await createContext(first.config);
      try {
        expect((await second.services.database.status()).migrations).to.deep.equal({ applied: ALL_MIGRATIONS, pending: [] });
        expect(await migrateToLatest(second.knex)).to.deep.equal({ applied: [], changes: [] });
        const [{ n }] = await second.knex('knex_migrations').count({ n: '*' });
        expect(Number(n)).to.equal(ALL_MIGRATIONS.length);
        expect(await second.services.agents.get(agent.id)).to.deep.equal(agent);
      } finally {
        await second.close();
        await first.close();
      }
    });
  });

  // Built by hand on a SQLite file; PostgreSQL's bookkeeping goes through the same code.
  if (!isPostgres) describe('migration bookkeeping', () => {
    it('recovers a lock table left with two rows by processes that raced on an empty database', async () => {
      const home = tempDir();
      const knexModule = await import('knex');
      const raw = knexModule.default({ client: 'better-sqlite3', connection: { filename: path.join(home, 'local.db') }, useNullAsDefault: true });
      await raw.schema.createTable('knex_migrations', (t) => {
        t.increments();
        t.string('name');
        t.integer('batch');
        t.timestamp('migration_time');
      });
      await raw.schema.createTable('knex_migrations_lock', (t) => {
        t.increments('index').primary();
        t.integer('is_locked');
      });
      await raw('knex_migrations_lock').insert([{ is_locked: 0 }, { is_locked: 0 }]);
      await raw.destroy();
      const ctx = await createContext(testConfig(home));
      try {
        expect((await ctx.services.database.status()).migrations).to.deep.equal({ applied: ALL_MIGRATIONS, pending: [] });
        expect(await ctx.knex('knex_migrations_lock').select('is_locked')).to.deep.equal([{ is_locked: 0 }]);
      } finally {
        await ctx.close();
      }
    });
  });

  describe('two contexts open on one database', () => {
    let first: TestContext;
    let second: DanaContext;
    beforeEach(async () => {
      first = await openTestContext();
      second = await createContext(first.config);
    });
    afterEach(async () => {
      await second.close();
      await first.close();
    });

    it('see each other\'s writes at once', async () => {
      const agent = await first.services.agents.create({ name: 'from first', description: '', config: {} });
      expect(await second.services.agents.get(agent.id)).to.deep.equal(agent);
      const updated = await second.services.agents.update(agent.id, { name: 'from second' });
      expect(await first.services.agents.get(agent.id)).to.deep.equal(updated);
      await first.services.agents.delete(agent.id);
      expect((await second.services.agents.list()).total).to.equal(0);
    });

    it('accept many concurrent creates from both without SQLITE_BUSY', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => {
          const ctx = i % 2 ? first : second;
          return i % 4 < 2
            ? ctx.services.agents.create({ name: `agent ${i}`, description: '', config: { i } })
            : ctx.services.topics.create({ name: `topic ${i}`, description: '' });
        }),
      );
      expect(results.filter((result) => result.status === 'rejected')).to.deep.equal([]);
      const agents = await first.services.agents.list();
      const topics = await second.services.topics.list();
      expect(agents.total + topics.total).to.equal(40);
      expect(new Set(agents.items.map((agent) => agent.id)).size).to.equal(agents.total);
    });

    it('run concurrent transactions from both without locking up', async () => {
      const conversation = await first.services.conversations.create({ title: 'busy' });
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? first : second).services.messages.create(conversation.id, { sender: 'user', content: `message ${i}` }),
        ),
      );
      expect(results.filter((result) => result.status === 'rejected')).to.deep.equal([]);
      expect((await second.services.messages.list(conversation.id)).total).to.equal(40);
    });

    it('keep each other\'s uploads in progress when one opens', async () => {
      const { Readable } = await import('node:stream');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = Readable.from((async function* () {
        yield Buffer.from('first half ');
        await gate;
        yield Buffer.from('second half');
      })());
      const upload = first.services.documents.receive(slow, { clientName: 'slow.txt' });
      const third = await createContext(first.config);
      release();
      try {
        const document = await upload;
        expect(document.file_size).to.equal(22);
      } finally {
        await third.close();
      }
    });
  });

  // SQLite's own settings: the PostgreSQL pass has none of these.
  if (!isPostgres) describe('SQLite settings', () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await openTestContext();
    });
    afterEach(async () => {
      await ctx.close();
    });

    const pragma = async (name: string) => Object.values((await ctx.knex.raw(`PRAGMA ${name}`))[0])[0];

    it('uses the write-ahead log', async () => {
      expect(await pragma('journal_mode')).to.equal('wal');
    });

    it('enforces foreign keys', async () => {
      expect(await pragma('foreign_keys')).to.equal(1);
    });

    it('waits at least 5 s for another writer', async () => {
      expect(await pragma('busy_timeout')).to.be.at.least(5000);
    });
  });
});
