// What every chat runner is: given the agent, the message, the conversation so far and a
// way to search the agent's documents, it streams the reply as text deltas and finishes
// with the whole reply and the passages it drew on.
import type { Agent, Message, Source } from '../schemas.js';
import type { SearchHit } from '../search/index.js';

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
  /** The provider's name, reported as the response's `runner`. */
  readonly name: string;
  run(input: RunnerInput): AsyncIterable<RunnerEvent>;
}

export function toSource(hit: SearchHit): Source {
  return { document_id: hit.documentId, original_filename: hit.originalFilename, snippet: hit.snippet.replace(/\s+/g, ' ').trim() };
}
