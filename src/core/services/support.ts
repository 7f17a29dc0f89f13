// What every service shares: its dependencies, paging, and the checks that turn a missing
// row into the error users see.
import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import type { FileStore } from '../files.js';
import type { PassageIndex } from '../search/index.js';
import type { BaseModel, Models } from '../db/models.js';
import { NotFoundError, ValidationError, type Loc } from '../errors.js';
import type { Page } from '../schemas.js';

export interface ServiceDeps {
  knex: Knex;
  models: Models;
  files: FileStore;
  index: PassageIndex;
}

/** A transaction, or the plain connection for single statements. */
export type Db = Knex | Knex.Transaction;

/** One page of a query in ascending id order, and the total before paging. */
export async function pageOf<M extends BaseModel, T>(
  query: QueryBuilder<M, M[]>,
  paging: { skip: number; limit: number },
  toApi: (model: M) => T,
): Promise<Page<T>> {
  const total = await query.clone().resultSize();
  const rows = total > paging.skip ? await query.orderBy('id').offset(paging.skip).limit(paging.limit) : [];
  return { items: rows.map(toApi), total };
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
  const row = await db(table).select('id').where({ id }).first();
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
