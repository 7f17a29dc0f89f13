// Objection models, one per table of tables.ts and made from it: JSON columns, timestamps
// and the types a row is read back in come from the resource's schema. Queries live in the
// services. The classes are defined the first time a context writes, so commands that only
// read never load objection (CommonJS, hence the synchronous require).
import { createRequire } from 'node:module';
import type { ModelOptions, Pojo, QueryContext } from 'objection';
import type { Knex } from 'knex';
import { writing } from '../errors.js';
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

    /** Inserts validated values as they are and returns the row as stored, defaults included. */
    static async insertRow(values: object, db?: Knex): Promise<T> {
      const row = await writing(values, async () => this.query(db).insertAndFetch(values as never));
      return (row as unknown as { toApi(): T }).toApi();
    }

    /** Changes the columns given, in `db`'s transaction; the row as stored after. */
    async patchRow(changes: object, db: Knex): Promise<T> {
      const row = await writing(changes, async () => this.$query(db).patchAndFetch(changes as never));
      return (row as unknown as { toApi(): T }).toApi();
    }
  };
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
