// How much conversation history fits a model's context window. No tokenizer is installed
// that covers every model a provider may serve, so tokens are estimated: about 4
// characters make a token in English text (OpenAI's rule of thumb; code and other scripts
// run denser, which the margin of the reply's own budget absorbs), plus a few tokens of
// framing per message.
import type { PromptMessage } from './prompt.js';

export const CHARS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;
/** A context window when the agent's config names none: small enough for most local models. */
export const DEFAULT_CONTEXT_TOKENS = 8_192;

export function estimateTokens(messages: Array<{ content: string }>): number {
  return messages.reduce((sum, message) => sum + Math.ceil(message.content.length / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE, 0);
}

/**
 * The latest messages that fit the window less the reply's budget (`max_tokens`) and the
 * prompt without history (system prompt, passages, the new message), oldest first.
 */
export function historyWithin<T extends { content: string }>(history: T[], contextTokens: number, replyTokens: number, withoutHistory: PromptMessage[]): T[] {
  let budget = contextTokens - replyTokens - estimateTokens(withoutHistory);
  let kept = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    budget -= estimateTokens([history[i]]);
    if (budget < 0) break;
    kept++;
  }
  return history.slice(history.length - kept);
}
