// Passage embeddings: which passages get vectors, filling in the missing ones (in batches,
// in the background or on demand), and hybrid search for agents that have them.
//
// Which passages, for which model: an agent whose provider (the one its config names, else
// the default) has an embedding model gets the passages of every document in its scope (its
// own, plus those of its config's topics) embedded with that model. Vectors are keyed by
// the model's name: a document shared by agents with different embedding models has one
// set per model, and providers naming the same model share one set. Nothing records
// progress but the vectors themselves: a passage in such a scope without a vector of that
// model is missing, so work cut short (a crash, a stop, a server that went away) is simply
// found again and resumed by the next fill.
import { RunnerError } from '../errors.js';
import { TABLES } from '../db/tables.js';
import type { Agent } from '../schemas.js';
import { scopeOf } from '../chat/service.js';
import { embedderFor, type Embedder } from '../search/embedder.js';
import { documentIdsIn, fuseRankings, hitsOf } from '../search/hybrid.js';
import type { SearchScope } from '../search/index.js';
import type { Retriever, SearchHit, SearchOptions } from '../search/retriever.js';
import { encodeVector, VectorIndex } from '../search/vectors.js';
import type { ProviderService, ProviderSettings } from './providers.js';
import type { ServiceDeps } from './support.js';

/** Passages per request to the embeddings endpoint. */
export const EMBEDDING_BATCH = 64;
/** How often a background filler looks for passages indexed by other processes (the CLI). */
const SWEEP_INTERVAL_MS = 30_000;
/** The longest wait between retries when the embeddings endpoint keeps failing. */
const MAX_RETRY_MS = 5 * 60_000;
/** A question's vector is wanted at once: past this, chat answers from full text. */
const QUERY_TIMEOUT_MS = 10_000;

export type EmbeddingLog = (level: 'info' | 'warning', message: string) => void;

export interface EmbeddingDeps extends ServiceDeps {
  providers: ProviderService;
  env: Record<string, string | undefined>;
  log: EmbeddingLog;
  batchSize?: number;
  sweepIntervalMs?: number;
}

/** One embedding model and the documents it embeds: those of the agents using it. */
export interface EmbeddingTarget {
  model: string;
  /** The provider asked for vectors (the first one found naming the model). */
  provider: ProviderSettings;
  agentIds: number[];
  topicIds: number[];
}

export interface FillResult {
  /** Passages embedded, over all models. */
  embedded: number;
  /** Passages still missing a vector (when a model's endpoint failed). */
  missing: number;
  /** Why a model's endpoint failed, one line each. */
  errors: string[];
  models: string[];
}

export interface FillOptions {
  /** Only these documents (default: every document in a target's scope). */
  documentIds?: number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export class EmbeddingService {
  readonly vectors: VectorIndex;
  private readonly embedders = new Map<string, Embedder>();
  private background?: { controller: AbortController; loop: Promise<void>; wake: () => void; woken: boolean };

  constructor(private readonly deps: EmbeddingDeps) {
    this.vectors = new VectorIndex(deps.sql);
  }

  /** The embedding models agents use now, each with the agents and topics whose documents it embeds. */
  async targets(): Promise<EmbeddingTarget[]> {
    // Usually no provider has an embedding model: then no agent needs to be looked at.
    const providers = await this.deps.providers.all();
    if (!providers.some((provider) => provider.embedding_model)) return [];
    const rows = await this.deps.sql.all<Record<string, unknown>>('SELECT * FROM agents ORDER BY id');
    const targets = new Map<string, EmbeddingTarget>();
    for (const agent of rows.map(TABLES.agents.toApi)) {
      const provider = await this.providerOf(agent, providers);
      if (!provider?.embedding_model || !provider.base_url) continue;
      const target = targets.get(provider.embedding_model) ?? { model: provider.embedding_model, provider, agentIds: [], topicIds: [] };
      const scope = scopeOf(agent);
      target.agentIds.push(scope.agentId);
      for (const topicId of scope.topicIds) if (!target.topicIds.includes(topicId)) target.topicIds.push(topicId);
      targets.set(target.model, target);
    }
    return [...targets.values()];
  }

  /**
   * Embeds the passages that miss a vector, model by model, one batch per request, each
   * batch stored in one transaction. A model whose endpoint fails is left for the next
   * fill (its error is reported); an abort stops between or inside requests, keeping
   * every batch already stored.
   */
  async fill(options: FillOptions = {}): Promise<FillResult> {
    const targets = await this.targets();
    const result: FillResult = { embedded: 0, missing: 0, errors: [], models: targets.map((target) => target.model) };
    const totals = await Promise.all(targets.map((target) => this.countMissing(target, options.documentIds)));
    const total = totals.reduce((sum, count) => sum + count, 0);
    if (total) options.onProgress?.(0, total);
    for (const [i, target] of targets.entries()) {
      if (!totals[i]) continue;
      try {
        result.embedded += await this.fillTarget(target, options, (count) => options.onProgress?.(result.embedded + count, total));
      } catch (error) {
        if (options.signal?.aborted) break;
        if (!(error instanceof RunnerError)) throw error;
        result.errors.push(`${target.model} at ${target.provider.base_url}: ${error.reason}`);
      }
    }
    if (result.errors.length || options.signal?.aborted) {
      result.missing = (await Promise.all(targets.map((target) => this.countMissing(target, options.documentIds)))).reduce((a, b) => a + b, 0);
    }
    return result;
  }

  /** Starts filling in the background: now (finishing what a crash left), after each `wake`, and every so often. */
  start(): void {
    if (this.background) return;
    const controller = new AbortController();
    const state = { controller, loop: Promise.resolve(), wake: () => undefined as void, woken: false };
    this.background = state;
    state.loop = this.runBackground(state);
  }

  /** Tells the background filler that passages were written (no-op when it is not running). */
  wake(): void {
    if (!this.background) return;
    this.background.woken = true;
    this.background.wake();
  }

  /** Stops the background filler, abandoning a batch in flight (it is asked for again next time). */
  async stop(): Promise<void> {
    const state = this.background;
    if (!state) return;
    this.background = undefined;
    state.controller.abort();
    state.wake();
    await state.loop;
  }

  /**
   * How an agent searches its documents: fused full-text and vector rankings when its
   * provider has an embedding model and vectors of that model exist, else the full-text
   * retriever alone. Should the question's vector fail, the answer comes from full text
   * and the reason is logged.
   */
  async searchFor(agent: Agent, retriever: Retriever, scope: SearchScope, options?: SearchOptions): Promise<(query: string, limit: number) => Promise<SearchHit[]>> {
    const plain = (query: string, limit: number) => retriever.search(query, scope, limit, options);
    const provider = await this.providerOf(agent);
    if (!provider?.embedding_model || !provider.base_url) return plain;
    const model = provider.embedding_model;
    return async (query, limit) => {
      const [textHits, vectorHits] = await Promise.all([
        retriever.search(query, scope, limit, options),
        this.vectorHits(provider, model, query, scope, limit).catch((error: unknown) => {
          const reason = error instanceof RunnerError ? error.reason : (error as Error)?.message;
          this.deps.log('warning', `embeddings of "${model}" unavailable (${reason}): agent ${agent.id} answers from full-text search only`);
          return [];
        }),
      ]);
      return vectorHits.length ? fuseRankings([textHits, vectorHits], limit) : textHits;
    };
  }

  private async vectorHits(provider: ProviderSettings, model: string, query: string, scope: SearchScope, limit: number): Promise<SearchHit[]> {
    // No question goes to the endpoint while no vector of its model is stored.
    if (!(await this.vectors.count(model))) return [];
    const documentIds = await documentIdsIn(this.deps.sql, scope);
    if (!documentIds.size) return [];
    const [vector] = await this.embedderOf(provider).embed([query], { timeoutMs: QUERY_TIMEOUT_MS });
    return hitsOf(this.deps.sql, await this.vectors.search(model, vector, documentIds, limit), query);
  }

  /** The embedder of a provider as it is now (a changed URL, model or key makes a new one). */
  private embedderOf(provider: ProviderSettings): Embedder {
    const key = JSON.stringify([provider.name, provider.base_url, provider.embedding_model, provider.api_key_env, provider.api_key_env && this.deps.env[provider.api_key_env]]);
    let embedder = this.embedders.get(key);
    if (!embedder) {
      embedder = embedderFor(provider, this.deps.env);
      if (this.embedders.size >= 16) this.embedders.clear();
      this.embedders.set(key, embedder);
    }
    return embedder;
  }

  private async providerOf(agent: Agent, known?: ProviderSettings[]): Promise<ProviderSettings | undefined> {
    try {
      return await this.deps.providers.resolve((agent.config as { provider?: unknown }).provider, known);
    } catch {
      return undefined;
    }
  }

  private async fillTarget(target: EmbeddingTarget, options: FillOptions, progress: (count: number) => void): Promise<number> {
    const embedder = this.embedderOf(target.provider);
    const batchSize = this.deps.batchSize ?? EMBEDDING_BATCH;
    let after = 0;
    let embedded = 0;
    for (;;) {
      if (options.signal?.aborted) break;
      const batch = await this.missing(target, options.documentIds, after, batchSize);
      if (!batch.length) break;
      after = Number(batch[batch.length - 1].id);
      const vectors = await embedder.embed(batch.map((passage) => passage.content), { signal: options.signal });
      if (options.signal?.aborted) break;
      await this.store(embedder, batch, vectors);
      embedded += batch.length;
      progress(embedded);
    }
    return embedded;
  }

  /** Stores a batch in one transaction; passages removed meanwhile (a reindex, a delete) are skipped. */
  private async store(embedder: Embedder, batch: Array<{ id: number; document_id: number }>, vectors: number[][]): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      for (const [i, passage] of batch.entries()) {
        const { vector, bits } = encodeVector(vectors[i]);
        await trx.raw(
          `INSERT INTO passage_embeddings (passage_id, document_id, model, vector, bits)
           SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM passages WHERE id = ?)
           ON CONFLICT (model, passage_id) DO NOTHING`,
          [passage.id, passage.document_id, embedder.model, vector, bits, passage.id],
        );
      }
    });
  }

  private missingQuery(target: EmbeddingTarget, documentIds: number[] | undefined): { from: string; values: unknown[] } {
    const owners = [
      target.agentIds.length ? `d.agent_id IN (${target.agentIds.map(() => '?').join(', ')})` : '',
      target.topicIds.length ? `d.topic_id IN (${target.topicIds.map(() => '?').join(', ')})` : '',
    ].filter(Boolean).join(' OR ');
    const only = documentIds?.length ? ` AND d.id IN (${documentIds.map(() => '?').join(', ')})` : '';
    return {
      from: `FROM passages p JOIN documents d ON d.id = p.document_id
             WHERE (${owners || '1 = 0'})${only}
               AND NOT EXISTS (SELECT 1 FROM passage_embeddings e WHERE e.model = ? AND e.passage_id = p.id)`,
      values: [...target.agentIds, ...target.topicIds, ...(documentIds ?? []), target.model],
    };
  }

  private async countMissing(target: EmbeddingTarget, documentIds?: number[]): Promise<number> {
    const { from, values } = this.missingQuery(target, documentIds);
    const row = await this.deps.sql.first<{ total: number | string }>(`SELECT COUNT(*) AS total ${from}`, values);
    return Number(row?.total ?? 0);
  }

  private missing(target: EmbeddingTarget, documentIds: number[] | undefined, after: number, limit: number) {
    const { from, values } = this.missingQuery(target, documentIds);
    return this.deps.sql.all<{ id: number; document_id: number; content: string }>(
      `SELECT p.id, p.document_id, p.content ${from} AND p.id > ? ORDER BY p.id LIMIT ?`,
      [...values, after, limit],
    );
  }

  private async runBackground(state: NonNullable<EmbeddingService['background']>): Promise<void> {
    const { signal } = state.controller;
    const interval = this.deps.sweepIntervalMs ?? SWEEP_INTERVAL_MS;
    let failures = 0;
    while (!signal.aborted) {
      state.woken = false;
      try {
        const result = await this.fill({ signal });
        if (signal.aborted) break;
        if (result.embedded) this.deps.log('info', `embedded ${result.embedded} passage${result.embedded === 1 ? '' : 's'} (${result.models.join(', ')})`);
        for (const error of result.errors) this.deps.log('warning', `embedding passages failed: ${error}; ${result.missing} passages wait for the next try`);
        failures = result.errors.length ? failures + 1 : 0;
        // Reads the vectors' sign bits into memory now rather than in the first chat's way.
        for (const model of result.models) await this.vectors.count(model);
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        this.deps.log('warning', `embedding passages failed: ${(error as Error)?.message}`);
      }
      if (state.woken) continue;
      const waitMs = failures ? Math.min(interval * 2 ** (failures - 1), MAX_RETRY_MS) : interval;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        timer.unref?.();
        state.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
