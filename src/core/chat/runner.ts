// What every chat runner is: given the agent, the message, the conversation so far and a
// way to search the agent's documents, it streams the reply as text deltas and finishes
// with the whole reply and the passages it drew on. A runner kind is registered once
// (chat/runners.ts) with the agent config keys it reads and how to make one for a provider.
import type { Agent, Message, Source } from '../schemas.js';
import type { SearchHit } from '../search/retriever.js';
import type { ProviderSettings } from '../services/providers.js';

export type RunnerEvent = { type: 'delta'; text: string } | { type: 'done'; reply: string; sources: Source[] };

export interface RunnerInput {
  agent: Agent;
  message: string;
  /** Earlier messages of the conversation, oldest first (bounded). */
  history: Message[];
  /** The agent's documents: how many, and a few of their names (asked only when needed). */
  library(): Promise<{ documentCount: number; names: string[] }>;
  /** The best passages for a query, spread over documents; a short follow-up also uses the conversation's earlier user turns. */
  search(query: string, limit: number): Promise<SearchHit[]>;
  /** The documents in scope whose text could not be read: how many, and the first few names. */
  unreadable(): Promise<{ count: number; names: string[] }>;
  signal: AbortSignal;
  /**
   * Where a runner says what it did (a model call, its duration and token counts), when
   * someone keeps a record (a run's events); chat leaves it out.
   */
  log?(level: 'info' | 'warning' | 'error', message: string): void;
}

export interface ChatRunner {
  /** The provider's name, reported as the response's `runner`. */
  readonly name: string;
  run(input: RunnerInput): AsyncIterable<RunnerEvent>;
}

export interface RunnerDeps {
  /** The environment of the process that answers: where provider keys are read, at chat time. */
  env: Record<string, string | undefined>;
}

/** A JSON Schema for one config key (ajv strict mode: known keywords only). */
export type SettingSchema = Record<string, unknown>;

/** One kind of runner, as registered. */
export interface RunnerDefinition {
  /** What a provider names to be answered by this runner ("local", "openai-compatible"). */
  kind: string;
  /**
   * The agent config keys this runner reads, each with its JSON Schema. They are checked
   * when any agent is saved (its provider, or the default, may change later); a key
   * declared by two runners must have the same schema.
   */
  settings: Record<string, SettingSchema>;
  /** Providers always present that this runner answers for (not removable). */
  builtInProviders: Array<Omit<ProviderSettings, 'runner' | 'is_default' | 'embedding_model'> & { embedding_model?: string | null }>;
  /** A runner for one turn. `config` is the agent's config; RunnerError when it cannot answer. */
  create(config: Record<string, unknown>, provider: ProviderSettings, deps: RunnerDeps): ChatRunner;
  /** One small request (`dana providers test`): what answered, or RunnerError. */
  test(provider: ProviderSettings, model: string | undefined, deps: RunnerDeps): Promise<{ model: string | null; elapsedMs: number; message: string }>;
}

/** Default and bounds of `config.sources`, the number of passages an answer draws on. */
export const DEFAULT_SOURCES = 5;
export const MAX_SOURCES = 20;

/** The `sources` config key, read by every runner (a key two runners read has one schema). */
export const SOURCES_SETTING: SettingSchema = {
  type: 'integer',
  minimum: 1,
  maximum: MAX_SOURCES,
  description: `How many passages (from different documents where possible) an answer draws on (default ${DEFAULT_SOURCES})`,
};

/** The agent's `config.sources`, or the default. */
export function sourcesFor(agent: Agent): number {
  const value = (agent.config as { sources?: unknown }).sources;
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_SOURCES ? (value as number) : DEFAULT_SOURCES;
}

export function toSource(hit: SearchHit): Source {
  return { document_id: hit.documentId, original_filename: hit.originalFilename, snippet: hit.snippet.replace(/\s+/g, ' ').trim() };
}
