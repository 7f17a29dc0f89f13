// The prompt a model runner sends: a system message (the agent's system prompt, or one
// made from its name and description, followed by the retrieved passages), as much of the
// conversation's history as fits its budget, then the user's message.
import type { Agent, Message } from '../schemas.js';
import type { SearchHit } from '../search/retriever.js';

export type PromptMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/**
 * History is bounded in characters, not tokens (no tokenizer is needed for any model):
 * about 4 characters make a token in English, so 12,000 characters are ~3,000 tokens,
 * which leaves room for the system prompt, the passages and a reply in an 8k-token window.
 */
export const HISTORY_CHARS = 12_000;

export interface PromptInput {
  agent: Agent;
  message: string;
  /** Earlier messages, oldest first. */
  history: Message[];
  /** The retrieved passages, best first. */
  hits: SearchHit[];
  /** The agent's own system prompt, if it sets one. */
  systemPrompt?: string;
}

export function buildPrompt({ agent, message, history, hits, systemPrompt }: PromptInput, historyChars = HISTORY_CHARS): PromptMessage[] {
  const intro = systemPrompt ?? [
    `You are ${agent.name}${agent.description ? `: ${agent.description}` : ''}.`,
    'Answer the user helpfully and concisely. When the passages below are relevant, use them and name the document you used.',
  ].join(' ');
  const passages = hits.length
    ? `\n\nPassages from the user's documents:\n${hits.map((hit, i) => `[${i + 1}] (${hit.originalFilename}) ${hit.content}`).join('\n\n')}`
    : '';
  return [{ role: 'system', content: intro + passages }, ...recentHistory(history, historyChars), { role: 'user', content: message }];
}

/** The latest messages that fit the budget, oldest first. */
function recentHistory(history: Message[], budgetChars: number): PromptMessage[] {
  const kept: PromptMessage[] = [];
  let budget = budgetChars;
  for (const message of [...history].reverse()) {
    budget -= message.content.length;
    if (budget < 0) break;
    kept.unshift({ role: message.sender === 'agent' || message.sender === 'assistant' ? 'assistant' : 'user', content: message.content });
  }
  return kept;
}
