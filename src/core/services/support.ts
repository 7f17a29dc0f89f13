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

/** What a list asks for: a page, optionally text its search column contains, and an order. */
export interface Listing {
  skip: number;
  limit: number;
  /** Case-insensitive substring of the table's search column (name, title, …). */
  q?: string;
  /** A sortable column, `-` first for descending; default `id`. */
  sort?: string;
}

/**
 * One page of a table's rows, in `sort` order (ascending id by default), and the total
 * after filters and before paging. `filters` are column equalities; undefined ones are
 * left out. Every list of the API goes through here, so `q` and `sort` mean the same on
 * each (the columns come from the table's schema).
 */
export async function readPage<T>(
  sql: SqlRunner,
  table: Table<T>,
  filters: Record<string, number | string | undefined>,
  listing: Listing,
): Promise<Page<T>> {
  const conditions = whereConditions(filters);
  if (listing.q !== undefined && listing.q !== '' && table.searchColumn) {
    conditions.sql.push(`${asciiLower(sql.dialect, table.searchColumn)} LIKE ? ESCAPE '\\'`);
    conditions.values.push(`%${escapeLike(asciiLowerText(listing.q))}%`);
  }
  const where = conditions.sql.length ? `WHERE ${conditions.sql.join(' AND ')}` : '';
  const counted = await sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total FROM ${table.name} ${where}`, conditions.values);
  const total = Number(counted?.total ?? 0);
  const rows = total > listing.skip
    ? await sql.all<Record<string, unknown>>(
      `SELECT ${table.columns.join(', ')} FROM ${table.name} ${where} ORDER BY ${orderBy(sql.dialect, table, listing.sort)} LIMIT ? OFFSET ?`,
      [...conditions.values, listing.limit, listing.skip],
    )
    : [];
  return { items: rows.map(table.toApi), total };
}

const UPPER_ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A column lower-cased in ASCII only, the same on both backends: SQLite's lower() and LIKE
 * fold only A-Z, while PostgreSQL's lower() folds by the database's locale; translate()
 * makes PostgreSQL fold exactly what SQLite folds, so a search finds the same rows on each.
 */
function asciiLower(dialect: string, column: string): string {
  return dialect === 'postgres' ? `translate(${column}, '${UPPER_ASCII}', '${UPPER_ASCII.toLowerCase()}')` : `lower(${column})`;
}

function asciiLowerText(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** `%`, `_` and the escape character itself match only themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/**
 * The ORDER BY of a `sort` value, ties broken by id. Text sorts by its ASCII-lower-cased
 * form, then by code points (COLLATE "C" on PostgreSQL is SQLite's BINARY for UTF-8), so
 * both backends list rows in the same order whatever PostgreSQL's locale.
 */
function orderBy(dialect: string, table: Table<unknown>, sort = 'id'): string {
  const descending = sort.startsWith('-');
  const column = descending ? sort.slice(1) : sort;
  // The schema's enum has already refused anything else; this keeps SQL text out of reach regardless.
  if (!table.sortColumns.includes(column)) throw ValidationError.field(['query', 'sort'], `Input should be one of ${table.sortColumns.join(', ')}`, 'enum');
  const direction = descending ? 'DESC' : 'ASC';
  if (column === 'id') return `id ${direction}`;
  const isText = column !== 'created_at' && column !== 'updated_at';
  const keys = isText
    ? [asciiLower(dialect, column), dialect === 'postgres' ? `${column} COLLATE "C"` : column]
    : [column];
  return [...keys.map((key) => `${key} ${direction}`), `id ${direction}`].join(', ');
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

function whereConditions(filters: Record<string, number | string | undefined>): { sql: string[]; values: Array<number | string> } {
  const given = Object.entries(filters).filter((entry): entry is [string, number | string] => entry[1] !== undefined);
  return { sql: given.map(([column]) => `${column} = ?`), values: given.map(([, value]) => value) };
}

function whereClause(filters: Record<string, number | string | undefined>): { where: string; values: Array<number | string> } {
  const { sql, values } = whereConditions(filters);
  return { where: sql.length ? `WHERE ${sql.join(' AND ')}` : '', values };
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
