// What a worker does with a claimed run: the agent answers its input, once from the
// documents in scope, or once per document from that document alone, with the runner and
// retrieval chat uses. Everything goes through the lease (queue.ts): a run cancelled or
// taken over meanwhile gets nothing more, and the signal stops the runner mid-answer.
// A per-document run's documents are items that idle workers claim too (help): its owner
// answers items until none is free, waits for those others hold, and then finishes it.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RunnerError } from '../errors.js';
import { TABLES, nextTimestamp } from '../db/tables.js';
import type { SqlRunner } from '../db/dialects.js';
import type { Agent, Run, RunResult, Source } from '../schemas.js';
import { scopeClause, type SearchScope } from '../search/index.js';
import type { SearchHit } from '../search/retriever.js';
import { snippetOf } from '../search/passages.js';
import { scopeOf, type ChatService } from '../chat/service.js';
import type { ChatRunner } from '../chat/runner.js';
import type { DocumentService } from '../services/documents.js';
import type { EmbeddingService } from '../services/embeddings.js';
import { workerName, type ItemClaim, type ItemEntry, type ItemWrite, type Lease, type LogLevel, type RunQueue } from './queue.js';

/** Documents of an each_document run answered at once by one worker (its owner or a helper). */
export const DOCUMENTS_AT_ONCE = 4;
/** Items claimed at once: a few more than are answered at once, so lanes rarely wait for a claim. */
export const ITEMS_PER_CLAIM = 8;
/** How often a run's owner looks again while other workers hold its last items. */
export const ITEMS_WAIT_MS = 200;

export interface ExecutorDeps {
  sql: SqlRunner;
  chat: ChatService;
  documents: DocumentService;
  embeddings: EmbeddingService;
  queue: RunQueue;
}

/** How an execution ended, for the worker (and the run metrics). */
export interface Execution {
  /** The provider that answered ("local", "openai", …), or "none" when none could be made. */
  runner: string;
  /** The status the run ended in; undefined when it did not end here (cancelled, lease lost, stopping). */
  status?: 'succeeded' | 'failed';
}

export class RunExecutor {
  constructor(private readonly deps: ExecutorDeps) {}

  /** Executes `run` under `lease`; `owner` names this worker in the run's log. */
  async execute(run: Run, lease: Lease, signal: AbortSignal, owner = workerName()): Promise<Execution> {
    const { queue } = this.deps;
    const log = logger((level, message) => queue.log(lease, level, message));
    const prepared = await this.prepare(run);
    // The agent was deleted meanwhile: its runs went with it (ON DELETE CASCADE).
    if (!prepared) return { runner: 'none' };
    if ('error' in prepared) {
      const ended = await queue.finish(lease, { status: 'failed', error: prepared.error });
      return { runner: 'none', status: ended ? 'failed' : undefined };
    }
    const { agent, runner, scope } = prepared;
    const outcome = run.each_document
      ? await this.eachDocument(run, lease, owner, agent, runner, scope, signal, log)
      : await this.once(run, lease, agent, runner, scope, signal, log);
    await log.flush();
    if (signal.aborted || !outcome) return { runner: runner.name };
    const ended = await queue.finish(lease, outcome);
    return { runner: runner.name, status: ended ? outcome.status : undefined };
  }

  /**
   * Helps with run `runId`, owned by another worker: answers items of it that nobody holds
   * until none is left free, or `signal` stops it (a cancel, this worker stopping). How many
   * documents it answered; the owner finishes the run.
   */
  async help(runId: number, signal: AbortSignal, owner = workerName()): Promise<{ runner: string; answered: number }> {
    const row = await this.deps.sql.first<Record<string, unknown>>('SELECT * FROM runs WHERE id = ?', [runId]);
    if (!row) return { runner: 'none', answered: 0 };
    const run = TABLES.runs.toApi(row);
    if (run.status !== 'running' || !run.each_document) return { runner: 'none', answered: 0 };
    const prepared = await this.prepare(run);
    // A runner that cannot be made here is the owner's to report (it fails the run).
    if (!prepared || 'error' in prepared) return { runner: 'none', answered: 0 };
    const { answered } = await this.answerItems(run, owner, this.deps.queue.itemClaim(owner, runId), prepared.agent, prepared.runner, prepared.scope, signal);
    return { runner: prepared.runner.name, answered };
  }

  /** The run's agent, runner and scope; the reason when no runner can be made; undefined when the agent is gone. */
  private async prepare(run: Run): Promise<{ agent: Agent; runner: ChatRunner; scope: SearchScope } | { error: string } | undefined> {
    const agentRow = await this.deps.sql.first<Record<string, unknown>>('SELECT * FROM agents WHERE id = ?', [run.agent_id]);
    if (!agentRow) return undefined;
    const agent = TABLES.agents.toApi(agentRow);
    let runner: ChatRunner;
    try {
      runner = await this.deps.chat.runnerFor(agent);
      this.deps.chat.retrieverFor(agent);
    } catch (error) {
      if (!(error instanceof RunnerError)) throw error;
      return { error: error.message };
    }
    const scope: SearchScope = {
      ...scopeOf(agent),
      ...(run.topic_id !== null && { topicId: run.topic_id }),
      ...(run.document_ids && { documentIds: run.document_ids }),
    };
    return { agent, runner, scope };
  }

  /** The agent answers once from every document in scope; its failure fails the run. */
  private async once(run: Run, lease: Lease, agent: Agent, runner: ChatRunner, scope: SearchScope, signal: AbortSignal, log: Logger) {
    const library = await this.deps.documents.library(scope);
    log('info', `Answering once from ${library.documentCount} document${library.documentCount === 1 ? '' : 's'} with ${runner.name}`);
    if (!(await this.deps.queue.begin(lease, 0, 1))) return undefined;
    const answer = await this.answer(run, agent, runner, scope, signal, log);
    if (!answer) return undefined;
    const result: RunResult = { document_id: null, ...answer };
    return answer.error
      ? { status: 'failed' as const, error: answer.error, answer: result }
      : { status: 'succeeded' as const, answer: result };
  }

  /**
   * The agent answers once per document in scope, from that document alone; one that fails
   * is stored with its reason and the others go on. The documents not answered by an
   * earlier attempt become the run's items, which this worker and idle ones claim and
   * answer; once none is free, it waits for those others hold (a helper that dies lets its
   * claims lapse, and they are taken again) and the run is done.
   */
  private async eachDocument(run: Run, lease: Lease, owner: string, agent: Agent, runner: ChatRunner, scope: SearchScope, signal: AbortSignal, log: Logger) {
    const { sql, queue } = this.deps;
    const { where, values } = scopeClause(scope, 'd');
    const documents = await sql.all<{ id: number }>(`SELECT id FROM documents d WHERE ${where} ORDER BY id`, values);
    const answered = new Set((await sql.all<{ document_id: number }>('SELECT document_id FROM run_results WHERE run_id = ?', [run.id])).map((row) => Number(row.document_id)));
    const remaining = documents.map((document) => Number(document.id)).filter((id) => !answered.has(id));
    const total = answered.size + remaining.length;
    log('info', `Answering once for each of ${total} document${total === 1 ? '' : 's'} with ${runner.name}${answered.size ? ` (${answered.size} answered by an earlier attempt)` : ''}`);
    if (!(await queue.begin(lease, answered.size, total, remaining))) return undefined;
    const claim = queue.itemClaim(owner, run.id);
    // The lines above come before those of the items.
    await log.flush();
    for (;;) {
      if (!(await this.answerItems(run, owner, claim, agent, runner, scope, signal)).finished) return undefined;
      if (!(await queue.itemsLeft(run.id))) return { status: 'succeeded' as const };
      await sleep(ITEMS_WAIT_MS, signal);
      if (signal.aborted) return undefined;
    }
  }

  /**
   * Claims items of the run a few at a time and answers them, DOCUMENTS_AT_ONCE at once (a
   * model's answers mostly wait on the network), storing each while its claim holds; the
   * claims are renewed meanwhile, and given back when it stops early. `finished` when no
   * item was left free; not when it stopped (the signal, the run no longer running).
   */
  private async answerItems(run: Run, owner: string, claim: ItemClaim, agent: Agent, runner: ChatRunner, scope: SearchScope, signal: AbortSignal) {
    const { sql, queue } = this.deps;
    const writer = new ItemWriter(queue, claim);
    const { log } = writer;
    // One lane stopping (the run ended, an unexpected error) stops the others too.
    const stop = new AbortController();
    const stopAll = () => stop.abort();
    signal.addEventListener('abort', stopAll, { once: true });
    if (signal.aborted) stopAll();
    const claimed: number[] = [];
    const names = new Map<number, string>();
    let held = 0;
    let answered = 0;
    let noneFree = false;
    let claiming: Promise<void> | undefined;
    const claimMore = async () => {
      const ids = await queue.claimItems(claim, ITEMS_PER_CLAIM);
      if (!ids.length) {
        noneFree = true;
        return;
      }
      held += ids.length;
      // Who answers which documents, when several workers share the run.
      log('info', `Worker ${owner} took document${ids.length === 1 ? '' : 's'} ${ids.join(', ')}`);
      const rows = await sql.all<{ id: number; original_filename: string }>(`SELECT id, original_filename FROM documents WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
      for (const row of rows) names.set(Number(row.id), row.original_filename);
      claimed.push(...ids);
    };
    /** The next claimed document, claiming more (one lane at a time) when none is in hand. */
    const next = async (): Promise<number | undefined> => {
      while (!claimed.length && !noneFree && !stop.signal.aborted) {
        claiming ??= claimMore().finally(() => {
          claiming = undefined;
        });
        await claiming;
      }
      return stop.signal.aborted ? undefined : claimed.shift();
    };
    const lane = async () => {
      while (!stop.signal.aborted) {
        // On SQLite an offline answer is synchronous work from start to end: between two,
        // the event loop gets a turn, so requests to the same process never wait for a run.
        await yieldToEventLoop();
        const id = await next();
        if (id === undefined) return;
        const answer = await this.answer(run, agent, runner, { ...scope, documentIds: [id] }, stop.signal, log, id);
        if (!answer) return;
        if (answer.error) log('warning', `${names.get(id) ?? 'A document'} (document ${id}): ${answer.error}`);
        const written = await writer.store({ document_id: id, ...answer });
        held--;
        if (written === 'stored') answered++;
        // A claim that lapsed (the answer took longer than the lease) lost only that item; a run no longer running stops here.
        else if (written === 'ended') stopAll();
      }
    };
    const renewing = repeat(Math.max(50, Math.floor(queue.leaseMs / 3)), () => queue.renewItems(claim));
    try {
      const lanes = await Promise.allSettled(Array.from({ length: DOCUMENTS_AT_ONCE }, () => lane().catch((error: unknown) => {
        stopAll();
        throw error;
      })));
      const failed = lanes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      signal.removeEventListener('abort', stopAll);
      await writer.flush();
      await renewing.stop();
      // Items claimed and not answered go back at once, rather than when their claims lapse.
      if (held > 0) await queue.releaseItems(claim).catch(() => undefined);
    }
    return { finished: !stop.signal.aborted, answered };
  }

  /**
   * One answer of the runner, or its failure as `error`; undefined when the signal stopped
   * it. For one document, a search that finds nothing falls back to the document's first
   * passages, so a request with no words from it ("summarise") still has text to work on.
   */
  private async answer(run: Run, agent: Agent, runner: ChatRunner, scope: SearchScope, signal: AbortSignal, log: Logger, documentId?: number) {
    const retriever = this.deps.chat.retrieverFor(agent);
    const search = await this.deps.embeddings.searchFor(agent, retriever, scope);
    const logged = async (query: string, limit: number): Promise<SearchHit[]> => {
      let hits = await search(query, limit);
      if (!hits.length && documentId !== undefined) {
        hits = await this.firstPassages(documentId, limit);
        if (hits.length) log('info', `No passage matched; using the first ${hits.length} passage${hits.length === 1 ? '' : 's'} of ${hits[0].originalFilename}`);
      } else {
        log('info', describeHits(hits));
      }
      return hits;
    };
    try {
      let done: { reply: string; sources: Source[] } | undefined;
      for await (const event of runner.run({
        agent,
        message: run.input,
        history: [],
        library: () => this.deps.documents.library(scope),
        search: logged,
        unreadable: () => this.deps.documents.unreadable(scope),
        signal,
        log,
      })) {
        if (signal.aborted) return undefined;
        if (event.type === 'done') done = event;
      }
      if (signal.aborted || !done) return undefined;
      return { output: done.reply, sources: done.sources, error: null };
    } catch (error) {
      if (signal.aborted) return undefined;
      if (!(error instanceof RunnerError)) throw error;
      return { output: null, sources: [] as Source[], error: error.message };
    }
  }

  private async firstPassages(documentId: number, limit: number): Promise<SearchHit[]> {
    const rows = await this.deps.sql.all<{ position: number; content: string; original_filename: string }>(
      `SELECT p.position, p.content, d.original_filename FROM passages p JOIN documents d ON d.id = p.document_id
        WHERE p.document_id = ? ORDER BY p.position LIMIT ?`,
      [documentId, limit],
    );
    return rows.map((row) => ({
      documentId,
      originalFilename: row.original_filename,
      position: Number(row.position),
      snippet: snippetOf(row.content, []),
      content: row.content,
    }));
  }
}

type Logger = ((level: LogLevel, message: string) => void) & { flush(): Promise<void> };

/**
 * Logs written in order through `write`, without the runner waiting for them (a write
 * refused, the run having ended or moved on, drops them); flushed before the answer they
 * led to is stored.
 */
function logger(write: (level: LogLevel, message: string) => Promise<unknown>): Logger {
  let pending: Promise<void> = Promise.resolve();
  return Object.assign((level: LogLevel, message: string) => {
    pending = pending.then(() => write(level, message)).then(() => undefined, () => undefined);
  }, { flush: () => pending });
}

/** Entries written in one transaction at most (a bound on the statement's values). */
const ENTRIES_PER_WRITE = 200;

/**
 * Writes what a worker answering items of a run produces, in order, in as few transactions
 * as it can: while one is written, entries that come meanwhile wait and go together in the
 * next. Every such write locks the run's row, which all the run's workers share, so fewer
 * and shorter writes let more workers go at once.
 */
class ItemWriter {
  readonly log: Logger;
  private readonly entries: Array<{ entry: ItemEntry; settle?: (written: ItemWrite | Error) => void }> = [];
  private writing?: Promise<void>;
  private ended = false;

  constructor(private readonly queue: RunQueue, private readonly claim: ItemClaim) {
    this.log = Object.assign((level: LogLevel, message: string) => this.push({ type: 'log', level, message, at: nextTimestamp() }), { flush: () => this.flush() });
  }

  /** Stores a document's answer after every entry before it; what became of it. */
  store(result: RunResult & { document_id: number }): Promise<ItemWrite> {
    return new Promise((resolve, reject) => {
      this.push({ type: 'result', result }, (written) => (written instanceof Error ? reject(written) : resolve(written)));
    });
  }

  /** Resolves once every entry so far is written (or dropped, the run having ended). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private push(entry: ItemEntry, settle?: (written: ItemWrite | Error) => void): void {
    if (this.ended) {
      settle?.('ended');
      return;
    }
    this.entries.push({ entry, settle });
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.entries.length) {
      const batch = this.entries.splice(0, ENTRIES_PER_WRITE);
      let written: Set<number> | 'ended' | Error;
      try {
        written = await this.queue.storeItems(this.claim, batch.map((item) => item.entry));
      } catch (error) {
        // A log that could not be written is dropped; an answer's writer is told.
        written = error instanceof Error ? error : new Error(String(error));
      }
      if (written === 'ended') this.ended = true;
      for (const { entry, settle } of batch) {
        if (!settle || entry.type !== 'result') continue;
        settle(written instanceof Error || written === 'ended' ? written : written.has(entry.result.document_id) ? 'stored' : 'taken');
      }
    }
    this.writing = undefined;
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Calls `task` every `ms` (never two at once) until stopped; a failing call is tried again next time. */
export function repeat(ms: number, task: () => Promise<unknown>): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      running = task().then(() => undefined, () => undefined).then(() => {
        if (!stopped) schedule();
      });
    }, ms);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** "Found 4 passages in a.txt (3), b.pdf (1)". */
function describeHits(hits: SearchHit[]): string {
  if (!hits.length) return 'Found no passage';
  const byDocument = new Map<string, number>();
  for (const hit of hits) {
    const key = `${hit.originalFilename} (document ${hit.documentId})`;
    byDocument.set(key, (byDocument.get(key) ?? 0) + 1);
  }
  const listed = [...byDocument].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name)).join(', ');
  return `Found ${hits.length} passage${hits.length === 1 ? '' : 's'} in ${listed}`;
}
