// Following a run from the command line: its events, shown one of three ways (JSON lines
// for scripts, plain lines, a progress bar on a terminal), and the exit code its final
// status gives. When no worker takes a queued run, the command works on it itself, so
// `dana runs start --follow` finishes even where no server or `dana worker` is running.
import type { Writable } from 'node:stream';
import type { DanaContext } from '../core/context.js';
import type { Run } from '../core/schemas.js';
import type { RunEvent } from '../core/schemas.js';
import type { CliIo } from './io.js';
import { escapeControls } from './output.js';

type FinalStatus = 'succeeded' | 'failed' | 'cancelled';

/**
 * What a followed run's final status makes the exit code: 5 is "the agent runner failed"
 * (contract section 3); a cancelled run did not do what was asked, but nothing failed
 * either, so it gets the generic 1. Interrupting the follower (Ctrl-C) exits 130.
 */
export const RUN_EXIT_CODES: Record<FinalStatus, number> = { succeeded: 0, failed: 5, cancelled: 1 };
export const INTERRUPTED_EXIT_CODE = 130;

/** How long a queued run may wait for a worker before the following command works on it itself. */
export const CLAIM_WAIT_MS = 2_000;

export function exitCodeOf(run: Run): number {
  return RUN_EXIT_CODES[run.status as FinalStatus] ?? 1;
}

export interface RunRenderer {
  show(event: RunEvent): void;
  close(): void;
}

/** One JSON object per line, `{id, type, data}`, on stdout: `jq` reads it as it comes. */
export function jsonLines(stdout: Writable): RunRenderer {
  return {
    show: (event) => stdout.write(`${JSON.stringify({ id: event.id, type: event.type, data: event.data })}\n`),
    close: () => undefined,
  };
}

type EventData = Record<string, unknown>;

/** When a log line was written, as people read it: local time to the second. */
function clock(iso: unknown): string {
  const date = new Date(typeof iso === 'string' ? iso : Date.now());
  return Number.isNaN(date.getTime()) ? '' : date.toTimeString().slice(0, 8);
}

/** The line a status, progress or log event is shown as. */
export function describeEvent(runId: number, event: RunEvent): string {
  const data = event.data as EventData;
  switch (event.type) {
    case 'status':
      return `Run ${runId} ${String(data.status)}${data.error ? `: ${String(data.error)}` : ''}`;
    case 'progress':
      return `${String(data.done)} of ${String(data.total)} answered`;
    case 'log':
      return `${clock(data.at)} ${String(data.level).padEnd(7)} ${String(data.message)}`;
    default: {
      const where = data.document_id === null || data.document_id === undefined ? 'answer' : `document ${String(data.document_id)}`;
      const sources = Array.isArray(data.sources) ? data.sources.length : 0;
      return data.error ? `${where} failed: ${String(data.error)}` : `${where} ready (${sources} source${sources === 1 ? '' : 's'})`;
    }
  }
}

/** A result as the answer it carries: the text alone for a run answered once, under a heading per document. */
export function describeResult(event: RunEvent): string {
  const data = event.data as EventData;
  if (data.document_id === null || data.document_id === undefined) return data.error ? `Failed: ${String(data.error)}` : String(data.output ?? '');
  const heading = `== Document ${String(data.document_id)}${data.error ? ' (failed)' : ''} ==`;
  return `${heading}\n${String(data.error ?? data.output ?? '')}\n`;
}

/**
 * Plain lines. `answers` gets the results as answers (the run's output is the data of
 * `runs start --follow`); without it every event is a line on `lines` (`runs logs`).
 */
export function plainLines(runId: number, lines: Writable, answers?: Writable): RunRenderer {
  return {
    show(event) {
      if (answers && event.type === 'result') answers.write(`${escapeControls(describeResult(event))}\n`);
      else lines.write(`${escapeControls(describeEvent(runId, event))}\n`);
    },
    close: () => undefined,
  };
}

/**
 * A progress bar on the terminal's stderr for `progress` events; the other events are shown
 * by `inner` above it (the bar's line is cleared, the lines written, the bar drawn again).
 */
export async function withProgressBar(stderr: CliIo['stderr'], inner: RunRenderer, label: string): Promise<RunRenderer> {
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} answered | {status}`,
      stream: stderr as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: true,
      forceRedraw: true,
    },
    progress.Presets.shades_classic,
  );
  let status = 'queued';
  // Drawn from the first progress event on: until the total is known a bar would say nothing.
  let isDrawn = false;
  return {
    show(event) {
      const data = event.data as EventData;
      if (event.type === 'progress') {
        if (!isDrawn) bar.start(Number(data.total), Number(data.done), { status });
        isDrawn = true;
        bar.setTotal(Number(data.total));
        bar.update(Number(data.done), { status });
        return;
      }
      if (event.type === 'status') status = String(data.status);
      if (isDrawn) stderr.write('\r\x1b[2K');
      inner.show(event);
      if (isDrawn) {
        bar.update({ status });
        bar.render();
      }
    },
    close() {
      if (isDrawn) bar.stop();
      inner.close();
    },
  };
}

/** JSON lines with --json; else plain lines, under a progress bar when stderr is a terminal. */
export async function runRenderer(io: CliIo, options: { json: boolean; runId: number; showAnswers: boolean }): Promise<RunRenderer> {
  if (options.json) return jsonLines(io.stdout);
  const inner = options.showAnswers ? plainLines(options.runId, io.stderr, io.stdout) : plainLines(options.runId, io.stdout);
  return io.stderr.isTTY ? withProgressBar(io.stderr, inner, `Run ${options.runId}`) : inner;
}

export interface FollowOptions {
  renderer: RunRenderer;
  /** Replay only the events after this id. */
  afterId?: number;
  /** A sentence for the person at the terminal (stderr). */
  note(line: string): void;
}

export interface FollowOutcome {
  run: Run;
  /** Ctrl-C ended the following before the run finished. */
  interrupted: boolean;
}

/** A run this process may end up working on: `finish` waits for that work, or hands the run back to the queue. */
export interface FallbackWork {
  finish(interrupted: boolean): Promise<void>;
}

/**
 * Works on the run in this process if it is still queued after CLAIM_WAIT_MS (no server
 * or worker is running, or all are busy), and says so. The TUI's /run uses it too.
 */
export function workIfUnclaimed(context: DanaContext, run: Run, note: (line: string) => void, giveUp: (error: Error) => void): FallbackWork {
  if (run.status !== 'queued') return { finish: async () => undefined };
  let cancelled = false;
  let pool: { work(id: number): Promise<unknown>; stop(): Promise<unknown> } | undefined;
  let working: Promise<unknown> | undefined;
  const timer = setTimeout(() => {
    working = (async () => {
      if (cancelled || (await context.services.runs.get(run.id)).status !== 'queued') return;
      note(`No worker took run ${run.id} within ${CLAIM_WAIT_MS / 1000} s: working on it here (\`dana serve\` or \`dana worker\` run them in the background).`);
      const { RunWorkerPool } = await import('../core/runs/worker.js');
      const here = new RunWorkerPool(context, { concurrency: 1, log: (level: string, message: string) => level !== 'info' && note(message) });
      pool = here;
      await here.work(run.id);
    })().catch(giveUp);
  }, CLAIM_WAIT_MS);
  return {
    async finish(interrupted) {
      cancelled = true;
      clearTimeout(timer);
      // Interrupted: a run worked on here goes back to the queue for a worker to finish.
      if (interrupted) await pool?.stop();
      await working;
    },
  };
}

/**
 * Shows the run's events until its final status (or Ctrl-C), working on it here when no
 * worker takes it.
 */
export async function followRun(context: DanaContext, run: Run, options: FollowOptions): Promise<FollowOutcome> {
  const controller = new AbortController();
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    controller.abort();
  };
  process.once('SIGINT', interrupt);
  // Working on it here failed (the database went away): following would wait for nothing.
  let failure: Error | undefined;
  const fallback = workIfUnclaimed(context, run, options.note, (error) => {
    failure = error;
    controller.abort();
  });
  try {
    for await (const event of context.services.runs.watch(run.id, { afterId: options.afterId, signal: controller.signal })) options.renderer.show(event);
    if (failure) throw failure;
  } finally {
    process.off('SIGINT', interrupt);
    options.renderer.close();
    await fallback.finish(interrupted);
  }
  return { run: await context.services.runs.get(run.id), interrupted };
}

/** The exit code of a follow, and what to tell the person when they stopped following early. */
export function followingEnd({ run, interrupted }: FollowOutcome): { exitCode: number; notice?: string } {
  if (!interrupted) return { exitCode: exitCodeOf(run) };
  const finished = ['succeeded', 'failed', 'cancelled'].includes(run.status);
  return {
    exitCode: INTERRUPTED_EXIT_CODE,
    notice: finished ? undefined : `Stopped following run ${run.id} (${run.status}); it goes on. Follow it again with: dana runs logs ${run.id} --follow`,
  };
}
