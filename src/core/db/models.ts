// Objection models, one per table of tables.ts and made from it: JSON columns, timestamps
// and the types a row is read back in come from the resource's schema. Queries live in the
// services. The classes are defined the first time a context writes, so commands that only
// read never load objection (CommonJS, hence the synchronous require).
import { createRequire } from 'node:module';
import type { ModelOptions, Pojo, QueryContext } from 'objection';
import type { Knex } from 'knex';
import { writing } from '../errors.js';
import { dialectOf } from './dialects.js';
import { nextTimestamp, TABLES, type Table } from './tables.js';

const require = createRequire(import.meta.url);

export type TextStatus = 'pending' | 'indexed' | 'failed';

function defineBase() {
  const { Model } = require('objection') as typeof import('objection');

  class TableModel extends Model {
    id!: number;
    created_at!: string;
    updated_at!: string;
    [column: string]: unknown;

    override $beforeInsert(_context: QueryContext): void {
      this.created_at = nextTimestamp();
      this.updated_at = this.created_at;
    }

    override $beforeUpdate(options: ModelOptions, _context: QueryContext): void {
      const previous = (options.old as TableModel | undefined)?.updated_at;
      this.updated_at = nextTimestamp(previous);
    }
  }

  return TableModel;
}

let Base: ReturnType<typeof defineBase> | undefined;

/** The model class of a table, made from its definition (any table, tests' own included). */
export function modelOf<T>(table: Table<T>) {
  Base ??= defineBase();
  return class extends Base {
    static override tableName = table.name;
    static override jsonAttributes = [...table.jsonColumns];

    override $parseDatabaseJson(json: Pojo): Pojo {
      return table.parse(super.$parseDatabaseJson(json));
    }

    toApi(): T {
      return table.toApi(this as Record<string, unknown>);
    }

    /**
     * Inserts validated values as they are and returns the row as stored, defaults included:
     * one statement (`RETURNING *`, on both backends) rather than an insert and a select.
     */
    static async insertRow(values: object, db?: Knex): Promise<T> {
      const knex = db ?? (this.knex() as Knex);
      if (dialectOf(knex) === 'sqlite') return writing(values, () => insertOnSqlite(knex, table, values as Row));
      const row = await writing(values, async () => this.query(db).insert(values as never).returning('*'));
      return (row as unknown as { toApi(): T }).toApi();
    }

    /** Changes the columns given, in `db`'s transaction; the row as stored after. */
    async patchRow(changes: object, db: Knex): Promise<T> {
      const row = await writing(changes, async () => this.$query(db).patch(changes as never).returning('*'));
      return (row as unknown as { toApi(): T }).toApi();
    }
  };
}

type Row = Record<string, unknown>;

interface SqliteStatement {
  get(bindings: unknown[]): Row;
}

/**
 * The insert of `insertRow` on SQLite, as objection would write it (timestamps of
 * $beforeInsert, JSON columns as text) but run as one statement prepared once per column
 * set: building and compiling the query each time cost more than the insert itself. The
 * connection comes from knex (the writer, or the transaction's own), so the insert takes
 * its turn with every other write.
 */
async function insertOnSqlite<T>(knex: Knex, table: Table<T>, values: Row): Promise<T> {
  const created_at = nextTimestamp();
  const row: Row = { ...values, created_at, updated_at: created_at };
  const unknown = Object.keys(row).filter((column) => !table.columns.includes(column));
  if (unknown.length) throw new Error(`${table.name} has no column ${unknown.join(', ')}`);
  const columns = table.columns.filter((column) => row[column] !== undefined);
  const sql = `INSERT INTO "${table.name}" (${columns.map((column) => `"${column}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *`;
  const bindings = columns.map((column) => sqliteValue(row[column], table.jsonColumns.includes(column)));
  const connection = (await knex.client.acquireConnection()) as { prepare(sql: string): SqliteStatement };
  try {
    return table.toApi(connection.prepare(sql).get(bindings));
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

function sqliteValue(value: unknown, isJson: boolean): unknown {
  if (isJson && value !== null) return JSON.stringify(value);
  return typeof value === 'boolean' ? Number(value) : value;
}

function defineModels() {
  return {
    Agent: modelOf(TABLES.agents),
    Topic: modelOf(TABLES.topics),
    Document: modelOf(TABLES.documents),
    Conversation: modelOf(TABLES.conversations),
    Message: modelOf(TABLES.messages),
  };
}

type Classes = ReturnType<typeof defineModels>;
let classes: Classes | undefined;

/** The models bound to one context's knex instance (no global `Model.knex()`). */
export function bindModels(knex: Knex): Classes {
  classes ??= defineModels();
  const bound = {} as Record<string, unknown>;
  for (const [name, model] of Object.entries(classes)) bound[name] = model.bindKnex(knex);
  return bound as Classes;
}

export type Models = Classes;
export type DocumentModel = InstanceType<Classes['Document']>;
export type MessageModel = InstanceType<Classes['Message']>;
export type DataModel = InstanceType<Classes[keyof Classes]>;
