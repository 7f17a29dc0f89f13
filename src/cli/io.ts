// The terminal a command talks to: its streams, whether they are terminals, the width, and
// the environment. Commands read these facts here and never from `process`, so that a test
// can run a command in-process with streams of its own.
import type { Readable, Writable } from 'node:stream';

export type Env = Record<string, string | undefined>;

export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  env: Env;
}

/** The process's own streams and environment: what every command uses outside tests. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
