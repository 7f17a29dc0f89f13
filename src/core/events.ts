// Live events: the changes the `events` outbox holds (written by triggers in the same
// transaction as each change, whichever process made it; see migration 011), read after an
// id and followed as they commit. One poller per process serves every follower: it reads the
// outbox every 200 ms while someone follows, and not at all otherwise.
import type { Knex } from 'knex';
import type { Dialect, SqlRunner } from './db/dialects.js';
import { isoTimestamp } from './db/tables.js';

/** One event as `GET /api/events` sends it: `change` for resources, `run` for a run's status and progress. */
export interface ChangeEvent {
  id: number;
  event: 'change' | 'run';
  data: Record<string, unknown>;
}

interface EventRow {
  id: number | string;
  resource: string;
  resource_id: number | string;
  action: string;
  data: string | null;
  created_at: string | Date;
}

export interface ChangeFeedOptions {
  /** How often the outbox is read while someone follows. */
  pollIntervalMs?: number;
  /** How long delivery waits at a gap in ids for a transaction that may still commit (PostgreSQL). */
  gapHoldMs?: number;
  /** Events older than this are pruned. */
  retentionMs?: number;
  /** How often a server prunes. */
  pruneIntervalMs?: number;
}

interface ChangeFeedDeps {
  dialect: Dialect;
  sql: SqlRunner;
  readonly knex: Knex;
}

interface Follower {
  /** The id of the last event delivered (or skipped). */
  cursor: number;
  queue: ChangeEvent[];
  wake(): void;
}

const POLL_INTERVAL_MS = 200;
const GAP_HOLD_MS = 2_000;
export const EVENT_RETENTION_MS = 24 * 60 * 60_000;
const PRUNE_INTERVAL_MS = 60_000;
const BATCH_ROWS = 500;
const PRUNE_BATCH_ROWS = 10_000;
// A gap in front of a row written this long ago is history (a rollback, or rows pruned), not
// a transaction about to commit: a client resuming from an old id does not wait at each one.
const STALE_GAP_MS = 60_000;

export class ChangeFeed {
  private readonly pollIntervalMs: number;
  private readonly gapHoldMs: number;
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;
  private readonly followers = new Set<Follower>();
  /** When delivery first stopped at the gap in front of an event id. */
  private readonly gapSeenAt = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pruner: NodeJS.Timeout | undefined;
  private lastPrunedAt = 0;
  /** The last poll read a full batch: poll again at once. */
  private hasBacklog = false;
  private closed = false;
  private readonly stopped = new AbortController();

  constructor(private readonly deps: ChangeFeedDeps, options: ChangeFeedOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS;
    // SQLite has one writer at a time and never reuses an id: its ids commit in order, and a
    // gap (pruned rows) never fills. PostgreSQL hands out ids before commit, so a later id can
    // commit first; a rolled-back transaction leaves its id unused for good.
    this.gapHoldMs = options.gapHoldMs ?? (deps.dialect === 'postgres' ? GAP_HOLD_MS : 0);
    this.retentionMs = options.retentionMs ?? EVENT_RETENTION_MS;
    this.pruneIntervalMs = options.pruneIntervalMs ?? PRUNE_INTERVAL_MS;
  }

  /** The newest event's id (0 when there is none): where a follower without a Last-Event-ID starts. */
  async latestId(): Promise<number> {
    const row = await this.deps.sql.first<{ latest: number | string | null }>('SELECT MAX(id) AS latest FROM events');
    return Number(row?.latest ?? 0);
  }

  /**
   * Where a follower starts: after `afterId`, or from now without one. Ids are never reused,
   * so an id past the newest was never given out by this database (a client of a database
   * since restored from a backup): that follower starts from now too. A caller that must not
   * miss a change made after it answered (a stream whose headers are out) asks this first.
   */
  async startAfter(afterId?: number): Promise<number> {
    const latest = await this.latestId();
    return afterId !== undefined && afterId <= latest ? afterId : latest;
  }

  /** Stored events after an id, oldest first, as they are (gaps included). */
  async after(afterId: number, limit = BATCH_ROWS): Promise<ChangeEvent[]> {
    return (await this.rowsAfter(afterId, limit)).map(toChangeEvent);
  }

  /**
   * The events after `afterId` (default: from now), then each new one as it commits, in id
   * order without gaps a late commit could fill. Ends when `signal` aborts or the feed closes.
   */
  async *follow(options: { afterId?: number; signal?: AbortSignal } = {}): AsyncGenerator<ChangeEvent> {
    const { signal } = options;
    if (this.closed || signal?.aborted) return;
    const follower: Follower = { cursor: await this.startAfter(options.afterId), queue: [], wake: () => undefined };
    const ended = () => follower.wake();
    signal?.addEventListener('abort', ended);
    this.stopped.signal.addEventListener('abort', ended);
    this.followers.add(follower);
    this.schedulePoll(0);
    try {
      while (!signal?.aborted && !this.closed) {
        const event = follower.queue.shift();
        if (event) {
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => (follower.wake = resolve));
      }
    } finally {
      signal?.removeEventListener('abort', ended);
      this.stopped.signal.removeEventListener('abort', ended);
      this.followers.delete(follower);
      if (!this.followers.size) this.stopPolling();
    }
  }

  /** How many follow now. */
  get followerCount(): number {
    return this.followers.size;
  }

  /**
   * Deletes events older than the retention (a day), in batches of ids so a large backlog
   * never holds the write lock for long. Returns how many were deleted.
   */
  async prune(now = Date.now()): Promise<number> {
    this.lastPrunedAt = now;
    const last = await this.lastIdBefore(now - this.retentionMs);
    if (!last) return 0;
    const first = Number((await this.deps.sql.first<{ id: number | string }>('SELECT MIN(id) AS id FROM events'))?.id ?? last);
    let deleted = 0;
    for (let upTo = first + PRUNE_BATCH_ROWS - 1; ; upTo += PRUNE_BATCH_ROWS) {
      deleted += await this.deps.knex('events').where('id', '<=', Math.min(upTo, last)).delete();
      if (upTo >= last) break;
    }
    return deleted;
  }

  /**
   * The id of the newest event written before `cutoffMs` (0 when none is): a binary search on
   * the primary key, since ids and times grow together (no index on created_at to keep up).
   */
  private async lastIdBefore(cutoffMs: number): Promise<number> {
    const bounds = await this.deps.sql.first<{ low: number | string | null; high: number | string | null }>('SELECT MIN(id) AS low, MAX(id) AS high FROM events');
    if (bounds?.low === null || bounds?.low === undefined) return 0;
    // Every row up to `older` is older than the cutoff; every row from `newer` on is not.
    let older = Number(bounds.low) - 1;
    let newer = Number(bounds.high) + 1;
    while (newer - older > 1) {
      const middle = Math.floor((older + newer) / 2);
      const row = await this.deps.sql.first<{ id: number | string; created_at: string | Date }>(
        'SELECT id, created_at FROM events WHERE id >= ? ORDER BY id LIMIT 1', [middle],
      );
      if (!row) newer = middle;
      else if (Date.parse(isoTimestamp(row.created_at)) < cutoffMs) older = Number(row.id);
      else newer = middle;
    }
    return Math.max(older, 0);
  }

  /** Prunes now and then at most once per interval, until the feed closes (servers do this). */
  startPruning(onError: (error: unknown) => void = () => undefined): void {
    if (this.pruner || this.closed) return;
    const prune = () => {
      if (Date.now() - this.lastPrunedAt < this.pruneIntervalMs) return;
      this.prune().catch(onError);
    };
    this.pruner = setInterval(prune, this.pruneIntervalMs).unref();
    prune();
  }

  /** Ends every follower's stream (a server shutting down) and stops polling and pruning. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruner);
    this.stopped.abort();
    this.stopPolling();
    await this.polling;
  }

  private schedulePoll(delayMs: number): void {
    if (this.closed || this.polling) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        if (this.followers.size) this.schedulePoll(this.hasBacklog ? 0 : this.pollIntervalMs);
      });
    }, delayMs);
  }

  private stopPolling(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.gapSeenAt.clear();
  }

  /** One read of the outbox per distinct cursor (usually one: every follower caught up). */
  private async poll(): Promise<void> {
    this.hasBacklog = false;
    const byCursor = new Map<number, Follower[]>();
    for (const follower of this.followers) {
      // A client that reads slowly is not queued more than a batch: the rest stays in the outbox until it catches up.
      if (follower.queue.length >= BATCH_ROWS) continue;
      byCursor.set(follower.cursor, [...(byCursor.get(follower.cursor) ?? []), follower]);
    }
    for (const [cursor, group] of byCursor) {
      let rows: EventRow[];
      try {
        rows = await this.rowsAfter(cursor, BATCH_ROWS);
      } catch {
        // The database is briefly unreachable (or closing): the next poll tries again.
        return;
      }
      if (rows.length === BATCH_ROWS) this.hasBacklog = true;
      const { events, next } = this.deliverable(cursor, rows);
      if (next === cursor) continue;
      for (const follower of group) {
        if (!this.followers.has(follower)) continue;
        follower.queue.push(...events);
        follower.cursor = next;
        follower.wake();
      }
    }
    // Gaps behind every follower are settled: forget when they were seen.
    const oldest = Math.min(...[...this.followers].map((follower) => follower.cursor));
    for (const id of this.gapSeenAt.keys()) if (id <= oldest) this.gapSeenAt.delete(id);
  }

  /**
   * The rows that may go out after `cursor`, in order: a row right after the last one goes;
   * a row behind a gap waits until the gap has stood for the hold time (a late commit fills
   * it) or is old history, and is then sent, giving the missing ids up.
   */
  private deliverable(cursor: number, rows: EventRow[]): { events: ChangeEvent[]; next: number } {
    const events: ChangeEvent[] = [];
    let next = cursor;
    const now = Date.now();
    for (const row of rows) {
      const id = Number(row.id);
      if (id !== next + 1 && this.gapHoldMs > 0) {
        const seenAt = this.gapSeenAt.get(id) ?? now;
        this.gapSeenAt.set(id, seenAt);
        const isStale = now - Date.parse(isoTimestamp(row.created_at)) >= STALE_GAP_MS;
        if (now - seenAt < this.gapHoldMs && !isStale) break;
      }
      events.push(toChangeEvent(row));
      next = id;
    }
    return { events, next };
  }

  private rowsAfter(afterId: number, limit: number): Promise<EventRow[]> {
    return this.deps.sql.all<EventRow>(
      `SELECT id, resource, resource_id, action, data, created_at FROM events WHERE id > ? ORDER BY id LIMIT ${Number(limit)}`,
      [afterId],
    );
  }
}

/**
 * A row as clients see it: a run's row (status and progress in `data`) is a `run` event
 * `{id, status, done, total}`; any other row, and a deleted run, a `change` event.
 */
function toChangeEvent(row: EventRow): ChangeEvent {
  const id = Number(row.id);
  const resourceId = Number(row.resource_id);
  if (row.resource === 'runs' && row.action !== 'deleted') {
    const data = row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {};
    return { id, event: 'run', data: { id: resourceId, ...data } };
  }
  return { id, event: 'change', data: { resource: row.resource, id: resourceId, action: row.action } };
}
