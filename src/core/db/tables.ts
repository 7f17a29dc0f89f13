// What each resource's table holds, derived from its JSON Schema in schemas.ts: one column
// per property (plus any the API never shows), JSON columns where the schema says object
// or array, and how a row read from either backend becomes the API's shape. Plain data
// and functions: commands that only read never load knex or objection.
import {
  SEARCHABLE_COLUMNS, SORTABLE_COLUMNS,
  AgentSchema, ConversationSchema, DocumentSchema, MessageSchema, RunSchema, TopicSchema,
  type Agent, type Conversation, type Document, type Message, type Run, type Topic,
} from '../schemas.js';

type Row = Record<string, unknown>;

interface PropertySchema {
  type?: string | readonly string[];
  format?: string;
}

export interface Table<T> {
  name: string;
  /** The resource in messages: "Agent not found". */
  label: string;
  /** Every column, as SELECT lists them. */
  columns: readonly string[];
  /** Stored as JSON text (objects and arrays). */
  jsonColumns: readonly string[];
  /** What a list may be sorted by (`sort`), in the order the API names them. */
  sortColumns: readonly string[];
  /** The text column a list's `q` searches, when the resource has one. */
  searchColumn?: string;
  /** A row of this table (raw, or already parsed by a model) as the API shows it. */
  toApi(row: Row): T;
  /** A row's values in the types the schema says: what a model holds after reading. */
  parse(row: Row): Row;
}

type Convert = (value: unknown) => unknown;


/** PostgreSQL hands back Date objects, SQLite the ISO text Dana wrote. */
export function isoTimestamp(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * A timestamp strictly after `previous` (and normally just "now"), so `updated_at` always
 * advances even when two writes land in the same millisecond or the clock steps back.
 */
export function nextTimestamp(previous?: string): string {
  const now = Date.now();
  const after = previous ? Date.parse(previous) + 1 : 0;
  return new Date(Math.max(now, after)).toISOString();
}

// How a stored value becomes the schema's type: PostgreSQL returns bigint as text and
// timestamptz as Date; SQLite stores booleans as 0/1 and JSON as text.
function converterOf(property: PropertySchema): Convert {
  const types = [property.type ?? []].flat();
  if (property.format === 'date-time') return isoTimestamp;
  if (types.includes('integer') || types.includes('number')) return Number;
  if (types.includes('boolean')) return Boolean;
  if (types.includes('object') || types.includes('array')) return (value) => (typeof value === 'string' ? JSON.parse(value) : value);
  return (value) => value;
}

/**
 * A table whose API shape is `schema`; `privateColumns` are stored but never shown (a
 * document's path in the upload folder).
 */
export function defineTable<T>(name: string, label: string, schema: { properties: Record<string, PropertySchema> }, privateColumns: readonly string[] = []): Table<T> {
  const properties = Object.entries(schema.properties).map(([column, property]) => [column, converterOf(property)] as const);
  const jsonColumns = Object.entries(schema.properties)
    .filter(([, property]) => [property.type ?? []].flat().some((type) => type === 'object' || type === 'array'))
    .map(([column]) => column);
  const convert = (row: Row, into: Row) => {
    for (const [column, to] of properties) {
      const value = row[column];
      if (value !== undefined) into[column] = value === null ? null : to(value);
    }
    return into;
  };
  return {
    name,
    label,
    columns: [...properties.map(([column]) => column), ...privateColumns],
    jsonColumns,
    sortColumns: SORTABLE_COLUMNS.filter((column) => column in schema.properties),
    searchColumn: SEARCHABLE_COLUMNS.find((column) => column in schema.properties),
    parse: (row) => convert(row, { ...row }),
    toApi(row) {
      const api = convert(row, {});
      // A column the row lacks (an insert's defaults, not read back) is null, as stored.
      for (const [column] of properties) if (!(column in api)) api[column] = null;
      return api as T;
    },
  };
}

export const TABLES = {
  agents: defineTable<Agent>('agents', 'Agent', AgentSchema),
  topics: defineTable<Topic>('topics', 'Topic', TopicSchema),
  documents: defineTable<Document>('documents', 'Document', DocumentSchema, ['file_path']),
  conversations: defineTable<Conversation>('conversations', 'Conversation', ConversationSchema),
  messages: defineTable<Message>('messages', 'Message', MessageSchema),
  // Who holds a run and until when: the queue's business, never shown.
  runs: defineTable<Run>('runs', 'Run', RunSchema, ['lease_owner', 'lease_expires_at']),
};
