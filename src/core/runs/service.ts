// Runs: an agent's background work. This service is what front ends call (start, read,
// cancel, delete, follow); workers take runs up through queue.ts. A run's row is the one
// source of truth for its status and progress, and every change of it is also stored as an
// event, so a client that follows a run can leave and come back without missing one.
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import { TABLES, nextTimestamp } from '../db/tables.js';
import {
  FINISHED_RUN_STATUSES, ListQuerySchema, RUN_STATUSES, RunCreateSchema, RunListQuerySchema,
  type Deleted, type ListQuery, type Page, type Run, type RunCreate, type RunEvent, type RunListQuery, type RunResult, type RunStatus, type Source,
} from '../schemas.js';
import { scopeClause } from '../search/index.js';
import { scopeOf } from '../chat/service.js';
import { deleted, readById, readPage, trimFields, type Db, type ServiceDeps } from '../services/support.js';
import type { ChatService } from '../chat/service.js';
import type { DocumentService } from '../services/documents.js';
import type { EmbeddingService } from '../services/embeddings.js';
import { RunExecutor } from './executor.js';
import { RunQueue } from './queue.js';

/** How often a follower looks for new events when nothing in this process wakes it. */
export const WATCH_POLL_MS = 250;
/** Events read per query while replaying. */
const EVENT_PAGE = 500;

type EventType = RunEvent['type'];
type Row = Record<string, unknown>;

export function isFinished(status: string): boolean {
  return (FINISHED_RUN_STATUSES as readonly string[]).includes(status);
}

/** Rows of a raw statement with RETURNING, on either backend. */
export function rowsOf(result: unknown): Row[] {
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}

/** Stores one event of a run in `db`'s transaction; its id orders it among the run's events. */
export async function appendEvent(db: Db, runId: number, type: EventType, data: object): Promise<void> {
  await db.raw('INSERT INTO run_events (run_id, type, data, created_at) VALUES (?, ?, ?, ?)', [runId, type, JSON.stringify(data), nextTimestamp()]);
}

/** Stores events of a run in `db`'s transaction with one statement, their ids in the order given. */
export async function appendEvents(db: Db, runId: number, events: Array<{ type: EventType; data: object }>): Promise<void> {
  if (!events.length) return;
  const now = nextTimestamp();
  await db.raw(
    `INSERT INTO run_events (run_id, type, data, created_at) VALUES ${events.map(() => '(?, ?, ?, ?)').join(', ')}`,
    events.flatMap((event) => [runId, event.type, JSON.stringify(event.data), now]),
  );
}

export interface RunDeps extends ServiceDeps {
  chat: ChatService;
  documents: DocumentService;
  embeddings: EmbeddingService;
  /** How long a worker's claim on a run lasts unless renewed (queue.ts). */
  leaseMs: number;
}

export class RunService {
  /** Where workers claim runs and write what they did (see worker.ts). */
  readonly queue: RunQueue;
  /** What a worker does with a claimed run. */
  readonly executor: RunExecutor;
  /** Followers and workers in this process, woken when a run changes here (others poll). */
  private readonly listeners = new Set<(runId: number) => void>();
  private readonly queuedListeners = new Set<() => void>();

  constructor(private readonly deps: RunDeps) {
    this.queue = new RunQueue({ get knex() { return deps.knex; }, sql: deps.sql, runs: this, leaseMs: deps.leaseMs });
    this.executor = new RunExecutor({ sql: deps.sql, chat: deps.chat, documents: deps.documents, embeddings: deps.embeddings, queue: this.queue });
  }

  /** Queues a run of agent `agentId`. 404 for an unknown agent; 422 naming the field for a topic or document that is not there. */
  async create(agentId: number, input: unknown): Promise<Run> {
    const body = validateBody<RunCreate>(RunCreateSchema, trimFields(input, ['input']));
    const agentRow = await this.deps.sql.first<Row>('SELECT * FROM agents WHERE id = ?', [agentId]);
    if (!agentRow) throw new NotFoundError('Agent not found');
    const agent = TABLES.agents.toApi(agentRow);
    if (body.topic_id !== undefined && body.topic_id !== null) {
      if (!(await this.deps.sql.first('SELECT id FROM topics WHERE id = ?', [body.topic_id]))) {
        throw ValidationError.field(['body', 'topic_id'], `Topic ${body.topic_id} does not exist`, 'foreign_key');
      }
    }
    if (body.document_ids) {
      const ids = body.document_ids;
      const { where, values } = scopeClause(scopeOf(agent));
      const rows = await this.deps.sql.all<{ id: number; in_scope: number | boolean }>(
        `SELECT id, CASE WHEN ${where} THEN 1 ELSE 0 END AS in_scope FROM documents WHERE id IN (${ids.map(() => '?').join(', ')})`,
        [...values, ...ids],
      );
      const found = new Map(rows.map((row) => [Number(row.id), Number(row.in_scope) === 1]));
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length) {
        throw ValidationError.field(['body', 'document_ids'], `${plural(missing.length, 'Document')} ${missing.slice(0, 10).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, 'foreign_key');
      }
      const outside = ids.filter((id) => !found.get(id));
      if (outside.length) {
        throw ValidationError.field(
          ['body', 'document_ids'],
          `${plural(outside.length, 'Document')} ${outside.slice(0, 10).join(', ')} ${outside.length === 1 ? 'is' : 'are'} not among agent ${agent.id}'s documents (its own, or in the topics of its config)`,
          'value_error',
        );
      }
    }
    const now = nextTimestamp();
    const run = await this.deps.knex.transaction(async (trx) => {
      const [row] = rowsOf(await trx.raw(
        `INSERT INTO runs (agent_id, status, input, topic_id, document_ids, each_document, created_at, updated_at)
         VALUES (?, 'queued', ?, ?, ?, ?, ?, ?) RETURNING *`,
        [agent.id, body.input, body.topic_id ?? null, body.document_ids ? JSON.stringify(body.document_ids) : null, body.each_document ? 1 : 0, now, now],
      ));
      const created = TABLES.runs.toApi(row);
      await appendEvent(trx, created.id, 'status', { status: 'queued' });
      return created;
    });
    this.changed(run.id);
    for (const listener of this.queuedListeners) listener();
    return run;
  }

  async get(id: number): Promise<Run> {
    return readById(this.deps.sql, TABLES.runs, id);
  }

  /** Runs in ascending id, optionally one agent's or those in one status. */
  async list(query: Record<string, unknown> = {}): Promise<Page<Run>> {
    const listing = validateText<RunListQuery>(RunListQuerySchema, query);
    return readPage(this.deps.sql, TABLES.runs, { agent_id: listing.agent_id, status: listing.status }, listing);
  }

  /** A run's results by document id (one, with none, for a run answered once), paged like lists. */
  async results(id: number, query: Record<string, unknown> = {}): Promise<Page<RunResult>> {
    const { skip, limit } = validateText<ListQuery>(ListQuerySchema, query);
    await this.get(id);
    const counted = await this.deps.sql.first<{ total: number | string }>('SELECT COUNT(*) AS total FROM run_results WHERE run_id = ?', [id]);
    const total = Number(counted?.total ?? 0);
    const rows = total > skip
      ? await this.deps.sql.all<Row>(
        'SELECT document_id, output, sources, error FROM run_results WHERE run_id = ? ORDER BY document_id, id LIMIT ? OFFSET ?',
        [id, limit, skip],
      )
      : [];
    return { items: rows.map(toResult), total };
  }

  /** A queued or running run ends `cancelled` (its worker notices within a second); 409 once it has finished. */
  async cancel(id: number): Promise<Run> {
    const run = await this.deps.knex.transaction(async (trx) => {
      const now = nextTimestamp();
      const [row] = rowsOf(await trx.raw(
        `UPDATE runs SET status = 'cancelled', finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
          WHERE id = ? AND status IN ('queued', 'running') RETURNING *`,
        [now, now, id],
      ));
      if (!row) {
        const current = await readById(this.deps.sql, TABLES.runs, id);
        throw new ConflictError(`Run ${id} has already finished (${current.status})`);
      }
      await appendEvent(trx, id, 'status', { status: 'cancelled' });
      // Its items go too: no worker claims them, and idle workers' look for work stays short.
      await trx.raw('DELETE FROM run_items WHERE run_id = ?', [id]);
      return TABLES.runs.toApi(row);
    });
    this.changed(id);
    return run;
  }

  /** Only a finished run may be deleted (cancel a queued or running one first), with its results and events. */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.knex('runs').where({ id }).whereIn('status', [...FINISHED_RUN_STATUSES]).delete();
    if (!count) {
      const current = await this.get(id);
      throw new ConflictError(`Run ${id} is ${current.status}; cancel it before deleting it`);
    }
    this.changed(id);
    return deleted('Run');
  }

  /** The run's stored events after `afterId`, oldest first (at most a page of them). 404 for an unknown run. */
  async events(id: number, afterId = 0): Promise<RunEvent[]> {
    const rows = await this.deps.sql.all<Row>('SELECT id, type, data FROM run_events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?', [id, afterId, EVENT_PAGE]);
    if (!rows.length) await this.get(id);
    return rows.map(toEvent);
  }

  /**
   * The run's events after `afterId`, then new ones as they happen, ending after the final
   * status event (or when `signal` aborts, or the run is deleted). Changes made in this
   * process wake the follower at once; those of other processes are seen within
   * WATCH_POLL_MS.
   */
  async *watch(id: number, options: { afterId?: number; signal?: AbortSignal } = {}): AsyncIterable<RunEvent> {
    const { signal } = options;
    let after = options.afterId ?? 0;
    await this.get(id);
    while (!signal?.aborted) {
      let events: RunEvent[];
      try {
        events = await this.events(id, after);
      } catch (error) {
        if (error instanceof NotFoundError) return;
        throw error;
      }
      for (const event of events) {
        yield event;
        after = event.id;
        if (event.type === 'status' && isFinished(event.data.status)) return;
      }
      if (events.length) continue;
      // No event was pending: a run that finished before the events we were asked to skip ends here too.
      if (after > 0) {
        const run = await this.get(id).catch(() => undefined);
        if (!run) return;
        if (isFinished(run.status) && !(await this.hasEventsAfter(id, after))) return;
      }
      await this.waitForChange(id, signal);
    }
  }

  /** How many runs are in each status (every status named, zeros included). */
  async countByStatus(): Promise<Record<RunStatus, number>> {
    const rows = await this.deps.sql.all<{ status: RunStatus; total: number | string }>('SELECT status, COUNT(*) AS total FROM runs GROUP BY status');
    const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
    for (const row of rows) if (row.status in counts) counts[row.status] = Number(row.total);
    return counts;
  }

  /** Called when `listener` should look at the queue again (a run was queued in this process). */
  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  /** Tells followers in this process that a run changed (the queue calls it after each write). */
  changed(runId: number): void {
    for (const listener of this.listeners) listener(runId);
  }

  private async hasEventsAfter(id: number, after: number): Promise<boolean> {
    return Boolean(await this.deps.sql.first('SELECT id FROM run_events WHERE run_id = ? AND id > ? LIMIT 1', [id, after]));
  }

  private waitForChange(id: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const listener = (runId: number) => {
        if (runId === id) done();
      };
      const timer = setTimeout(done, WATCH_POLL_MS);
      this.listeners.add(listener);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function toResult(row: Row): RunResult {
  return {
    document_id: row.document_id === null || row.document_id === undefined ? null : Number(row.document_id),
    output: (row.output ?? null) as string | null,
    sources: (parseJson(row.sources) ?? []) as Source[],
    error: (row.error ?? null) as string | null,
  };
}

function toEvent(row: Row): RunEvent {
  return { id: Number(row.id), type: row.type as EventType, data: parseJson(row.data) } as RunEvent;
}
