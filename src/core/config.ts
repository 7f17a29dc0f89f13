// Dana's settings, resolved once from flags and environment variables. Nothing here reads
// the working directory unless a setting names a relative path on purpose.
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from './errors.js';

export type DatabaseSettings =
  | { client: 'sqlite'; filename: string }
  | { client: 'postgres'; connectionString: string; poolMax: number };

export interface DanaConfig {
  /** Root of everything Dana keeps on disk by default (`~/.dana`). */
  dataDir: string;
  database: DatabaseSettings;
  uploadDir: string;
  /** The upload limit as users configure and read it (MiB). */
  maxUploadMb: number;
  maxUploadBytes: number;
  staticDir?: string;
  /** What parsing one PDF or DOCX may use before it is stopped and its text marked failed. */
  extractMemoryMb: number;
  extractTimeoutS: number;
  /** The environment the settings were read from: chat runners find API keys in it. */
  env: Env;
}

export interface ConfigOverrides {
  dataDir?: string;
  staticDir?: string;
}

export const DEFAULT_MAX_UPLOAD_MB = 50;
export const DEFAULT_EXTRACT_MEMORY_MB = 512;
export const DEFAULT_EXTRACT_TIMEOUT_S = 60;
const DEFAULT_PG_POOL_MAX = 10;

type Env = Record<string, string | undefined>;

export function resolveConfig(overrides: ConfigOverrides = {}, env: Env = process.env): DanaConfig {
  const dataDir = path.resolve(overrides.dataDir || env.DANA_HOME || path.join(os.homedir(), '.dana'));
  const maxUploadMb = parseMaxUploadMb(env.DANA_MAX_UPLOAD_MB);
  const staticDir = overrides.staticDir || env.DANA_STATIC_DIR;
  return {
    dataDir,
    database: parseDatabaseUrl(env.DANA_DATABASE_URL, dataDir, env),
    uploadDir: path.resolve(env.DANA_UPLOAD_DIR || path.join(dataDir, 'uploads')),
    maxUploadMb,
    maxUploadBytes: Math.floor(maxUploadMb * 1024 * 1024),
    staticDir: staticDir ? path.resolve(staticDir) : undefined,
    extractMemoryMb: parsePositive(env.DANA_EXTRACT_MEMORY_MB, 'DANA_EXTRACT_MEMORY_MB', DEFAULT_EXTRACT_MEMORY_MB, 'MB'),
    extractTimeoutS: parsePositive(env.DANA_EXTRACT_TIMEOUT_S, 'DANA_EXTRACT_TIMEOUT_S', DEFAULT_EXTRACT_TIMEOUT_S, 'seconds'),
    env,
  };
}

/**
 * Accepts every spelling users bring: `sqlite:///relative.db`, `sqlite:////abs/path.db`
 * (SQLAlchemy's, from the Python Dana), `sqlite:///:memory:`, a plain path, or a
 * `postgres://` / `postgresql://` URL.
 */
export function parseDatabaseUrl(url: string | undefined, dataDir: string, env: Env = {}): DatabaseSettings {
  if (!url) return { client: 'sqlite', filename: path.join(dataDir, 'local.db') };
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return { client: 'postgres', connectionString: url, poolMax: parsePoolMax(env.DANA_DB_POOL_MAX) };
  }
  // After "sqlite:///" SQLAlchemy reads the rest as the path: "/abs" stays absolute, "rel" is relative.
  const sqlite = /^sqlite:\/\/\/?(.*)$/i.exec(url);
  if (sqlite) {
    const filename = sqlite[1];
    if (!filename) throw configError('DANA_DATABASE_URL', `names no database file: ${url}`);
    return { client: 'sqlite', filename: filename === ':memory:' ? filename : path.resolve(filename) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw configError('DANA_DATABASE_URL', `unsupported database URL (use sqlite:/// or postgres://): ${maskPassword(url)}`);
  }
  return { client: 'sqlite', filename: path.resolve(url) };
}

function parseMaxUploadMb(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_MAX_UPLOAD_MB;
  const mb = Number(value);
  if (!Number.isFinite(mb) || mb <= 0) throw configError('DANA_MAX_UPLOAD_MB', `must be a positive number of MiB, got "${value}"`);
  return mb;
}

function parsePositive(value: string | undefined, variable: string, fallback: number, unit: string): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw configError(variable, `must be a positive number of ${unit}, got "${value}"`);
  return n;
}

function parsePoolMax(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_PG_POOL_MAX;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw configError('DANA_DB_POOL_MAX', `must be a positive integer, got "${value}"`);
  return n;
}

function configError(variable: string, msg: string): ValidationError {
  return ValidationError.field(['env', variable], msg, 'config_error');
}

/** A database location fit for banners and logs: the password replaced by ***. */
export function describeDatabase(database: DatabaseSettings): string {
  return database.client === 'sqlite' ? database.filename : maskPassword(database.connectionString);
}

// The user part's password runs to the authority's last "@" (as URL parsers read it); a
// `password=` or `sslpassword=` parameter runs to the next "&" or "#".
const USERINFO_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^/?#\s]*@/gi;
const PASSWORD_PARAMETER = /([?&](?:ssl)?password=)[^&#\s]*/gi;

/** Every database password in `text` (a URL, or a message quoting one) replaced by ***. */
export function maskPassword(text: string): string {
  return text.replace(USERINFO_PASSWORD, '$1***@').replace(PASSWORD_PARAMETER, '$1***');
}
