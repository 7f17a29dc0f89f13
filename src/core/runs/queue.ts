// The run queue is the runs table itself. A worker claims a run with one UPDATE … RETURNING
// that sets a lease (an owner token and an expiry); on PostgreSQL the run is picked with
// FOR UPDATE SKIP LOCKED, so servers and workers claiming at once each get a different run
// without waiting on each other; on SQLite every write transaction holds the database's
// write lock, which makes the same statement atomic. Every later write of the worker names
// its lease and succeeds only while the run is still running under it: a run cancelled,
// or taken up again by another worker after the lease lapsed, gets nothing more from it.
// Each write that adds events first updates the run's row, which serializes a run's events
// in commit order (event ids never commit out of order, so a follower never skips one).
// An each_document run's documents are also work items (run_items): its owner adds them at
// the start, and the owner and any idle worker claim a few at a time the same way, each
// claim with its own token and expiry; an answer is stored only while its item's claim
// holds and the run is running, and the owner finishes the run once every item is done.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import { dialectOf, type SqlRunner } from '../db/dialects.js';
import { TABLES, nextTimestamp } from '../db/tables.js';
import type { Run, RunResult } from '../schemas.js';
import { appendEvent, appendEvents, rowsOf, type RunService } from './service.js';

/** A run is taken up at most this many times; once the last lease lapses it fails. */
export const MAX_ATTEMPTS = 3;
export const DEFAULT_LEASE_MS = 60_000;

/** The lease length: 60 s, or DANA_RUN_LEASE_MS (tests shorten it). */
export function leaseMsFrom(env: Record<string, string | undefined>): number {
  const value = Number(env.DANA_RUN_LEASE_MS);
  return Number.isFinite(value) && value >= 100 ? Math.floor(value) : DEFAULT_LEASE_MS;
}

/** This process, as a lease owner names it. */
export function workerName(): string {
  return `${os.hostname().slice(0, 60)}:${process.pid}`;
}

/** A claimed run: the token its writes must name, unique to this claim. */
export interface Lease {
  runId: number;
  token: string;
}

/** Items of one run claimed by one worker: the token their writes must name. */
export interface ItemClaim {
  runId: number;
  token: string;
}

/** What became of an item's answer: stored, refused as the item was taken by another (its claim lapsed), or refused as the run is no longer running. */
export type ItemWrite = 'stored' | 'taken' | 'ended';

/** What a worker answering items writes, in order: lines of what the agent did, and answers. */
export type ItemEntry =
  | { type: 'log'; level: LogLevel; message: string; at: string }
  | { type: 'result'; result: RunResult & { document_id: number } };

export type LogLevel = 'info' | 'warning' | 'error';

/** Items added per statement (two values each, well under SQLite's limit of bound values). */
const ITEMS_PER_INSERT = 500;


export interface QueueDeps {
  knex: Knex;
  sql: SqlRunner;
  runs: RunService;
  leaseMs: number;
}

export class RunQueue {
  constructor(private readonly deps: QueueDeps) {}

  get leaseMs(): number {
    return this.deps.leaseMs;
  }

  /**
   * What an idle worker may do, in one cheap indexed read (so idle workers do not write):
   * whether a run might be claimed, and a running each_document run with items nobody
   * holds (one it may help with).
   */
  async lookForWork(): Promise<{ runs: boolean; sharedRunId?: number }> {
    const now = nextTimestamp();
    const row = await this.deps.sql.first<{ run_id: number | null; shared_run_id: number | null }>(
      `SELECT (SELECT id FROM runs WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < ?) LIMIT 1) AS run_id,
              (SELECT i.run_id FROM run_items i JOIN runs r ON r.id = i.run_id
                WHERE i.done = false AND (i.claim_expires_at IS NULL OR i.claim_expires_at < ?) AND r.status = 'running' LIMIT 1) AS shared_run_id`,
      [now, now],
    );
    const shared = row?.shared_run_id;
    return { runs: row?.run_id !== null && row?.run_id !== undefined, ...(shared !== null && shared !== undefined && { sharedRunId: Number(shared) }) };
  }

  /**
   * Claims the oldest queued run (or one whose lease lapsed), or run `runId` only: it is
   * running under a new lease of `owner`, its attempts counted. Undefined when there is none.
   */
  async claim(owner: string, runId?: number): Promise<{ run: Run; lease: Lease } | undefined> {
    await this.failExhausted();
    const token = `${owner}:${randomBytes(6).toString('hex')}`;
    const { knex } = this.deps;
    const skipLocked = dialectOf(knex) === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    const claimable = `(status = 'queued' OR (status = 'running' AND lease_expires_at < ?)) AND attempts < ${MAX_ATTEMPTS}`;
    const claimed = await knex.transaction(async (trx) => {
      const now = nextTimestamp();
      const [row] = rowsOf(await trx.raw(
        `UPDATE runs SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
                started_at = COALESCE(started_at, ?), updated_at = ?
          WHERE id = (SELECT id FROM runs WHERE ${claimable}${runId === undefined ? '' : ' AND id = ?'} ORDER BY id LIMIT 1 ${skipLocked})
            AND ${claimable}
          RETURNING *`,
        [token, this.expiry(), now, now, now, ...(runId === undefined ? [] : [runId]), now],
      ));
      if (!row) return undefined;
      const run = TABLES.runs.toApi(row);
      await appendEvent(trx, run.id, 'status', { status: 'running' });
      const retried = run.attempts > 1 ? ` (attempt ${run.attempts} of ${MAX_ATTEMPTS}: an earlier worker stopped before finishing)` : '';
      await appendEvent(trx, run.id, 'log', { level: 'info', message: `Started by worker ${owner}${retried}`, at: now });
      return run;
    });
    if (!claimed) return undefined;
    this.deps.runs.changed(claimed.id);
    return { run: claimed, lease: { runId: claimed.id, token } };
  }

  /** Runs whose last lease lapsed after the last attempt: failed, with the reason. */
  async failExhausted(): Promise<number> {
    const now = nextTimestamp();
    // A read first: usually there is nothing to fail, and nothing needs writing.
    const due = await this.deps.sql.first(
      `SELECT id FROM runs WHERE status = 'running' AND lease_expires_at < ? AND attempts >= ${MAX_ATTEMPTS} LIMIT 1`,
      [now],
    );
    if (!due) return 0;
    const error = `The run's worker stopped before finishing, ${MAX_ATTEMPTS} times (after ${MAX_ATTEMPTS} attempts)`;
    const failed = await this.deps.knex.transaction(async (trx) => {
      const rows = rowsOf(await trx.raw(
        `UPDATE runs SET status = 'failed', error = ?, finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
          WHERE status = 'running' AND lease_expires_at < ? AND attempts >= ${MAX_ATTEMPTS} RETURNING id`,
        [error, now, now, now],
      ));
      for (const row of rows) {
        await appendEvent(trx, Number(row.id), 'status', { status: 'failed', error });
        await trx.raw('DELETE FROM run_items WHERE run_id = ?', [Number(row.id)]);
      }
      return rows.map((row) => Number(row.id));
    });
    for (const id of failed) this.deps.runs.changed(id);
    return failed.length;
  }

  /** Extends the lease; false when it is lost (the run was cancelled, or its lease lapsed). */
  async renew(lease: Lease): Promise<boolean> {
    const now = nextTimestamp();
    const count = await this.deps.knex('runs')
      .where({ id: lease.runId, status: 'running', lease_owner: lease.token })
      .where('lease_expires_at', '>', now)
      .update({ lease_expires_at: this.expiry() });
    return count > 0;
  }

  /** The run's status and whether `lease` still holds it (read, never written). */
  async check(lease: Lease): Promise<{ status: string; held: boolean } | undefined> {
    const row = await this.deps.sql.first<{ status: string; lease_owner: string | null }>('SELECT status, lease_owner FROM runs WHERE id = ?', [lease.runId]);
    return row && { status: row.status, held: row.status === 'running' && row.lease_owner === lease.token };
  }

  /**
   * Says how many answers the run gives, and how many are given already (a retried run's);
   * `documentIds`, the documents still to answer, become its items (those an earlier
   * attempt added are kept, with their claims).
   */
  async begin(lease: Lease, done: number, total: number, documentIds: number[] = []): Promise<boolean> {
    return this.whileHeld(lease, { done, total }, async (trx) => {
      // An earlier attempt's items for documents deleted since are not answered (nor counted).
      await trx.raw('DELETE FROM run_items WHERE run_id = ? AND done = false AND document_id NOT IN (SELECT id FROM documents)', [lease.runId]);
      for (let start = 0; start < documentIds.length; start += ITEMS_PER_INSERT) {
        const rows = documentIds.slice(start, start + ITEMS_PER_INSERT).map((documentId) => ({ run_id: lease.runId, document_id: documentId }));
        await trx('run_items').insert(rows).onConflict(['run_id', 'document_id']).ignore();
      }
      await appendEvent(trx, lease.runId, 'progress', { done, total });
    });
  }

  /** A new claim on items of run `runId` for `owner` (nothing is claimed until claimItems). */
  itemClaim(owner: string, runId: number): ItemClaim {
    return { runId, token: `${owner}:${randomBytes(6).toString('hex')}` };
  }

  /**
   * Claims up to `limit` items of the run that nobody holds (or whose claim lapsed), lowest
   * first, while the run is running; their document ids. On PostgreSQL, SKIP LOCKED lets
   * workers claiming at once each get different items without waiting on each other.
   */
  async claimItems(claim: ItemClaim, limit: number): Promise<number[]> {
    const { knex } = this.deps;
    const skipLocked = dialectOf(knex) === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    const now = nextTimestamp();
    const claimable = `run_id = ? AND done = false AND (claim_expires_at IS NULL OR claim_expires_at < ?)`;
    const rows = rowsOf(await knex.raw(
      `UPDATE run_items SET claim_token = ?, claim_expires_at = ?
        WHERE id IN (SELECT id FROM run_items WHERE ${claimable} ORDER BY id LIMIT ${Math.max(1, Math.floor(limit))} ${skipLocked})
          AND ${claimable}
          AND EXISTS (SELECT 1 FROM runs WHERE id = ? AND status = 'running')
        RETURNING document_id`,
      [claim.token, this.expiry(), claim.runId, now, claim.runId, now, claim.runId],
    ));
    return rows.map((row) => Number(row.document_id)).sort((a, b) => a - b);
  }

  /** Extends the claim on the items `claim` holds and has not answered yet. */
  async renewItems(claim: ItemClaim): Promise<void> {
    await this.deps.knex('run_items').where({ run_id: claim.runId, claim_token: claim.token, done: false }).update({ claim_expires_at: this.expiry() });
  }

  /** Gives back the items `claim` holds and has not answered (a worker stopping): others may claim them at once. */
  async releaseItems(claim: ItemClaim): Promise<void> {
    await this.deps.knex('run_items').where({ run_id: claim.runId, claim_token: claim.token, done: false }).update({ claim_token: null, claim_expires_at: null });
  }

  /** Whether any item of the run is not answered yet (claimed by someone, or free). */
  async itemsLeft(runId: number): Promise<boolean> {
    return Boolean(await this.deps.sql.first('SELECT id FROM run_items WHERE run_id = ? AND done = false LIMIT 1', [runId]));
  }

  /** The run's status (read, never written); undefined once it is deleted. */
  async status(runId: number): Promise<string | undefined> {
    return (await this.deps.sql.first<{ status: string }>('SELECT status FROM runs WHERE id = ?', [runId]))?.status;
  }

  /** Stores the answer of an item `claim` holds (see storeItems). */
  async addItemResult(claim: ItemClaim, result: RunResult & { document_id: number }): Promise<ItemWrite> {
    const written = await this.storeItems(claim, [{ type: 'result', result }]);
    return written === 'ended' ? 'ended' : written.has(result.document_id) ? 'stored' : 'taken';
  }

  /**
   * Stores `entries` in one transaction that first updates the run's row, while the run is
   * running (a cancel stops every worker's writes): the logs, and the answers of the items
   * `claim` still holds, each counted done (an item whose claim lapsed and was taken by
   * another is left to it). The documents whose answers were stored, or 'ended'. A few
   * statements whatever the number of entries: a busy run's row is locked briefly.
   */
  async storeItems(claim: ItemClaim, entries: ItemEntry[]): Promise<Set<number> | 'ended'> {
    const results = entries.flatMap((entry) => (entry.type === 'result' ? [entry.result] : []));
    const stored = await this.deps.knex.transaction(async (trx) => {
      const now = nextTimestamp();
      if (!(await trx('runs').where({ id: claim.runId, status: 'running' }).update({ updated_at: now }))) return undefined;
      const storedIds = new Set<number>();
      if (results.length) {
        const held = rowsOf(await trx.raw(
          `UPDATE run_items SET done = true, claim_token = NULL, claim_expires_at = NULL
            WHERE run_id = ? AND claim_token = ? AND done = false AND claim_expires_at > ? AND document_id IN (${results.map(() => '?').join(', ')})
            RETURNING document_id`,
          [claim.runId, claim.token, now, ...results.map((result) => result.document_id)],
        ));
        const heldIds = new Set(held.map((row) => Number(row.document_id)));
        const kept = results.filter((result) => heldIds.has(result.document_id));
        if (kept.length) {
          const inserted = rowsOf(await trx.raw(
            `INSERT INTO run_results (run_id, document_id, output, sources, error, created_at) VALUES ${kept.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
             ON CONFLICT (run_id, document_id) DO NOTHING RETURNING document_id`,
            kept.flatMap((result) => [claim.runId, result.document_id, result.output, JSON.stringify(result.sources), result.error, now]),
          ));
          for (const row of inserted) storedIds.add(Number(row.document_id));
        }
      }
      let done = 0;
      let total = 0;
      if (storedIds.size) {
        const [counts] = rowsOf(await trx.raw('UPDATE runs SET done = done + ? WHERE id = ? RETURNING done, total', [storedIds.size, claim.runId]));
        done = Number(counts.done) - storedIds.size;
        total = Number(counts.total);
      }
      const events: Array<{ type: 'log' | 'result' | 'progress'; data: object }> = [];
      for (const entry of entries) {
        if (entry.type === 'log') events.push({ type: 'log', data: { level: entry.level, message: entry.message, at: entry.at } });
        else if (storedIds.has(entry.result.document_id)) {
          done += 1;
          events.push({ type: 'result', data: entry.result }, { type: 'progress', data: { done, total } });
        }
      }
      await appendEvents(trx, claim.runId, events);
      return storedIds;
    });
    if (!stored) return 'ended';
    this.deps.runs.changed(claim.runId);
    return stored;
  }

  /** Stores a line of what the agent did. */
  async log(lease: Lease, level: LogLevel, message: string): Promise<boolean> {
    return this.whileHeld(lease, {}, async (trx) => {
      await appendEvent(trx, lease.runId, 'log', { level, message, at: nextTimestamp() });
    });
  }

  /**
   * Stores one document's answer and counts it done, in one transaction; a document
   * answered already (by an earlier attempt) is left as it is. False when the lease is lost.
   */
  async addResult(lease: Lease, result: RunResult): Promise<boolean> {
    return this.whileHeld(lease, {}, async (trx) => {
      await trx('run_items').where({ run_id: lease.runId, document_id: result.document_id }).update({ done: true, claim_token: null, claim_expires_at: null });
      await this.storeResult(trx, lease.runId, result);
    });
  }

  /**
   * Ends the run: `succeeded` or `failed`, with the answer of a run answered once (stored
   * as its one result too). False when the lease is lost (cancelled meanwhile: it stays so).
   */
  async finish(lease: Lease, outcome: { status: 'succeeded' | 'failed'; error?: string; answer?: RunResult }): Promise<boolean> {
    const now = nextTimestamp();
    const { answer } = outcome;
    const changes: Record<string, unknown> = {
      status: outcome.status, error: outcome.error ?? null, finished_at: now, lease_owner: null, lease_expires_at: null,
    };
    if (answer) Object.assign(changes, { output: answer.output, sources: answer.output === null ? null : JSON.stringify(answer.sources), done: 1, total: 1 });
    return this.whileHeld(lease, changes, async (trx) => {
      if (answer) {
        await trx.raw('INSERT INTO run_results (run_id, document_id, output, sources, error, created_at) VALUES (?, NULL, ?, ?, ?, ?)', [
          lease.runId, answer.output, JSON.stringify(answer.sources), answer.error, now,
        ]);
        await appendEvent(trx, lease.runId, 'result', answer);
        await appendEvent(trx, lease.runId, 'progress', { done: 1, total: 1 });
      }
      await appendEvent(trx, lease.runId, 'status', outcome.error ? { status: outcome.status, error: outcome.error } : { status: outcome.status });
      await trx.raw('DELETE FROM run_items WHERE run_id = ?', [lease.runId]);
    });
  }

  /** Gives the run back to the queue (a worker stopping): the attempt is not counted. */
  async release(lease: Lease, reason: string): Promise<boolean> {
    return this.whileHeld(lease, { status: 'queued', lease_owner: null, lease_expires_at: null, attempts: this.deps.knex.raw('attempts - 1') }, async (trx) => {
      await appendEvent(trx, lease.runId, 'log', { level: 'info', message: reason, at: nextTimestamp() });
      await appendEvent(trx, lease.runId, 'status', { status: 'queued' });
    }, { evenIfLapsed: true });
  }

  /** A document's answer, its result and progress events; a document answered already is left as it is. */
  private async storeResult(trx: Knex.Transaction, runId: number, result: RunResult): Promise<void> {
    const inserted = rowsOf(await trx.raw(
      `INSERT INTO run_results (run_id, document_id, output, sources, error, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, document_id) DO NOTHING RETURNING id`,
      [runId, result.document_id, result.output, JSON.stringify(result.sources), result.error, nextTimestamp()],
    ));
    if (!inserted.length) return;
    const [counts] = rowsOf(await trx.raw('UPDATE runs SET done = done + 1 WHERE id = ? RETURNING done, total', [runId]));
    await appendEvent(trx, runId, 'result', result);
    await appendEvent(trx, runId, 'progress', { done: Number(counts.done), total: Number(counts.total) });
  }

  private expiry(): string {
    return new Date(Date.now() + this.deps.leaseMs).toISOString();
  }

  /**
   * Runs `write` in a transaction that first updates the run with `changes`, only while
   * `lease` holds it (running, under this token, not lapsed); the update also takes the
   * row's lock, so the run's events are written one transaction at a time.
   */
  private async whileHeld(lease: Lease, changes: Record<string, unknown>, write: (trx: Knex.Transaction) => Promise<void>, options: { evenIfLapsed?: boolean } = {}): Promise<boolean> {
    const held = await this.deps.knex.transaction(async (trx) => {
      const now = nextTimestamp();
      const query = trx('runs').where({ id: lease.runId, status: 'running', lease_owner: lease.token });
      if (!options.evenIfLapsed) query.where('lease_expires_at', '>', now);
      const count = await query.update({ ...changes, updated_at: now });
      if (!count) return false;
      await write(trx);
      return true;
    });
    if (held) this.deps.runs.changed(lease.runId);
    return held;
  }
}
