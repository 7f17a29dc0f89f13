// Asking before a destructive command, the way gh and npm do: only when a person is at a
// terminal to answer (stdin and stdout both terminals), never in a script or a pipe, and
// never with --yes.
import * as Flags from '@oclif/core/flags';
import type { CliIo } from './io.js';

export const yesFlag = Flags.boolean({ char: 'y', description: 'Delete without asking (never asked off a terminal).', default: false });

/** True when the user answered yes, or when there is nobody to ask. */
export async function confirmed(io: CliIo, question: string): Promise<boolean> {
  if (!io.stdin.isTTY || !io.stdout.isTTY) return true;
  io.stderr.write(`${question} [y/N] `);
  const answer = await readLine(io.stdin);
  return /^\s*y(es)?\s*$/i.test(answer ?? '');
}

/** One line from the terminal; undefined when it closes first (Ctrl-D). */
async function readLine(stdin: CliIo['stdin']): Promise<string | undefined> {
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: stdin, terminal: false });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}
