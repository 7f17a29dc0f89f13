// What every service shares: its dependencies, paging, and the checks that turn a missing
// row into the error users see.
import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import type { FileStore } from '../files.js';
import type { PassageIndex } from '../search/index.js';
import { dialectOf, type SqlRunner } from '../db/dialects.js';
import type { BaseModel, Models } from '../db/models.js';
import { NotFoundError, ValidationError, type Loc } from '../errors.js';
import type { Page } from '../schemas.js';

export interface ServiceDeps {
  knex: Knex;
  models: Models;
  files: FileStore;
  index: PassageIndex;
  /** Single statements by SQL text: the fast path for lookups, lists and simple inserts. */
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
  table: string,
  filters: Record<string, number | string | undefined>,
  paging: { skip: number; limit: number },
  toApi: (row: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const given = Object.entries(filters).filter(([, value]) => value !== undefined);
  const where = given.length ? `WHERE ${given.map(([column]) => `${column} = ?`).join(' AND ')}` : '';
  const values = given.map(([, value]) => value);
  const counted = await sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total FROM ${table} ${where}`, values);
  const total = Number(counted?.total ?? 0);
  const rows = total > paging.skip
    ? await sql.all<Record<string, unknown>>(`SELECT * FROM ${table} ${where} ORDER BY id LIMIT ? OFFSET ?`, [...values, paging.limit, paging.skip])
    : [];
  return { items: rows.map(toApi), total };
}

/** Inserts one row and returns it as stored (RETURNING works on both SQLite and PostgreSQL). */
export async function insertRow(sql: SqlRunner, table: string, values: Record<string, unknown>): Promise<Record<string, unknown>> {
  const columns = Object.keys(values);
  const row = await sql.first(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *`,
    Object.values(values),
  );
  if (!row) throw new Error(`INSERT INTO ${table} returned no row`);
  return row;
}

/** One row by id, as the API shows it, or NotFoundError("<Label> not found"). */
export async function readById<T>(sql: SqlRunner, table: string, id: number, label: string, toApi: (row: Record<string, unknown>) => T): Promise<T> {
  const row = await sql.first<Record<string, unknown>>(`SELECT * FROM ${table} WHERE id = ?`, [id]);
  if (!row) throw new NotFoundError(`${label} not found`);
  return toApi(row);
}

/** The row, or NotFoundError("<Label> not found"). */
export async function findOr404<M extends BaseModel>(query: QueryBuilder<M, M | undefined>, label: string): Promise<M> {
  const row = await query;
  if (!row) throw new NotFoundError(`${label} not found`);
  return row;
}

/** A foreign key given by a client must name an existing row: otherwise 422 on that field. */
export async function assertReferenceExists(
  db: Db,
  table: string,
  id: number | null | undefined,
  loc: Loc,
  label: string,
): Promise<void> {
  if (id === null || id === undefined) return;
  // On PostgreSQL the row is locked until commit, so it cannot be deleted under our insert;
  // SQLite's BEGIN IMMEDIATE already keeps other writers out.
  const query = db(table).select('id').where({ id }).first();
  const row = await (dialectOf(db) === 'postgres' ? query.forShare() : query);
  if (!row) throw ValidationError.field(loc, `${label} ${id} does not exist`, 'foreign_key');
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
