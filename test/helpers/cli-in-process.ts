// Runs a `dana` command inside the test process: the command class from src/, the oclif
// config of the build (manifest and all), and an IO object of captured streams instead of
// the process's own. The command does everything it does for users (parsing, the core on a
// real SQLite file, the error table, exit codes); only the process around it is missing.
// `--help` is printed by the project's help class. A run that needs a process of its own
// (a working directory, an unknown command) goes to the built CLI instead.
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Config } from '@oclif/core/config';
import * as Errors from '@oclif/core/errors';
import type { DanaCommand } from '../../src/cli/base-command.js';
import type { CliIo } from '../../src/cli/io.js';
import { PROJECT_ROOT, cleanEnv, runDana, type CliOptions, type CliResult } from './cli.js';

export interface InProcessOptions extends CliOptions {
  /** Which streams look like a terminal (all are pipes by default, as in a spawned run). */
  tty?: { stdin?: boolean; stdout?: boolean; stderr?: boolean };
  /** The terminal's width, when stdout is one. */
  columns?: number;
}

let config: Promise<Config> | undefined;
const loadConfig = () => (config ??= Config.load({ root: PROJECT_ROOT }));

type CommandClass = { new (argv: string[], config: Config): DanaCommand<never> & { run(): Promise<unknown> }; run(argv: string[], config: Config): Promise<unknown> };

/** A stream that keeps what is written to it. */
function capture(isTTY: boolean, columns?: number) {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream: Object.assign(stream, { isTTY, columns }), bytes: () => Buffer.concat(chunks) };
}

/** The command's id and the rest of argv: `['agents', 'list', '--json']` → `agents:list`. */
async function findCommand(args: string[]): Promise<{ id: string; argv: string[] } | undefined> {
  const loaded = await loadConfig();
  for (const words of [2, 1]) {
    const id = args.slice(0, words).join(':');
    // Commands of oclif's plugins (help, version, autocomplete) have no file in src/: they run spawned.
    if (args.slice(0, words).every((word) => !word.startsWith('-')) && loaded.findCommand(id)?.pluginName === loaded.name) return { id, argv: args.slice(words) };
  }
  return undefined;
}

export async function runDanaInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  if (!options.cwd && args.includes('--help')) {
    // What oclif does for `dana <words> --help`: the help class prints, the exit code is 0.
    const words = args.slice(0, args.indexOf('--help')).filter((word) => !word.startsWith('-'));
    const text = await helpText(words);
    return { code: 0, stdout: text, stdoutBytes: Buffer.from(text), stderr: '', json: undefined };
  }
  const found = options.cwd ? undefined : await findCommand(args);
  if (!found) return runDana(args, options);
  const stdout = capture(options.tty?.stdout ?? false, options.columns);
  const stderr = capture(options.tty?.stderr ?? false);
  const stdin = Object.assign(Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]), { isTTY: options.tty?.stdin ?? false });
  const io: CliIo = { stdin, stdout: stdout.stream, stderr: stderr.stream, env: cleanEnv(options.env) };

  const file = pathToFileURL(path.join(PROJECT_ROOT, 'src', 'commands', ...found.id.split(':'))).href;
  const { default: CommandClass } = (await import(`${file}.ts`)) as { default: CommandClass };
  // The command as users run it, with this run's streams in place of the process's.
  const { id } = found;
  const WithIo = class extends CommandClass {
    static id = id;
    override io = io;
  };
  let code = 0;
  try {
    await WithIo.run(found.argv, await loadConfig());
  } catch (error) {
    if (!(error instanceof Errors.ExitError)) throw error;
    code = error.oclif.exit ?? 0;
  }
  const stdoutBytes = stdout.bytes();
  const text = stdoutBytes.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { code, stdout: text, stdoutBytes, stderr: stderr.bytes().toString('utf8'), json };
}

/** A `dana` bound to one data folder, run in-process. */
export function danaIn(home: string, env: Record<string, string | undefined> = {}) {
  return (args: string[], options: InProcessOptions = {}) => runDanaInProcess(args, { ...options, env: { DANA_HOME: home, ...env, ...options.env } });
}

/** What `dana <words> --help` prints, from the project's help class. */
export async function helpText(words: string[]): Promise<string> {
  const loaded = await loadConfig();
  const { default: DanaHelp } = await import('../../src/cli/help.js');
  let text = '';
  const help = new (class extends DanaHelp {
    protected override log(...args: string[]): void {
      text += `${args.join('\n')}\n`;
    }
  })(loaded);
  await help.showHelp(words);
  return text;
}
