// What a worker does with a claimed run: the agent answers its input, once from the
// documents in scope, or once per document from that document alone, with the runner and
// retrieval chat uses. Everything goes through the lease (queue.ts): a run cancelled or
// taken over meanwhile gets nothing more, and the signal stops the runner mid-answer.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RunnerError } from '../errors.js';
import { TABLES } from '../db/tables.js';
import type { SqlRunner } from '../db/dialects.js';
import type { Agent, Run, RunResult, Source } from '../schemas.js';
import { scopeClause, type SearchScope } from '../search/index.js';
import type { SearchHit } from '../search/retriever.js';
import { snippetOf } from '../search/passages.js';
import { scopeOf, type ChatService } from '../chat/service.js';
import type { ChatRunner } from '../chat/runner.js';
import type { DocumentService } from '../services/documents.js';
import type { EmbeddingService } from '../services/embeddings.js';
import type { Lease, LogLevel, RunQueue } from './queue.js';

/** Documents of an each_document run answered at once by its worker. */
export const DOCUMENTS_AT_ONCE = 4;

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

  async execute(run: Run, lease: Lease, signal: AbortSignal): Promise<Execution> {
    const { queue } = this.deps;
    // Logs are written in order, without the runner waiting for them (a lost lease drops
    // them); they are flushed before the answer they led to is stored.
    let pending: Promise<void> = Promise.resolve();
    const log: Logger = Object.assign((level: LogLevel, message: string) => {
      pending = pending.then(() => queue.log(lease, level, message)).then(() => undefined, () => undefined);
    }, { flush: () => pending });
    const agentRow = await this.deps.sql.first<Record<string, unknown>>('SELECT * FROM agents WHERE id = ?', [run.agent_id]);
    // The agent was deleted meanwhile: its runs went with it (ON DELETE CASCADE).
    if (!agentRow) return { runner: 'none' };
    const agent = TABLES.agents.toApi(agentRow);
    let runner: ChatRunner;
    try {
      runner = await this.deps.chat.runnerFor(agent);
      this.deps.chat.retrieverFor(agent);
    } catch (error) {
      if (!(error instanceof RunnerError)) throw error;
      const ended = await queue.finish(lease, { status: 'failed', error: error.message });
      return { runner: 'none', status: ended ? 'failed' : undefined };
    }
    const scope: SearchScope = {
      ...scopeOf(agent),
      ...(run.topic_id !== null && { topicId: run.topic_id }),
      ...(run.document_ids && { documentIds: run.document_ids }),
    };
    const outcome = run.each_document
      ? await this.eachDocument(run, lease, agent, runner, scope, signal, log)
      : await this.once(run, lease, agent, runner, scope, signal, log);
    await pending;
    if (signal.aborted || !outcome) return { runner: runner.name };
    const ended = await queue.finish(lease, outcome);
    return { runner: runner.name, status: ended ? outcome.status : undefined };
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
   * The agent answers once per document in scope, from that document alone, a few
   * documents at a time (a model's answers mostly wait on the network); one that fails is
   * stored with its reason and the others go on. Documents answered by an earlier attempt
   * are skipped.
   */
  private async eachDocument(run: Run, lease: Lease, agent: Agent, runner: ChatRunner, scope: SearchScope, signal: AbortSignal, log: Logger) {
    const { sql, queue } = this.deps;
    const { where, values } = scopeClause(scope, 'd');
    const documents = await sql.all<{ id: number; original_filename: string }>(`SELECT id, original_filename FROM documents d WHERE ${where} ORDER BY id`, values);
    const answered = new Set((await sql.all<{ document_id: number }>('SELECT document_id FROM run_results WHERE run_id = ?', [run.id])).map((row) => Number(row.document_id)));
    const remaining = documents.filter((document) => !answered.has(Number(document.id)));
    const total = answered.size + remaining.length;
    log('info', `Answering once for each of ${total} document${total === 1 ? '' : 's'} with ${runner.name}${answered.size ? ` (${answered.size} answered by an earlier attempt)` : ''}`);
    if (!(await queue.begin(lease, answered.size, total))) return undefined;
    // One lane stopping (the lease lost, an unexpected error) stops the others too.
    const stop = new AbortController();
    const stopAll = () => stop.abort();
    signal.addEventListener('abort', stopAll, { once: true });
    let next = 0;
    const lane = async () => {
      while (!stop.signal.aborted && next < remaining.length) {
        // On SQLite an offline answer is synchronous work from start to end: between two,
        // the event loop gets a turn, so requests to the same process never wait for a run.
        await yieldToEventLoop();
        if (stop.signal.aborted || next >= remaining.length) return;
        const document = remaining[next++];
        const id = Number(document.id);
        const answer = await this.answer(run, agent, runner, { ...scope, documentIds: [id] }, stop.signal, log, id);
        if (!answer) return;
        if (answer.error) log('warning', `${document.original_filename} (document ${id}): ${answer.error}`);
        await log.flush();
        if (!(await queue.addResult(lease, { document_id: id, ...answer }))) stopAll();
      }
    };
    try {
      const lanes = await Promise.allSettled(Array.from({ length: Math.min(DOCUMENTS_AT_ONCE, remaining.length) }, () => lane().catch((error: unknown) => {
        stopAll();
        throw error;
      })));
      const failed = lanes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      signal.removeEventListener('abort', stopAll);
    }
    return stop.signal.aborted ? undefined : { status: 'succeeded' as const };
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
