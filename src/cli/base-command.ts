// The base of every data command: `--json` and `--data-dir`, the context's lifetime
// (opened on first use, closed in `finally`), and the one way errors reach the terminal.
import { format } from 'node:util';
import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import * as Errors from '@oclif/core/errors';
import type { Interfaces } from '@oclif/core';
import type { ContextOptions, DanaContext } from '../core/context.js';
import type { ConfigOverrides, DanaConfig } from '../core/config.js';
import type { Page } from '../core/schemas.js';
import { confirmed } from './confirm.js';
import { describeCliError } from './errors.js';
import { processIo, type CliIo } from './io.js';
import { escapeControls, formatRecord, formatTable, type Column, type TableLayout } from './output.js';
import { COLOURS, NO_COLOURS, wantsColour, type Style } from './style.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof DanaCommand)['baseFlags'] & T['flags']>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export abstract class DanaCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    'data-dir': Flags.string({
      description: 'Data folder holding local.db and uploads/ (default: $DANA_HOME or ~/.dana).',
      helpGroup: 'GLOBAL',
    }),
    color: Flags.boolean({
      description: 'Colour on a terminal (the default); --no-color turns it off, as NO_COLOR does.',
      allowNo: true,
      helpGroup: 'GLOBAL',
    }),
  };

  /** Streams, terminal facts and environment; a test sets its own before running the command. */
  io: CliIo = processIo();
  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  /** Every positional argument, for commands that take a list (`docs upload A B C`). */
  protected positionals: string[] = [];
  private context?: Promise<DanaContext>;

  override async init(): Promise<void> {
    await super.init();
    const { args, flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof DanaCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    }).catch((error: Error) => {
      // Value parsers (Args.integer, …) throw plain errors: they are usage errors all the same.
      throw error instanceof Errors.CLIError ? error : new Errors.CLIError(error.message, { exit: 2 });
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
    this.positionals = argv as string[];
  }

  /** Settings from flags and environment, resolved once. */
  protected async danaConfig(overrides: ConfigOverrides = {}): Promise<DanaConfig> {
    const { resolveConfig } = await import('../core/config.js');
    return resolveConfig({ dataDir: this.flags['data-dir'], ...overrides }, this.io.env);
  }

  /** The core, opened on first use so `--help` and usage errors never touch the database. */
  protected openContext(options: ContextOptions = {}): Promise<DanaContext> {
    this.context ??= (async () => {
      const { createContext } = await import('../core/context.js');
      return createContext(await this.danaConfig(), options);
    })();
    return this.context;
  }

  /** Every line of human output passes here: stored text never reaches the terminal raw. */
  override log(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) this.io.stdout.write(`${escapeControls(format(message, ...args))}\n`);
  }

  /** A line on stderr, as given (warnings and notices the command composes itself). */
  protected note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** Asks before deleting on a terminal (not with --yes); a "no" ends the command, exit code 1. */
  protected async confirmDeletion(question: string): Promise<void> {
    if ((this.flags as { yes?: boolean }).yes || (await confirmed(this.io, escapeControls(question)))) return;
    this.note('Nothing deleted.');
    this.exit(1);
  }

  /** Prints rows as a table unless --json (then the returned rows are printed as JSON). */
  protected showList<R>(rows: R[], columns: Array<Column<R>>, emptyHint: string): R[] {
    if (this.jsonEnabled()) return rows;
    if (rows.length === 0 && this.io.stdout.isTTY) this.note(emptyHint);
    else this.io.stdout.write(`${formatTable(rows, columns, this.tableLayout())}\n`);
    return rows;
  }

  /**
   * A list command's output: the page the flags ask for (`--skip`, `--limit`, `--search`,
   * `--sort`), or with `--all` every page, shown like showList. On a terminal a table that
   * is not the whole list says so on stderr, so the rows past the first page are never a
   * surprise.
   */
  protected async showPage<R>(
    fetch: (query: { skip: number; limit: number; q?: string; sort?: string }) => Promise<Page<R>>,
    columns: Array<Column<R>>,
    emptyHint: string,
  ): Promise<R[]> {
    const flags = this.flags as { skip: number; limit: number; search?: string; sort?: string; all?: boolean };
    const base = { q: flags.search, sort: flags.sort };
    let rows: R[];
    let total: number;
    if (flags.all) {
      rows = [];
      // A page as large as the API allows until the total is reached (or rows stop coming).
      for (;;) {
        const page = await fetch({ ...base, skip: flags.skip + rows.length, limit: 1000 });
        rows.push(...page.items);
        total = page.total;
        if (!page.items.length || flags.skip + rows.length >= page.total) break;
      }
    } else {
      const page = await fetch({ ...base, skip: flags.skip, limit: flags.limit });
      rows = page.items;
      total = page.total;
    }
    this.showList(rows, columns, emptyHint);
    if (!this.jsonEnabled() && this.io.stdout.isTTY && rows.length < total) {
      this.note(`Showing ${rows.length} of ${total}. Use --all or --skip.`);
    }
    return rows;
  }

  /** On a terminal, tables fit its width and their header is bold (when colour is on). */
  protected tableLayout(): TableLayout {
    return { width: this.io.stdout.isTTY ? this.io.stdout.columns : undefined, styleHeader: this.stdoutStyle().bold };
  }

  /** Colours for stdout: none off a terminal, with --json, --no-color or NO_COLOR. */
  protected stdoutStyle(): Style {
    const colour = !this.jsonEnabled() && wantsColour(this.io.stdout, this.io.env, this.flags?.color);
    return colour ? COLOURS : NO_COLOURS;
  }

  /** Prints one record as `key: value` lines unless --json. */
  protected showRecord<R extends object>(record: R): R {
    if (!this.jsonEnabled()) this.log(formatRecord(record as Record<string, unknown>));
    return record;
  }

  /** Success output is exactly the API's JSON shape, without an envelope. */
  protected override toSuccessJson(result: unknown): unknown {
    return result;
  }

  protected override logJson(json: unknown): void {
    this.io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  /** Each error is printed once, as one line on stderr (and as `{"detail": …}` with --json). */
  override async catch(error: Error & { exitCode?: number }): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    // A reader that went away (`dana docs download 1 -o - | head`) is not a failure.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') this.exit(0);
    const { exitCode, detail, message } = describeCliError(error, this.io.env);
    if (this.jsonEnabled()) this.logJson({ detail });
    const style = wantsColour(this.io.stderr, this.io.env, this.flags?.color) ? COLOURS : NO_COLOURS;
    this.note(`${style.red('Error:')} ${escapeControls(message)}`);
    if (this.io.env.DEBUG && error.stack) this.note(error.stack);
    this.exit(exitCode);
  }

  override async finally(error: Error | undefined): Promise<void> {
    try {
      if (this.context) await (await this.context.catch(() => undefined))?.close();
    } finally {
      await super.finally(error);
    }
  }
}
