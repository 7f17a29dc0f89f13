// What every chat runner is: given the agent, the message, the conversation so far and a
// way to search the agent's documents, it streams the reply as text deltas and finishes
// with the whole reply and the passages it drew on.
import { RunnerError } from '../errors.js';
import type { Agent, Message, Source } from '../schemas.js';
import type { SearchHit } from '../search/index.js';

export type RunnerName = 'local' | 'openai';

export type RunnerEvent = { type: 'delta'; text: string } | { type: 'done'; reply: string; sources: Source[] };

export interface RunnerInput {
  agent: Agent;
  message: string;
  /** Earlier messages of the conversation, oldest first (bounded). */
  history: Message[];
  /** The agent's documents: how many, and a few of their names (asked only when needed). */
  library(): Promise<{ documentCount: number; names: string[] }>;
  search(query: string, limit: number): Promise<SearchHit[]>;
  signal: AbortSignal;
}

export interface ChatRunner {
  readonly name: RunnerName;
  run(input: RunnerInput): AsyncIterable<RunnerEvent>;
}

type Env = Record<string, string | undefined>;

/**
 * Which runner an agent's config asks for: `provider` when given; otherwise a model when
 * `base_url` is set or the API key's variable is present, else the offline runner.
 */
export function runnerNameFor(config: Record<string, unknown>, env: Env): RunnerName {
  const { provider } = config;
  if (provider === 'local' || provider === 'openai') return provider;
  if (provider !== undefined && provider !== null) {
    throw new RunnerError(`unknown provider ${JSON.stringify(provider)} in the agent's config (use "local" or "openai")`);
  }
  const keyVariable = typeof config.api_key_env === 'string' ? config.api_key_env : 'OPENAI_API_KEY';
  return config.base_url || env[keyVariable] ? 'openai' : 'local';
}

export function toSource(hit: SearchHit): Source {
  return { document_id: hit.documentId, original_filename: hit.originalFilename, snippet: hit.snippet.replace(/\s+/g, ' ').trim() };
}
