// The schema's history, shipped in the code (no migration files looked up at run time).
// Rules: a migration that has shipped never changes; each one is safe to run on both
// dialects; none imports models or mixes schema and data changes.
import type { Knex } from 'knex';
import { dialectOf } from './dialects.js';

export interface Migration {
  name: string;
  /** `report` hears one line per change worth telling the user (`dana db migrate` prints them). */
  up(knex: Knex, report?: (line: string) => void): Promise<void>;
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
  {
    // Text extracted from each document, cut into passages and indexed for full-text search
    // (FTS5 with bm25 on SQLite, a tsvector with a GIN index on PostgreSQL).
    name: '002_document_passages',
    async up(knex) {
      await knex.schema.alterTable('documents', (table) => {
        table.string('text_status', 16).notNullable().defaultTo('pending');
        table.text('text_error').nullable();
      });
      await knex.schema.createTable('passages', (table) => {
        table.increments('id').primary();
        table.integer('document_id').unsigned().notNullable().references('id').inTable('documents').onDelete('CASCADE').index();
        table.integer('position').notNullable();
        table.text('content').notNullable();
      });
      await addFullTextIndex(knex, 'passages');
    },
    async down(knex) {
      if (dialectOf(knex) === 'sqlite') await knex.raw('DROP TABLE IF EXISTS passages_fts');
      await knex.schema.dropTableIfExists('passages');
      await knex.schema.alterTable('documents', (table) => {
        table.dropColumn('text_error');
        table.dropColumn('text_status');
      });
    },
  },
  {
    // Each document's digest (copies of the same bytes are found by it), the sources a chat
    // reply quoted, model providers (endpoints and the names of their key variables, never
    // keys), and API tokens (only their SHA-256 is stored).
    name: '003_providers_tokens_digests_sources',
    async up(knex) {
      await knex.schema.alterTable('documents', (table) => {
        table.string('sha256', 64).nullable().index();
      });
      await knex.schema.alterTable('messages', (table) => {
        table.text('sources').nullable();
      });
      await knex.schema.createTable('providers', (table) => {
        table.increments('id').primary();
        table.string('name', 50).notNullable().unique();
        table.text('base_url').notNullable();
        table.string('api_key_env', 200).nullable();
        table.string('model', 200).nullable();
        table.boolean('is_default').notNullable().defaultTo(false);
        timestamps(table);
      });
      await knex.schema.createTable('api_tokens', (table) => {
        table.increments('id').primary();
        table.string('name', 100).notNullable().unique();
        table.string('token_hash', 64).notNullable().unique();
        table.boolean('read_only').notNullable().defaultTo(false);
        table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
        table.timestamp('last_used_at', { useTz: true, precision: 3 }).nullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('api_tokens');
      await knex.schema.dropTableIfExists('providers');
      await knex.schema.alterTable('messages', (table) => table.dropColumn('sources'));
      await knex.schema.alterTable('documents', (table) => table.dropColumn('sha256'));
    },
  },
  {
    // A document with no text (an empty file) was "empty"; it is now simply "indexed".
    name: '004_text_status_empty_is_indexed',
    async up(knex) {
      await knex('documents').where('text_status', 'empty').update({ text_status: 'indexed' });
    },
    async down() {
      // "indexed" cannot tell which documents were empty; nothing to undo.
    },
  },
  {
    // Agent configs used to hold an endpoint (`base_url`) and the name of a key variable
    // (`api_key_env`), which let any API client choose where a key is sent. Each such
    // config now names a provider made from those two keys (named after the agent).
    name: '005_agent_endpoints_to_providers',
    async up(knex, report = () => undefined) {
      const taken = new Set<string>(['local', 'openai', ...(await knex('providers').pluck('name'))]);
      const agents: Array<{ id: number; name: string; config: unknown }> = await knex('agents').select('id', 'name', 'config').orderBy('id');
      for (const agent of agents) {
        const config = (typeof agent.config === 'string' ? JSON.parse(agent.config) : agent.config) as Record<string, unknown>;
        if (!config || typeof config !== 'object' || !('base_url' in config || 'api_key_env' in config)) continue;
        const { base_url: baseUrl, api_key_env: keyVariable, ...rest } = config;
        const label = `agent ${agent.id} ${JSON.stringify(agent.name)}`;
        const url = typeof baseUrl === 'string' && baseUrl ? baseUrl : typeof keyVariable === 'string' && keyVariable ? 'https://api.openai.com/v1' : undefined;
        let next = rest;
        if (url) {
          const name = uniqueName(slugify(agent.name, agent.id), taken);
          taken.add(name);
          const now = new Date().toISOString();
          await knex('providers').insert({
            name, base_url: url, api_key_env: typeof keyVariable === 'string' && keyVariable ? keyVariable : null,
            model: null, is_default: false, created_at: now, updated_at: now,
          });
          // An agent that answered offline ("provider": "local") keeps doing so.
          if (rest.provider === 'local') {
            report(`${label}: endpoint moved to provider "${name}" (${url}); the agent still answers with "local"`);
          } else {
            next = { ...rest, provider: name };
            report(`${label}: endpoint moved to provider "${name}" (${url})`);
          }
        } else {
          report(`${label}: removed base_url/api_key_env, which named no endpoint`);
        }
        await knex('agents').where({ id: agent.id }).update({ config: JSON.stringify(next) });
      }
    },
    async down() {
      // The agents' configs name their providers now; nothing to undo.
    },
  },
  {
    // A provider may name an embedding model; passages of the documents its agents answer
    // from get one vector per model: the unit-length Float32 vector (little-endian) for
    // exact cosine, and its sign bits for a fast first pass over every passage in scope.
    name: '006_passage_embeddings',
    async up(knex) {
      await knex.schema.alterTable('providers', (table) => {
        table.string('embedding_model', 200).nullable();
      });
      await knex.schema.createTable('passage_embeddings', (table) => {
        table.increments('id').primary();
        table.integer('passage_id').unsigned().notNullable().references('id').inTable('passages').onDelete('CASCADE');
        table.integer('document_id').unsigned().notNullable().references('id').inTable('documents').onDelete('CASCADE').index();
        table.string('model', 200).notNullable();
        table.binary('vector').notNullable();
        table.binary('bits').notNullable();
        table.unique(['model', 'passage_id']);
        table.index(['model', 'id']);
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('passage_embeddings');
      await knex.schema.alterTable('providers', (table) => table.dropColumn('embedding_model'));
    },
  },
  {
    // Messages searchable by their words (`GET /api/search`), with the same full-text
    // machinery as document passages: an external-content FTS5 index kept in step by
    // triggers on SQLite, a generated tsvector with a GIN index on PostgreSQL. Existing
    // messages are indexed here (FTS5's rebuild; PostgreSQL fills a generated column itself).
    name: '007_message_search',
    async up(knex) {
      // Existing messages are indexed here (FTS5's rebuild; PostgreSQL fills a generated column itself).
      await addFullTextIndex(knex, 'messages', { updateOf: 'content' });
      if (dialectOf(knex) === 'sqlite') await knex.raw(`INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')`);
    },
    async down(knex) {
      if (dialectOf(knex) === 'postgres') {
        await knex.raw('DROP INDEX IF EXISTS messages_search_index');
        await knex.raw('ALTER TABLE messages DROP COLUMN IF EXISTS search');
        return;
      }
      for (const trigger of ['messages_after_insert', 'messages_after_delete', 'messages_after_update']) await knex.raw(`DROP TRIGGER IF EXISTS ${trigger}`);
      await knex.raw('DROP TABLE IF EXISTS messages_fts');
    },
  },
  {
    // Document-level statistics for ranking: how often each content term occurs in each
    // document, and each document's length in words (BM25 over whole documents, the same
    // on both dialects; see search/full-text.ts).
    name: '008_document_terms',
    async up(knex) {
      await knex.schema.createTable('document_terms', (table) => {
        table.integer('document_id').unsigned().notNullable().references('id').inTable('documents').onDelete('CASCADE');
        table.string('term', 64).notNullable();
        table.integer('occurrences').notNullable();
        table.primary(['document_id', 'term']);
        table.index(['term', 'document_id']);
      });
      await knex.schema.createTable('document_words', (table) => {
        table.integer('document_id').unsigned().notNullable().primary().references('id').inTable('documents').onDelete('CASCADE');
        table.integer('words').notNullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('document_words');
      await knex.schema.dropTableIfExists('document_terms');
    },
  },
  {
    // Passages are now cut at paragraphs, headings and CSV rows, and ranking needs the
    // statistics above: every readable document is read again ("pending" documents are
    // indexed when Dana next starts; see DocumentService.recover).
    name: '009_recut_passages',
    async up(knex, report = () => undefined) {
      const count = await knex('documents').where('text_status', 'indexed').update({ text_status: 'pending' });
      if (count) report(`${count} document${count === 1 ? '' : 's'} will be indexed again (passages are cut at paragraphs, headings and CSV rows now)`);
    },
    async down() {
      // Documents indexed again keep their new passages; nothing to undo.
    },
  },
  {
    // On SQLite, term counts are kept in the order they are read in (by term, then
    // document), in one b-tree without a rowid: the ranking query reads a term's documents
    // and counts from one range, and a document indexed writes one b-tree at random places
    // (the pages it touches are what a commit writes) instead of a rowid table, its primary
    // key's index and a term index. PostgreSQL keeps its tables in a heap either way, and its
    // two indexes serve the same reads: unchanged there.
    name: '010_document_terms_by_term',
    async up(knex) {
      if (dialectOf(knex) === 'postgres') return;
      await knex.raw(`CREATE TABLE document_terms_by_term (
        document_id integer NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        term varchar(64) NOT NULL,
        occurrences integer NOT NULL,
        PRIMARY KEY (term, document_id)
      ) WITHOUT ROWID`);
      await knex.raw('INSERT INTO document_terms_by_term (document_id, term, occurrences) SELECT document_id, term, occurrences FROM document_terms');
      await knex.raw('DROP TABLE document_terms');
      await knex.raw('ALTER TABLE document_terms_by_term RENAME TO document_terms');
      await knex.raw('CREATE INDEX document_terms_document_id_index ON document_terms (document_id)');
    },
    async down(knex) {
      if (dialectOf(knex) === 'postgres') return;
      await knex.raw(`CREATE TABLE document_terms_by_row (
        document_id integer NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        term varchar(64) NOT NULL,
        occurrences integer NOT NULL,
        PRIMARY KEY (document_id, term)
      )`);
      await knex.raw('INSERT INTO document_terms_by_row (document_id, term, occurrences) SELECT document_id, term, occurrences FROM document_terms');
      await knex.raw('DROP TABLE document_terms');
      await knex.raw('ALTER TABLE document_terms_by_row RENAME TO document_terms');
      await knex.raw('CREATE INDEX document_terms_term_document_id_index ON document_terms (term, document_id)');
    },
  },
  {
    // An outbox of changes: a trigger on each resource's table writes a row here in the same
    // transaction as the change, so `GET /api/events` sees what any process did (the CLI
    // beside a server included), and a client resumes from the id it saw last.
    name: '011_change_events',
    async up(knex) {
      await knex.schema.createTable('events', (table) => {
        table.increments('id').primary();
        table.string('resource', 32).notNullable();
        table.integer('resource_id').notNullable();
        table.string('action', 16).notNullable();
        table.text('data').nullable();
        // No index on created_at: it would cost every change a second page to write, and
        // pruning finds the cut-off by id instead (ids and times grow together).
        table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
      });
      for (const table of CHANGE_EVENT_TABLES) await addChangeTriggers(knex, table);
    },
    async down(knex) {
      for (const table of CHANGE_EVENT_TABLES) await dropChangeTriggers(knex, table);
      await knex.schema.dropTableIfExists('events');
    },
  },
  {
    // Runs: an agent's background work. The runs table is also the queue: a worker claims
    // a queued run (or one whose lease lapsed) by setting lease_owner and lease_expires_at,
    // so status, cancel and progress are read from the one row. Results and events go with
    // their run; a result keeps its document's id after the document is deleted.
    name: '012_runs',
    async up(knex) {
      await knex.schema.createTable('runs', (table) => {
        table.increments('id').primary();
        table.integer('agent_id').unsigned().notNullable().references('id').inTable('agents').onDelete('CASCADE').index();
        table.string('status', 16).notNullable().defaultTo('queued');
        table.text('input').notNullable();
        table.integer('topic_id').unsigned().nullable().references('id').inTable('topics').onDelete('SET NULL');
        table.text('document_ids').nullable();
        table.boolean('each_document').notNullable().defaultTo(false);
        table.integer('total').notNullable().defaultTo(0);
        table.integer('done').notNullable().defaultTo(0);
        table.text('output').nullable();
        table.text('sources').nullable();
        table.text('error').nullable();
        table.integer('attempts').notNullable().defaultTo(0);
        table.string('lease_owner', 100).nullable();
        table.timestamp('lease_expires_at', { useTz: true, precision: 3 }).nullable();
        table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
        table.timestamp('started_at', { useTz: true, precision: 3 }).nullable();
        table.timestamp('finished_at', { useTz: true, precision: 3 }).nullable();
        table.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable();
        // The claim looks for queued runs, and running ones whose lease lapsed, oldest first.
        table.index(['status', 'lease_expires_at', 'id']);
      });
      await knex.schema.createTable('run_results', (table) => {
        table.increments('id').primary();
        table.integer('run_id').unsigned().notNullable().references('id').inTable('runs').onDelete('CASCADE');
        table.integer('document_id').nullable();
        table.text('output').nullable();
        table.text('sources').nullable();
        table.text('error').nullable();
        table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
        // A retried run skips the documents already answered.
        table.unique(['run_id', 'document_id']);
      });
      // An each_document run's documents as work items: any worker claims a few with a short
      // claim of its own (a token and an expiry, as a run's lease), so several share one run.
      await knex.schema.createTable('run_items', (table) => {
        table.increments('id').primary();
        table.integer('run_id').unsigned().notNullable().references('id').inTable('runs').onDelete('CASCADE');
        table.integer('document_id').notNullable();
        table.string('claim_token', 100).nullable();
        table.timestamp('claim_expires_at', { useTz: true, precision: 3 }).nullable();
        table.boolean('done').notNullable().defaultTo(false);
        // One item per document; a retried run adds only the missing ones.
        table.unique(['run_id', 'document_id']);
        // Claims and idle workers look for items not done whose claim is free or lapsed.
        table.index(['done', 'claim_expires_at', 'run_id']);
      });
      await knex.schema.createTable('run_events', (table) => {
        table.increments('id').primary();
        table.integer('run_id').unsigned().notNullable().references('id').inTable('runs').onDelete('CASCADE');
        table.string('type', 16).notNullable();
        table.text('data').notNullable();
        table.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
        table.index(['run_id', 'id']);
      });
      // A run's status and progress reach `GET /api/events` as `run` events, from any worker.
      await addChangeTriggers(knex, 'runs', { data: RUN_EVENT_COLUMNS });
    },
    async down(knex) {
      await dropChangeTriggers(knex, 'runs');
      for (const table of ['run_events', 'run_items', 'run_results', 'runs']) await knex.schema.dropTableIfExists(table);
    },
  },
];

/** The resources whose changes `GET /api/events` streams, spelled as in the API's paths. */
const CHANGE_EVENT_TABLES = ['agents', 'topics', 'documents', 'conversations', 'messages'] as const;

/** What a `run` event carries besides the run's id. */
const RUN_EVENT_COLUMNS = ['status', 'done', 'total'];

const CHANGE_ACTIONS = { INSERT: 'created', UPDATE: 'updated', DELETE: 'deleted' } as const;

/**
 * Triggers that write a row of `events` {resource: table, resource_id, action} for each row
 * inserted, updated or deleted, inside the changing transaction (a rolled-back change leaves
 * no event). With `data`, the event also holds those columns of the new row as JSON, and an
 * update writes an event only when one of them changed (a run's status and progress, not
 * its lease renewals). PostgreSQL's trigger function is created unqualified, in the schema
 * the connection works in, beside its table.
 */
export async function addChangeTriggers(knex: Knex, table: string, options: { data?: string[] } = {}): Promise<void> {
  const data = options.data ?? [];
  for (const name of [table, ...data]) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`addChangeTriggers: ${JSON.stringify(name)} is not a plain column or table name`);
  }
  const changedData = (dialectOf(knex) === 'postgres' ? data.map((column) => `OLD.${column} IS DISTINCT FROM NEW.${column}`) : data.map((column) => `OLD.${column} IS NOT NEW.${column}`)).join(' OR ');
  if (dialectOf(knex) === 'postgres') {
    const dataOf = (row: string) => (data.length ? `json_build_object(${data.map((column) => `'${column}', ${row}.${column}`).join(', ')})::text` : 'NULL');
    await knex.raw(`CREATE FUNCTION ${table}_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          INSERT INTO events (resource, resource_id, action, data, created_at) VALUES ('${table}', OLD.id, 'deleted', ${dataOf('OLD')}, clock_timestamp());
          RETURN OLD;
        END IF;
        INSERT INTO events (resource, resource_id, action, data, created_at)
          VALUES ('${table}', NEW.id, CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'updated' END, ${dataOf('NEW')}, clock_timestamp());
        RETURN NEW;
      END $$`);
    await knex.raw(`CREATE TRIGGER ${table}_change_created AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_change_event()`);
    await knex.raw(`CREATE TRIGGER ${table}_change_updated AFTER UPDATE ON ${table} FOR EACH ROW${changedData ? ` WHEN (${changedData})` : ''} EXECUTE FUNCTION ${table}_change_event()`);
    await knex.raw(`CREATE TRIGGER ${table}_change_deleted AFTER DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_change_event()`);
    return;
  }
  // The same ISO 8601 text the core writes, so the outbox is pruned by comparing strings.
  const now = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
  const dataOf = (row: string) => (data.length ? `json_object(${data.map((column) => `'${column}', ${row}.${column}`).join(', ')})` : 'NULL');
  for (const [operation, action] of Object.entries(CHANGE_ACTIONS)) {
    const row = operation === 'DELETE' ? 'OLD' : 'NEW';
    const when = operation === 'UPDATE' && changedData ? ` WHEN ${changedData}` : '';
    await knex.raw(`CREATE TRIGGER ${table}_change_${action} AFTER ${operation} ON ${table} FOR EACH ROW${when} BEGIN
      INSERT INTO events (resource, resource_id, action, data, created_at) VALUES ('${table}', ${row}.id, '${action}', ${dataOf(row)}, ${now}); END`);
  }
}

export async function dropChangeTriggers(knex: Knex, table: string): Promise<void> {
  const isPostgres = dialectOf(knex) === 'postgres';
  for (const action of Object.values(CHANGE_ACTIONS)) {
    await knex.raw(isPostgres ? `DROP TRIGGER IF EXISTS ${table}_change_${action} ON ${table}` : `DROP TRIGGER IF EXISTS ${table}_change_${action}`);
  }
  if (isPostgres) await knex.raw(`DROP FUNCTION IF EXISTS ${table}_change_event()`);
}

/**
 * Full-text search over a table's `content`: on PostgreSQL a generated tsvector column
 * `search` with a GIN index; on SQLite an external-content FTS5 table `<table>_fts` kept in
 * step by triggers (the pattern of https://sqlite.org/fts5.html#external_content_tables).
 */
async function addFullTextIndex(knex: Knex, table: 'passages' | 'messages', options: { updateOf?: string } = {}): Promise<void> {
  if (dialectOf(knex) === 'postgres') {
    await knex.raw(`ALTER TABLE ${table} ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED`);
    await knex.raw(`CREATE INDEX ${table}_search_index ON ${table} USING GIN (search)`);
    return;
  }
  const fts = `${table}_fts`;
  await knex.raw(
    `CREATE VIRTUAL TABLE ${fts} USING fts5(content, content = '${table}', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2')`,
  );
  await knex.raw(`CREATE TRIGGER ${table}_after_insert AFTER INSERT ON ${table} BEGIN
    INSERT INTO ${fts} (rowid, content) VALUES (new.id, new.content); END`);
  await knex.raw(`CREATE TRIGGER ${table}_after_delete AFTER DELETE ON ${table} BEGIN
    INSERT INTO ${fts} (${fts}, rowid, content) VALUES ('delete', old.id, old.content); END`);
  await knex.raw(`CREATE TRIGGER ${table}_after_update AFTER UPDATE${options.updateOf ? ` OF ${options.updateOf}` : ''} ON ${table} BEGIN
    INSERT INTO ${fts} (${fts}, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO ${fts} (rowid, content) VALUES (new.id, new.content); END`);
}

/** A provider name (a-z 0-9 _ -, at most 50) from an agent's name. */
function slugify(name: string, id: number): string {
  const slug = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return slug || `agent-${id}`;
}

function uniqueName(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}
