// The errors Dana's core throws. They carry meaning, not transport details: the one table
// at the bottom turns each into an HTTP status and a CLI exit code for both front ends.

/** Where a validation problem was found, FastAPI-style: ["body", "name"], ["query", "limit"], … */
export type Loc = Array<string | number>;

export interface ValidationIssue {
  loc: Loc;
  msg: string;
  type: string;
}

export class DanaError extends Error {
  constructor(message?: string) {
    super(message);
    // Each class is named after itself, in stack traces and logs.
    this.name = new.target.name;
  }

  /** The value sent as `detail` (JSON) and, flattened, printed by the CLI. */
  get detail(): unknown {
    return this.message;
  }
}

export class NotFoundError extends DanaError {}

export class ConflictError extends DanaError {}

export class ValidationError extends DanaError {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map(describeIssue).join('; '));
  }

  override get detail(): ValidationIssue[] {
    return this.issues;
  }

  /** One issue on one field, e.g. `ValidationError.field(['body', 'topic_id'], 'Topic 9 does not exist', 'foreign_key')`. */
  static field(loc: Loc, msg: string, type = 'value_error'): ValidationError {
    return new ValidationError([{ loc, msg, type }]);
  }
}

/** A request that is not even well-formed (malformed JSON). */
export class BadRequestError extends DanaError {}

export class PayloadTooLargeError extends DanaError {}

export class UnsupportedMediaTypeError extends DanaError {}

/** The agent runner (a local index or a remote model) could not produce a reply. */
export class RunnerError extends DanaError {
  constructor(readonly reason: string) {
    super(`Agent runner failed: ${reason}`);
  }
}

/** No valid credentials: a token is required, or the one given is unknown or revoked. */
export class UnauthorizedError extends DanaError {
  constructor(message = 'Not authenticated') {
    super(message);
  }
}

/** Understood and refused: a host not allowed, a cross-site write, a read-only token writing. */
export class ForbiddenError extends DanaError {}

/** Past the rate limit: `retryAfterS` is when the client's window opens again. */
export class TooManyRequestsError extends DanaError {
  constructor(readonly retryAfterS: number) {
    super('Too many requests');
  }
}

/** A request body that stopped arriving. */
export class RequestTimeoutError extends DanaError {}

/** The disk is full: nothing was left half-written. */
export class InsufficientStorageError extends DanaError {
  constructor(message = 'Not enough disk space') {
    super(message);
  }
}

/** The caller gave up (a client that disconnected, Ctrl-C): nothing was stored. */
export class CancelledError extends DanaError {}

/** The database stayed busy longer than the busy timeout: worth retrying, not a bug. */
export class UnavailableError extends DanaError {}

function describeIssue(issue: ValidationIssue): string {
  const where = issue.loc.slice(1).join('.');
  return where ? `${where}: ${issue.msg}` : issue.msg;
}

export interface ErrorOutcome {
  status: number;
  exitCode: number;
  detail: unknown;
}

// One row per error class; order matters only for subclasses (none overlap today).
const OUTCOMES: Array<[new (...args: never[]) => DanaError, number, number]> = [
  [NotFoundError, 404, 3],
  [ConflictError, 409, 4],
  [ValidationError, 422, 2],
  [BadRequestError, 400, 2],
  [UnauthorizedError, 401, 2],
  [ForbiddenError, 403, 2],
  [RequestTimeoutError, 408, 1],
  [PayloadTooLargeError, 413, 2],
  [TooManyRequestsError, 429, 1],
  [UnsupportedMediaTypeError, 415, 2],
  [RunnerError, 502, 5],
  [UnavailableError, 503, 1],
  [InsufficientStorageError, 507, 1],
  // 499: nginx's "client closed request"; nobody is left to read it, but logs make sense of it.
  [CancelledError, 499, 130],
];

/**
 * How an error reaches users: HTTP status, exit code and the `detail` they see. Anything
 * unexpected becomes 500 / exit 1 with a generic detail, so internals never leak.
 */
export function errorOutcome(error: unknown): ErrorOutcome {
  const known = toDanaError(error);
  if (known) {
    for (const [type, status, exitCode] of OUTCOMES) {
      if (known instanceof type) return { status, exitCode, detail: known.detail };
    }
  }
  return { status: 500, exitCode: 1, detail: 'Internal Server Error' };
}

// SQLite's busy and locked errors; PostgreSQL's serialization failure, deadlock, lock timeout.
const RETRYABLE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', '40001', '40P01', '55P03']);
// A full disk or quota, from the file system, SQLite or PostgreSQL (disk_full).
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);
// Connection failures, from the driver or the network.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001']);

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);
const FOREIGN_KEY_CODES = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

// Unique columns, by "table.column": what users read when the value written is taken.
const TAKEN: Record<string, (value: unknown) => string> = {
  'topics.name': (name) => `Topic '${name}' already exists`,
  'providers.name': (name) => `Provider "${name}" already exists`,
  'api_tokens.name': (name) => `Token '${name}' already exists`,
};

interface DriverError {
  code?: unknown;
  name?: string;
  message?: string;
  /** PostgreSQL's: the table, and "Key (column)=(value) already exists." */
  table?: string;
  detail?: string;
}

/**
 * Database errors that mean something to users, recognised on both SQLite and PostgreSQL
 * (also when objection wrapped them). `written` is what the failed write stored: a unique
 * violation names the value taken from it.
 */
export function toDanaError(error: unknown, written: Record<string, unknown> = {}): DanaError | undefined {
  if (error instanceof DanaError) return error;
  const outer = (error ?? {}) as DriverError & { nativeError?: DriverError };
  const driver = outer.nativeError ?? outer;
  const { name } = outer;
  const found = String(outer.code ?? driver.code ?? '');
  if (UNIQUE_CODES.has(found)) {
    const key = uniqueColumnOf(driver);
    const value = key ? written[key.slice(key.indexOf('.') + 1)] : undefined;
    return new ConflictError(key && TAKEN[key] && value !== undefined ? TAKEN[key](value) : 'A row with this value already exists');
  }
  if (FOREIGN_KEY_CODES.has(found)) return ValidationError.field(['body'], 'A row this refers to does not exist', 'foreign_key');
  if (DISK_FULL_CODES.has(found)) return new InsufficientStorageError();
  if (RETRYABLE_CODES.has(found)) return new UnavailableError('The database is busy; try again');
  if (UNREACHABLE_CODES.has(found) || name === 'KnexTimeoutError') {
    return new UnavailableError(`The database cannot be reached (${found || 'timeout'})`);
  }
  return undefined;
}

/** Runs a write of `values`: a constraint it breaks becomes the error users see. */
export async function writing<T>(values: object, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw toDanaError(error, values as Record<string, unknown>) ?? error;
  }
}

/** "topics.name": from SQLite's message, or PostgreSQL's table and detail. */
function uniqueColumnOf(error: DriverError): string | undefined {
  const sqlite = /UNIQUE constraint failed: (\w+\.\w+)/.exec(error.message ?? '');
  if (sqlite) return sqlite[1];
  const postgres = /^Key \((\w+)\)=/.exec(error.detail ?? '');
  return postgres && error.table ? `${error.table}.${postgres[1]}` : undefined;
}
