// What every service shares: its dependencies, paging, and the checks that turn a missing
// row into the error users see.
import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import type { FileStore } from '../files.js';
import type { PassageIndex } from '../search/index.js';
import { dialectOf, type SqlRunner } from '../db/dialects.js';
import type { DataModel, Models } from '../db/models.js';
import type { Table } from '../db/tables.js';
import { NotFoundError, ValidationError, type Loc } from '../errors.js';
import type { Page } from '../schemas.js';

export interface ServiceDeps {
  knex: Knex;
  models: Models;
  files: FileStore;
  index: PassageIndex;
  /** Read statements by SQL text: the fast path for lookups and lists, never behind a write. */
  sql: SqlRunner;
}

/** A transaction, or the plain connection for single statements. */
export type Db = Knex | Knex.Transaction;

/**
 * One page of a table's rows in ascending id order, and the total before paging.
 * `filters` are column equalities; undefined ones are left out.
 */
export async function readPage<T>(
  sql: SqlRunner,
  table: Table<T>,
  filters: Record<string, number | string | undefined>,
  paging: { skip: number; limit: number },
): Promise<Page<T>> {
  const { where, values } = whereClause(filters);
  const counted = await sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total FROM ${table.name} ${where}`, values);
  const total = Number(counted?.total ?? 0);
  const rows = total > paging.skip
    ? await sql.all<Record<string, unknown>>(`SELECT ${table.columns.join(', ')} FROM ${table.name} ${where} ORDER BY id LIMIT ? OFFSET ?`, [...values, paging.limit, paging.skip])
    : [];
  return { items: rows.map(table.toApi), total };
}

/** The row matching `filters` (an id, say), as the API shows it, or NotFoundError("<Label> not found"). */
export async function readOne<T>(sql: SqlRunner, table: Table<T>, filters: Record<string, number | string>): Promise<T> {
  return table.toApi(await readRow(sql, table, filters));
}

/** The same row as stored, private columns included. */
export async function readRow(sql: SqlRunner, table: Table<unknown>, filters: Record<string, number | string>): Promise<Record<string, unknown>> {
  const { where, values } = whereClause(filters);
  const row = await sql.first<Record<string, unknown>>(`SELECT ${table.columns.join(', ')} FROM ${table.name} ${where}`, values);
  if (!row) throw new NotFoundError(`${table.label} not found`);
  return row;
}

export function readById<T>(sql: SqlRunner, table: Table<T>, id: number): Promise<T> {
  return readOne(sql, table, { id });
}

function whereClause(filters: Record<string, number | string | undefined>): { where: string; values: Array<number | string> } {
  const given = Object.entries(filters).filter((entry): entry is [string, number | string] => entry[1] !== undefined);
  return {
    where: given.length ? `WHERE ${given.map(([column]) => `${column} = ?`).join(' AND ')}` : '',
    values: given.map(([, value]) => value),
  };
}

/** The row, or NotFoundError("<Label> not found"). */
export async function findOr404<M extends DataModel>(query: QueryBuilder<M, M | undefined>, label: string): Promise<M> {
  const row = await query;
  if (!row) throw new NotFoundError(`${label} not found`);
  return row;
}

/** A foreign key given by a client must name an existing row: otherwise 422 on that field. */
export async function assertReferenceExists(db: Db, table: Table<unknown>, id: number | null | undefined, loc: Loc): Promise<void> {
  if (id === null || id === undefined) return;
  // On PostgreSQL the row is locked until commit, so it cannot be deleted under our insert;
  // on SQLite every transaction holds the write lock from its first statement.
  const query = db(table.name).select('id').where({ id }).first();
  const row = await (dialectOf(db) === 'postgres' ? query.forShare() : query);
  if (!row) throw ValidationError.field(loc, `${table.label} ${id} does not exist`, 'foreign_key');
}

/** Copies `input` with the string fields named trimmed ("name: stored trimmed"). */
export function trimFields(input: unknown, fields: string[]): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const copy: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const field of fields) if (typeof copy[field] === 'string') copy[field] = (copy[field] as string).trim();
  return copy;
}

export function deleted(label: string): { message: string } {
  return { message: `${label} deleted successfully` };
}
