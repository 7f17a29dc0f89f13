// Workers: `concurrency` loops that claim runs from the queue and execute them, in a
// server (`dana serve --workers N`), in `dana worker`, or for one run at the CLI's request.
// While a run executes its lease is renewed every third of its length, and its status is
// read every 250 ms: a cancel (from any process) aborts the runner within a second.
// Stopping is graceful: runs in hand go back to the queue without counting the attempt.
// A worker with no run to claim helps with a running per-document run that has documents
// nobody holds (executor.ts help), watching its status the same way.
import type { DanaContext } from '../context.js';
import type { Run, RunStatus } from '../schemas.js';
import { workerName, type Lease, type LogLevel } from './queue.js';
import { repeat } from './executor.js';

/** How often a run's status is read while it executes. */
export const STATUS_POLL_MS = 250;
/** How often an idle worker looks for runs queued by other processes (this process's wake it at once). */
export const IDLE_POLL_MS = 500;

export interface FinishedRun {
  runId: number;
  /** The provider that answered ("local", …); "none" when none could be made. */
  runner: string;
  status: RunStatus;
  seconds: number;
}

export interface RunWorkerOptions {
  /** Runs executed at once. */
  concurrency: number;
  /** What the workers say (a run started, finished, failed unexpectedly). */
  log?: (level: LogLevel, message: string) => void;
  /** Told of each run that ended here (the server's metrics). */
  onFinished?: (run: FinishedRun) => void;
  idlePollMs?: number;
  /** What the pool calls itself in leases and run logs; the host and process id by default. */
  name?: string;
}

interface Active {
  controller: AbortController;
  reason?: 'cancelled' | 'lost' | 'stopping';
}

export class RunWorkerPool {
  private readonly owner: string;
  private readonly active = new Map<number, Active>();
  /** Runs this pool helps with (owned by other workers, or by another loop of this pool). */
  private readonly helping = new Set<Active>();
  private readonly loops: Promise<void>[] = [];
  private readonly working = new Set<Promise<unknown>>();
  private readonly sleepers = new Set<() => void>();
  private stopping = false;
  private unsubscribe?: () => void;

  constructor(private readonly context: DanaContext, private readonly options: RunWorkerOptions) {
    this.owner = options.name ?? workerName();
  }

  /** Starts the loops; runs queued in this process wake them at once. */
  start(): void {
    if (this.loops.length || this.stopping) return;
    this.unsubscribe = this.context.services.runs.onQueued(() => this.wake());
    for (let slot = 0; slot < this.options.concurrency; slot++) this.loops.push(this.loop());
  }

  /** Looks at the queue now (a run was queued). */
  wake(): void {
    for (const sleeper of [...this.sleepers]) sleeper();
  }

  /** Stops taking runs, gives back those in hand (to the queue, attempt not counted) and waits for the loops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    for (const active of [...this.active.values(), ...this.helping]) abort(active, 'stopping');
    this.wake();
    await Promise.all([...this.loops, ...this.working]);
  }

  /**
   * Claims run `runId` and executes it here, as a worker would; the run as it ended, or
   * undefined when it could not be claimed (taken, finished, or not there).
   */
  async work(runId: number): Promise<Run | undefined> {
    const claimed = await this.context.services.runs.queue.claim(this.owner, runId);
    if (!claimed) return undefined;
    const execution = this.execute(claimed.run, claimed.lease);
    this.working.add(execution);
    try {
      await execution;
    } finally {
      this.working.delete(execution);
    }
    return this.context.services.runs.get(runId).catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const { queue } = this.context.services.runs;
    while (!this.stopping) {
      let claimed: Awaited<ReturnType<typeof queue.claim>>;
      let sharedRunId: number | undefined;
      try {
        const work = await queue.lookForWork();
        claimed = work.runs ? await queue.claim(this.owner) : undefined;
        sharedRunId = work.sharedRunId;
      } catch (error) {
        // The database was busy or unreachable: say so, and look again after a pause.
        this.say('warning', `could not look for runs: ${(error as Error).message}`);
        claimed = undefined;
      }
      if (claimed && !this.stopping) await this.execute(claimed.run, claimed.lease);
      else if (claimed) await queue.release(claimed.lease, 'The worker is stopping: the run goes back to the queue').catch(() => undefined);
      // Having helped, look again at once: more runs may be queued, or more documents free.
      else if (sharedRunId !== undefined && !this.stopping && (await this.help(sharedRunId)) > 0) continue;
      else await this.sleep(this.options.idlePollMs ?? IDLE_POLL_MS);
    }
  }

  /**
   * Answers documents of run `runId` that nobody holds, while it is running; stops within
   * STATUS_POLL_MS of a cancel, and when the pool stops (giving its items back). How many
   * documents it answered.
   */
  private async help(runId: number): Promise<number> {
    const { queue, executor } = this.context.services.runs;
    const active: Active = { controller: new AbortController() };
    this.helping.add(active);
    const watching = repeat(STATUS_POLL_MS, async () => {
      const status = await queue.status(runId);
      if (status !== 'running') abort(active, status === 'cancelled' ? 'cancelled' : 'lost');
    });
    try {
      const helped = await executor.help(runId, active.controller.signal, this.owner);
      if (helped.answered) this.say('info', `run ${runId}: answered ${helped.answered} of its documents (helping its worker)`);
      // Its writes may have been refused before the status check aborted it.
      if (active.reason === 'cancelled' || (!active.reason && (await queue.status(runId).catch(() => undefined)) === 'cancelled')) {
        this.say('info', `run ${runId} cancelled: stopped helping`);
      }
      return helped.answered;
    } catch (error) {
      // The owner goes on (and takes the items back once their claims lapse).
      this.say('warning', `run ${runId}: could not help: ${(error as Error)?.message ?? String(error)}`);
      return 0;
    } finally {
      await watching.stop();
      this.helping.delete(active);
    }
  }

  private async execute(run: Run, lease: Lease): Promise<void> {
    const { queue, executor } = this.context.services.runs;
    const active: Active = { controller: new AbortController() };
    this.active.set(run.id, active);
    if (this.stopping) abort(active, 'stopping');
    const started = performance.now();
    this.say('info', `run ${run.id} started (agent ${run.agent_id}, attempt ${run.attempts})`);
    const lost = async () => {
      const state = await queue.check(lease);
      if (!state?.held) abort(active, state?.status === 'cancelled' ? 'cancelled' : 'lost');
    };
    const renewing = repeat(Math.max(50, Math.floor(queue.leaseMs / 3)), async () => {
      if (!(await queue.renew(lease))) await lost();
    });
    const watching = repeat(STATUS_POLL_MS, lost);
    let runner = 'none';
    let status: RunStatus | undefined;
    try {
      const execution = await executor.execute(run, lease, active.controller.signal, this.owner);
      runner = execution.runner;
      status = execution.status;
    } catch (error) {
      if (!active.controller.signal.aborted) {
        const message = (error as Error)?.message ?? String(error);
        this.say('error', `run ${run.id} failed unexpectedly: ${message}`);
        if (await queue.finish(lease, { status: 'failed', error: `Internal error: ${message}` }).catch(() => false)) status = 'failed';
      }
    } finally {
      await Promise.all([renewing.stop(), watching.stop()]);
      this.active.delete(run.id);
    }
    if (active.reason === 'stopping') {
      await queue.release(lease, 'The worker is stopping: the run goes back to the queue').catch(() => false);
      this.say('info', `run ${run.id} given back to the queue`);
      return;
    }
    // The executor may have found its writes refused before the status check aborted it.
    if (!status && (active.reason === 'cancelled' || (await queue.check(lease).catch(() => undefined))?.status === 'cancelled')) status = 'cancelled';
    if (!status) {
      this.say('warning', `run ${run.id}: lease lost (another worker may take it up)`);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    this.say(status === 'failed' ? 'warning' : 'info', `run ${run.id} ${status} in ${seconds.toFixed(2)} s`);
    this.options.onFinished?.({ runId: run.id, runner, status, seconds });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private say(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }
}

function abort(active: Active, reason: NonNullable<Active['reason']>): void {
  if (active.controller.signal.aborted) return;
  active.reason = reason;
  active.controller.abort();
}
