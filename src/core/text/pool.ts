// Up to two parser processes, started on first need and kept while files keep coming. Each
// parse is watched: past its memory (resident set, read from /proc every 50 ms, because
// inflated ArrayBuffers are not bounded by V8's heap limit) or its time, the process is
// killed and the file fails with the reason; the next file gets a fresh process.
import { fork, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParseReply, ParseRequest } from './parser-process.js';
import { TextError } from './parsers.js';

export interface ParseLimits {
  memoryMb: number;
  timeoutS: number;
}

/** The pool was closed while a file waited or was being parsed: it is not the file's fault. */
export class ParseCancelled extends Error {
  override name = 'ParseCancelled';
}

// The built entry is parser-process.js; under tsx (tests) it is parser-process.ts.
const ENTRY = fileURLToPath(new URL(`./parser-process${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const MAX_PROCESSES = 2;
const RSS_POLL_MS = 50;
const IDLE_EXIT_MS = 30_000;

interface Job {
  request: Omit<ParseRequest, 'id'>;
  resolve(text: string): void;
  reject(error: Error): void;
}

interface Worker {
  child: ChildProcess;
  job?: Job & { id: number; timers: NodeJS.Timeout[] };
  /** Why we killed it, when we did. */
  killedFor?: string;
  stderrTail: string;
  idle?: NodeJS.Timeout;
}

export class ParserPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly limits: ParseLimits) {}

  parse(request: Omit<ParseRequest, 'id'>): Promise<string> {
    if (this.closed) return Promise.reject(new ParseCancelled('The text reader is closed.'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every parser process; files waiting or being parsed are cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ParseCancelled('The text reader is closed.'));
    await Promise.all(
      this.workers.map((worker) => {
        if (worker.child.exitCode !== null || worker.child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => worker.child.once('exit', resolve));
        setReferenced(worker.child, true);
        worker.killedFor = 'closed';
        worker.child.kill('SIGKILL');
        return exited;
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length) {
      const worker = this.workers.find((candidate) => !candidate.job && !candidate.killedFor) ?? this.spawn();
      if (!worker) return;
      this.assign(worker, this.queue.shift() as Job);
    }
  }

  private spawn(): Worker | undefined {
    if (this.workers.length >= MAX_PROCESSES) return undefined;
    const child = fork(ENTRY, [], {
      execArgv: [...process.execArgv.filter((arg) => !/^--(inspect|max-old-space-size)/.test(arg)), `--max-old-space-size=${Math.ceil(this.limits.memoryMb)}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const worker: Worker = { child, stderrTail: '' };
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (worker.stderrTail = (worker.stderrTail + text).slice(-4096)));
    child.on('message', (reply: ParseReply) => this.answered(worker, reply));
    child.on('exit', () => this.exited(worker));
    // A process that could not be started emits no exit.
    child.on('error', () => child.pid === undefined && this.exited(worker));
    this.workers.push(worker);
    return worker;
  }

  private assign(worker: Worker, job: Job): void {
    clearTimeout(worker.idle);
    const id = this.nextId++;
    const timers = [
      setTimeout(() => this.kill(worker, `Reading the text took longer than ${this.limits.timeoutS} s.`), this.limits.timeoutS * 1000),
      setInterval(() => void this.checkMemory(worker, id), RSS_POLL_MS),
    ];
    worker.job = { ...job, id, timers };
    setReferenced(worker.child, true);
    worker.child.send({ id, ...job.request } satisfies ParseRequest);
  }

  private async checkMemory(worker: Worker, id: number): Promise<void> {
    const rssMb = await residentMb(worker.child.pid);
    if (rssMb > this.limits.memoryMb && worker.job?.id === id) this.kill(worker, this.memoryReason());
  }

  private memoryReason(): string {
    return `Reading the text needed more than ${this.limits.memoryMb} MB of memory.`;
  }

  private kill(worker: Worker, reason: string): void {
    if (worker.killedFor) return;
    worker.killedFor = reason;
    worker.child.kill('SIGKILL');
  }

  private answered(worker: Worker, reply: ParseReply): void {
    const job = worker.job;
    if (!job || job.id !== reply.id || worker.killedFor) return;
    this.release(worker);
    if ('text' in reply) job.resolve(reply.text);
    else job.reject(new TextError(reply.error));
    worker.idle = setTimeout(() => this.kill(worker, 'idle'), IDLE_EXIT_MS).unref();
    this.dispatch();
  }

  private exited(worker: Worker): void {
    const index = this.workers.indexOf(worker);
    if (index === -1) return;
    this.workers.splice(index, 1);
    clearTimeout(worker.idle);
    const job = worker.job;
    if (job) {
      this.release(worker);
      if (worker.killedFor === 'closed') job.reject(new ParseCancelled('The text reader is closed.'));
      else job.reject(new TextError(worker.killedFor ?? this.crashReason(worker)));
    }
    if (!this.closed) this.dispatch();
  }

  private crashReason(worker: Worker): string {
    // V8 aborts the process when its heap is full (our --max-old-space-size).
    if (/heap out of memory|allocation failed/i.test(worker.stderrTail)) return this.memoryReason();
    return 'The text reader stopped unexpectedly.';
  }

  private release(worker: Worker): void {
    for (const timer of worker.job?.timers ?? []) clearTimeout(timer);
    worker.job = undefined;
    setReferenced(worker.child, false);
  }
}

/** An idle parser process must not keep a CLI command running: only a busy one holds the event loop. */
function setReferenced(child: ChildProcess, referenced: boolean): void {
  for (const handle of [child, child.channel, child.stderr as Socket | null]) {
    if (referenced) handle?.ref?.();
    else handle?.unref?.();
  }
}

/** The resident set of a process in MB, or 0 where /proc cannot tell. */
async function residentMb(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return kb ? Number(kb[1]) / 1024 : 0;
}
