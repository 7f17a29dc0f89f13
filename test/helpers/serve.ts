// `dana serve` as a child process (the built CLI), the way users run it.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { DANA_BIN, PROJECT_ROOT, cleanEnv } from './cli.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited and its output is closed. */
  exited: Promise<Exit>;
  /** Sends `signal` (none with null) and waits for the exit, sending SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals | null, timeoutMs?: number): Promise<Exit>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs `dana serve` with DANA_HOME=`home`, resolving once its banner is printed. It listens
 * on `host` (127.0.0.1 by default); the returned url always reaches it through 127.0.0.1.
 */
export async function startServe(
  home: string,
  options: { args?: string[]; env?: Record<string, string>; port?: number; host?: string } = {},
): Promise<ServeProcess> {
  const port = options.port ?? (await freePort());
  const started = await startDana(home, ['serve', '--host', options.host ?? '127.0.0.1', '--port', String(port), ...(options.args ?? [])], options.env);
  return { ...started, port, url: `http://127.0.0.1:${port}` };
}

export type DanaProcess = Omit<ServeProcess, 'port' | 'url'>;

/** Runs `dana worker` with DANA_HOME=`home`, resolving once it says it is working. */
export function startWorker(home: string, options: { args?: string[]; env?: Record<string, string> } = {}): Promise<DanaProcess> {
  return startDana(home, ['worker', ...(options.args ?? [])], options.env);
}

/** A long-running `dana` command, resolved once it prints "Press Ctrl-C to stop." on stdout. */
async function startDana(home: string, args: string[], env: Record<string, string> = {}): Promise<DanaProcess> {
  const child = spawn(process.execPath, [DANA_BIN, ...args], {
    env: cleanEnv({ DANA_HOME: home, ...env }),
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));

  const stop = async (signal: NodeJS.Signals | null = 'SIGTERM', timeoutMs = 15_000): Promise<Exit> => {
    if (signal && child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (stdout.includes('Press Ctrl-C to stop.')) {
          child.stdout.off('data', check);
          resolve(true);
        }
      };
      child.stdout.on('data', check);
      check();
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000).unref()),
  ]);
  if (!ready) {
    await stop('SIGKILL');
    throw new Error(`dana ${args[0]} did not start:\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return { child, stdout: () => stdout, stderr: () => stderr, exited, stop };
}
