import { expect } from 'chai';
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { isPostgres } from '../helpers/backend.js';
import { ConflictError, ValidationError } from '../../src/core/errors.js';
import { defineTable, TABLES } from '../../src/core/db/tables.js';
import { modelOf } from '../../src/core/db/models.js';
import { readById } from '../../src/core/services/support.js';
import { AgentSchema, ConversationSchema, DocumentSchema, MessageSchema, TopicSchema } from '../../src/core/schemas.js';

const require = createRequire(import.meta.url);

describe('tables follow their schemas', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  it('read one column per schema property (and a document its stored path), JSON where the schema says object or array', () => {
    expect(TABLES.agents.columns).to.deep.equal(Object.keys(AgentSchema.properties));
    expect(TABLES.topics.columns).to.deep.equal(Object.keys(TopicSchema.properties));
    expect(TABLES.conversations.columns).to.deep.equal(Object.keys(ConversationSchema.properties));
    expect(TABLES.messages.columns).to.deep.equal(Object.keys(MessageSchema.properties));
    expect(TABLES.documents.columns).to.deep.equal([...Object.keys(DocumentSchema.properties), 'file_path']);
    expect(TABLES.agents.jsonColumns).to.deep.equal(['config']);
    expect(TABLES.messages.jsonColumns).to.deep.equal(['sources']);
  });

  it('store a property added to a schema on create and on update alike, and read it back', async () => {
    const { knex } = ctx;
    await knex.schema.createTable('gadgets', (table) => {
      table.increments('id').primary();
      table.string('name', 200).notNullable();
      table.string('colour', 50).nullable();
      table.text('settings').nullable();
      table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
      table.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable();
    });
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: 'string' },
        colour: { type: ['string', 'null'] },
        settings: { type: ['object', 'null'] },
        created_at: { type: 'string', format: 'date-time' },
        updated_at: { type: 'string', format: 'date-time' },
      },
    } as const;
    type Gadget = { id: number; name: string; colour: string | null; settings: Record<string, unknown> | null; created_at: string; updated_at: string };
    const gadgets = defineTable<Gadget>('gadgets', 'Gadget', schema);
    const Gadget = modelOf(gadgets).bindKnex(knex);

    const created = await Gadget.insertRow({ name: 'g', colour: 'red', settings: { size: 3 } });
    expect(created).to.include({ name: 'g', colour: 'red' });
    expect(created.settings).to.deep.equal({ size: 3 });
    const plain = await Gadget.insertRow({ name: 'plain' });
    expect(plain).to.include({ colour: null, settings: null });

    const updated = await knex.transaction(async (trx) => (await Gadget.query(trx).findById(created.id))!.patchRow({ colour: 'blue', settings: { size: 4 } }, trx));
    expect(updated).to.include({ colour: 'blue' });
    const read = await readById(ctx.services.database['deps'].sql, gadgets, created.id);
    expect(read).to.deep.equal(updated);
    expect(read.settings).to.deep.equal({ size: 4 });
    expect(read.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

describe('constraint violations are mapped once', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  it("answers a taken topic name with 409 \"Topic 'X' already exists\", on create and on update", async () => {
    await ctx.services.topics.create({ name: 'Taken', description: '' });
    const other = await ctx.services.topics.create({ name: 'Other', description: '' });
    for (const attempt of [() => ctx.services.topics.create({ name: 'Taken', description: '' }), () => ctx.services.topics.update(other.id, { name: ' Taken ' })]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(ConflictError);
      expect((error as Error).message).to.equal("Topic 'Taken' already exists");
    }
  });

  it('answers a taken provider or token name in their own words', async () => {
    await ctx.services.providers.add({ name: 'mine', base_url: 'http://127.0.0.1:9/v1' });
    const provider = await ctx.services.providers.add({ name: 'mine', base_url: 'http://127.0.0.1:9/v1' }).catch((caught: unknown) => caught);
    expect((provider as Error).message).to.equal('Provider "mine" already exists');
    await ctx.services.tokens.create({ name: 'ci' });
    const token = await ctx.services.tokens.create({ name: 'ci' }).catch((caught: unknown) => caught);
    expect(token).to.be.instanceOf(ConflictError);
    expect((token as Error).message).to.equal("Token 'ci' already exists");
  });

  it('answers a row naming a missing row (a foreign key) with a 422, not a 500', async () => {
    const error = await ctx.models.Message.insertRow({ conversation_id: 99_999, sender: 'user', content: 'hi' }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).issues[0].type).to.equal('foreign_key');
  });
});

describe('reads never wait for writes', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  it('answers a GET by id while a write transaction is open, then sees the write once committed', async () => {
    const agent = await ctx.services.agents.create({ name: 'a', description: 'before', config: {} });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let isCommitted = false;
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const writing = ctx.knex.transaction(async (trx) => {
      await trx('agents').where({ id: agent.id }).update({ description: 'after' });
      opened();
      await held;
    }).then(() => {
      isCommitted = true;
    });
    await isOpen;
    const during = await ctx.services.agents.get(agent.id);
    const list = await ctx.services.agents.list();
    expect(isCommitted, 'the read waited for the commit').to.equal(false);
    expect(during.description).to.equal('before');
    expect(list.items.map((item) => item.description)).to.deep.equal(['before']);
    release();
    await writing;
    expect((await ctx.services.agents.get(agent.id)).description).to.equal('after');
  });

  it('takes the write lock with the first statement of a transaction, so one that reads first never fails when another process wrote meanwhile', async function () {
    if (isPostgres) this.skip();
    const Database = require('better-sqlite3') as new (filename: string) => { pragma(source: string): unknown; exec(sql: string): unknown; close(): void };
    const other = new Database(ctx.config.database.client === 'sqlite' ? ctx.config.database.filename : '');
    other.pragma('busy_timeout = 0');
    try {
      await ctx.knex.transaction(async (trx: Knex.Transaction) => {
        await trx('agents').select('id');
        expect(() => other.exec('BEGIN IMMEDIATE'), 'another connection could still write').to.throw(/locked|busy/i);
      });
      other.exec('BEGIN IMMEDIATE');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
  });
});
