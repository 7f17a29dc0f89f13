// API tokens: created, listed and revoked from the CLI only; the server checks each request's
// token against the table, so a change made by the CLI applies to a running server at once.
// Only a token's SHA-256 is stored: the token itself is shown once, at creation.
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { NotFoundError, ValidationError, writing } from '../errors.js';
import type { SqlRunner } from '../db/dialects.js';
import { isoTimestamp, nextTimestamp } from '../db/tables.js';


export interface ApiToken {
  name: string;
  read_only: boolean;
  created_at: string;
  last_used_at: string | null;
}

export interface CreatedToken extends ApiToken {
  /** The secret itself: shown once, never stored. */
  token: string;
}

/** Who a valid token belongs to. */
export interface TokenHolder {
  name: string;
  readOnly: boolean;
}

export const TOKEN_PREFIX = 'dana_';
const TOKEN_BYTES = 32;
const MAX_NAME_LENGTH = 100;
// Recording every use would make each read a write; once a minute is enough to say "last used".
const LAST_USED_RESOLUTION_MS = 60_000;

export class TokenService {
  /** Reads through `sql`; `knex` (loaded on first use) writes. */
  constructor(private readonly deps: { sql: SqlRunner; knex: Knex }) {}

  async create(input: { name: string; readOnly?: boolean }): Promise<CreatedToken> {
    const name = validName(input.name);
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    const createdAt = nextTimestamp();
    const row = { name, token_hash: hashToken(token), read_only: Boolean(input.readOnly), created_at: createdAt };
    await writing(row, () => this.deps.knex('api_tokens').insert(row));
    return { name, read_only: Boolean(input.readOnly), created_at: createdAt, last_used_at: null, token };
  }

  async list(): Promise<ApiToken[]> {
    const rows = await this.deps.sql.all<Record<string, unknown>>('SELECT name, read_only, created_at, last_used_at FROM api_tokens ORDER BY id');
    return rows.map(toApiToken);
  }

  async revoke(name: string): Promise<{ message: string }> {
    const removed = await this.deps.knex('api_tokens').where({ name }).delete();
    if (!removed) throw new NotFoundError(`Token '${name}' not found`);
    return { message: 'Token revoked successfully' };
  }

  async hasAny(): Promise<boolean> {
    return Boolean(await this.deps.sql.first('SELECT 1 AS found FROM api_tokens LIMIT 1'));
  }

  /** The holder of `token`, or undefined when it is unknown or revoked. One indexed lookup. */
  async verify(token: string): Promise<TokenHolder | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const row = await this.deps.sql.first<Record<string, unknown>>(
      'SELECT id, name, read_only, last_used_at FROM api_tokens WHERE token_hash = ?',
      [hashToken(token)],
    );
    if (!row) return undefined;
    const lastUsed = row.last_used_at ? Date.parse(isoTimestamp(row.last_used_at)) : 0;
    if (Date.now() - lastUsed >= LAST_USED_RESOLUTION_MS) {
      await this.deps.knex('api_tokens').where({ id: row.id }).update({ last_used_at: nextTimestamp() });
    }
    return { name: String(row.name), readOnly: Boolean(row.read_only) };
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function validName(raw: string): string {
  const name = raw.trim();
  if (!name || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw ValidationError.field(['body', 'name'], `A token name is 1 to ${MAX_NAME_LENGTH} printable characters`, 'value_error');
  }
  return name;
}

function toApiToken(row: Record<string, unknown>): ApiToken {
  return {
    name: String(row.name),
    read_only: Boolean(row.read_only),
    created_at: isoTimestamp(row.created_at),
    last_used_at: row.last_used_at === null || row.last_used_at === undefined ? null : isoTimestamp(row.last_used_at),
  };
}
