// Runs the built `dana` as a child process, the way users and scripts do.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DANA_BIN = path.join(PROJECT_ROOT, 'bin', 'run.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
}

/** The environment of the test run without anything that changes Dana's behaviour. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('DANA_') && !['DEBUG', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'NODE_OPTIONS'].includes(key)) env[key] = value;
  }
  Object.assign(env, { NO_COLOR: '1', FORCE_COLOR: '0' });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runDana(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DANA_BIN, ...args], {
      env: cleanEnv(options.env),
      cwd: options.cwd ?? PROJECT_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      let json;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stdoutBytes, stderr: Buffer.concat(err).toString('utf8'), json });
    });
  });
}

/** A `dana` bound to one data folder. */
export function danaIn(home: string, env: Record<string, string | undefined> = {}) {
  return (args: string[], options: CliOptions = {}) => runDana(args, { ...options, env: { DANA_HOME: home, ...env, ...options.env } });
}
