// The schema's history, shipped in the code (no migration files looked up at run time).
// Rules: a migration that has shipped never changes; each one is safe to run on both
// dialects; none imports models or mixes schema and data changes.
import type { Knex } from 'knex';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

function timestamps(table: Knex.CreateTableBuilder): void {
  // Written by the core as ISO strings; timestamptz on PostgreSQL, text on SQLite.
  table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
  table.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable();
}

export const MIGRATIONS: Migration[] = [
  {
    name: '001_initial_schema',
    async up(knex) {
      await knex.schema.createTable('agents', (table) => {
        table.increments('id').primary();
        table.string('name', 200).notNullable().index();
        table.text('description').notNullable().defaultTo('');
        table.text('config').notNullable().defaultTo('{}');
        timestamps(table);
      });
      await knex.schema.createTable('topics', (table) => {
        table.increments('id').primary();
        table.string('name', 200).notNullable().unique();
        table.text('description').notNullable().defaultTo('');
        timestamps(table);
      });
      await knex.schema.createTable('documents', (table) => {
        table.increments('id').primary();
        table.string('filename', 64).notNullable().index();
        table.string('original_filename', 255).notNullable();
        table.string('file_path', 255).notNullable().unique();
        table.bigInteger('file_size').notNullable();
        table.string('mime_type', 100).notNullable();
        table.integer('topic_id').unsigned().nullable().references('id').inTable('topics').onDelete('SET NULL').index();
        table.integer('agent_id').unsigned().nullable().references('id').inTable('agents').onDelete('SET NULL').index();
        timestamps(table);
      });
      await knex.schema.createTable('conversations', (table) => {
        table.increments('id').primary();
        table.string('title', 200).notNullable();
        table.integer('agent_id').unsigned().nullable().references('id').inTable('agents').onDelete('SET NULL').index();
        timestamps(table);
      });
      await knex.schema.createTable('messages', (table) => {
        table.increments('id').primary();
        table.integer('conversation_id').unsigned().notNullable().references('id').inTable('conversations').onDelete('CASCADE').index();
        table.string('sender', 50).notNullable();
        table.text('content').notNullable();
        timestamps(table);
      });
    },
    async down(knex) {
      for (const table of ['messages', 'conversations', 'documents', 'topics', 'agents']) await knex.schema.dropTableIfExists(table);
    },
  },
];
