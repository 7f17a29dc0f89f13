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
  /** The environment the settings were read from: chat runners find API keys in it. */
  env: Env;
}

export interface ConfigOverrides {
  dataDir?: string;
  staticDir?: string;
}

export const DEFAULT_MAX_UPLOAD_MB = 50;
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

export function maskPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}
