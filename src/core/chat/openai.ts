// The model runner: any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
// llama.cpp server, LM Studio) through the official `openai` package. The prompt carries
// the system prompt, the best passages of the agent's documents and the recent history.
import { RunnerError } from '../errors.js';
import type { Message } from '../schemas.js';
import type { SearchHit } from '../search/index.js';
import { toSource, type ChatRunner, type RunnerEvent, type RunnerInput } from './runner.js';

type Env = Record<string, string | undefined>;
type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

const DEFAULT_MODEL = 'gpt-4o-mini';
const DEFAULT_TIMEOUT_S = 60;
const PASSAGES = 5;
const HISTORY_CHARS = 12_000;

export interface OpenAiSettings {
  model: string;
  baseUrl?: string;
  apiKey: string;
  temperature?: number;
  maxTokens?: number;
  systemPrompt?: string;
  timeoutMs: number;
  stream: boolean;
}

/** Reads the runner's settings from an agent's config; a wrong type is the runner's failure. */
export function openAiSettings(config: Record<string, unknown>, env: Env): OpenAiSettings {
  const text = (key: string) => {
    const value = config[key];
    if (value !== undefined && value !== null && typeof value !== 'string') throw invalid(key, 'a string');
    return (value ?? undefined) as string | undefined;
  };
  const number = (key: string) => {
    const value = config[key];
    if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value))) throw invalid(key, 'a number');
    return (value ?? undefined) as number | undefined;
  };
  const keyVariable = text('api_key_env') ?? 'OPENAI_API_KEY';
  const baseUrl = text('base_url');
  const apiKey = env[keyVariable];
  if (!apiKey && !baseUrl) {
    throw new RunnerError(`no API key: set ${keyVariable} (or "api_key_env" in the agent's config), or a "base_url" for a local server`);
  }
  const timeout = number('timeout') ?? DEFAULT_TIMEOUT_S;
  return {
    model: text('model') ?? DEFAULT_MODEL,
    baseUrl,
    // Local servers (Ollama, llama.cpp) take any key; the client insists on one.
    apiKey: apiKey || 'not-needed',
    temperature: number('temperature'),
    maxTokens: number('max_tokens'),
    systemPrompt: text('system_prompt'),
    timeoutMs: Math.max(1, timeout) * 1000,
    stream: config.stream !== false,
  };
}

function invalid(key: string, expected: string): RunnerError {
  return new RunnerError(`"${key}" in the agent's config must be ${expected}`);
}

export class OpenAiRunner implements ChatRunner {
  readonly name = 'openai';

  constructor(private readonly settings: OpenAiSettings) {}

  async *run(input: RunnerInput): AsyncIterable<RunnerEvent> {
    const hits = await input.search(input.message, PASSAGES);
    const openai = await import('openai');
    const OpenAI = openai.default;
    const { settings } = this;
    const client = new OpenAI({ apiKey: settings.apiKey, baseURL: settings.baseUrl, timeout: settings.timeoutMs, maxRetries: 0 });
    // One signal for the caller's cancel and for a model that stops sending mid-reply.
    const controller = new AbortController();
    const cancel = () => controller.abort();
    input.signal.addEventListener('abort', cancel, { once: true });
    let stalled = false;
    let idle: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, settings.timeoutMs);
    };
    const request = {
      model: settings.model,
      messages: buildPrompt(input, hits, settings.systemPrompt),
      ...(settings.temperature !== undefined && { temperature: settings.temperature }),
      ...(settings.maxTokens !== undefined && { max_tokens: settings.maxTokens }),
    };
    let reply = '';
    try {
      watch();
      if (settings.stream) {
        const stream = await client.chat.completions.create({ ...request, stream: true }, { signal: controller.signal });
        for await (const chunk of stream) {
          watch();
          const text = chunk.choices[0]?.delta?.content;
          if (text) {
            reply += text;
            yield { type: 'delta', text };
          }
        }
      } else {
        const completion = await client.chat.completions.create({ ...request, stream: false }, { signal: controller.signal });
        reply = completion.choices[0]?.message?.content ?? '';
        if (reply) yield { type: 'delta', text: reply };
      }
      // An aborted stream may just end: a stall is a failure all the same.
      if (stalled) throw new openai.APIConnectionTimeoutError();
    } catch (error) {
      if (input.signal.aborted) return;
      throw describeFailure(error, settings, stalled, openai);
    } finally {
      clearTimeout(idle);
      input.signal.removeEventListener('abort', cancel);
    }
    if (input.signal.aborted) return;
    if (!reply.trim()) throw new RunnerError(`the model "${settings.model}" returned an empty reply`);
    yield { type: 'done', reply, sources: hits.map(toSource) };
  }
}

function buildPrompt(input: RunnerInput, hits: SearchHit[], systemPrompt: string | undefined): ChatMessage[] {
  const { agent } = input;
  const intro = systemPrompt ?? [
    `You are ${agent.name}${agent.description ? `: ${agent.description}` : ''}.`,
    'Answer the user helpfully and concisely. When the passages below are relevant, use them and name the document you used.',
  ].join(' ');
  const passages = hits.length
    ? `\n\nPassages from the user's documents:\n${hits.map((hit, i) => `[${i + 1}] (${hit.originalFilename}) ${hit.content}`).join('\n\n')}`
    : '';
  return [{ role: 'system', content: intro + passages }, ...recentHistory(input.history), { role: 'user', content: input.message }];
}

/** The latest messages that fit the budget, oldest first. */
function recentHistory(history: Message[]): ChatMessage[] {
  const kept: ChatMessage[] = [];
  let budget = HISTORY_CHARS;
  for (const message of [...history].reverse()) {
    budget -= message.content.length;
    if (budget < 0) break;
    kept.unshift({ role: message.sender === 'agent' || message.sender === 'assistant' ? 'assistant' : 'user', content: message.content });
  }
  return kept;
}

/** A reason a user can act on, never the key. */
function describeFailure(error: unknown, settings: OpenAiSettings, stalled: boolean, openai: typeof import('openai')): RunnerError {
  if (error instanceof RunnerError) return error;
  const where = settings.baseUrl ?? 'the OpenAI API';
  const seconds = Math.round(settings.timeoutMs / 1000);
  let reason: string;
  if (stalled || error instanceof openai.APIConnectionTimeoutError) {
    reason = `the model at ${where} did not answer within ${seconds} s`;
  } else if (error instanceof openai.APIConnectionError) {
    const cause = (error as { cause?: { code?: string; cause?: { code?: string } } }).cause;
    const code = cause?.code ?? cause?.cause?.code;
    reason = `could not reach the model at ${where}${code ? ` (${code})` : ''}`;
  } else if (error instanceof openai.APIError && typeof error.status === 'number') {
    const { status } = error;
    const detail = (error.error as { message?: unknown } | undefined)?.message;
    if (status === 401 || status === 403) reason = `${where} refused the API key (HTTP ${status})`;
    else if (status === 404) reason = `model "${settings.model}" not found at ${where} (HTTP 404)`;
    else if (status === 429) reason = `${where} is rate limiting requests (HTTP 429)`;
    else reason = `${where} answered HTTP ${status}${typeof detail === 'string' ? `: ${detail}` : ''}`;
  } else {
    reason = (error as Error)?.message || 'unknown error';
  }
  return new RunnerError(reason.replaceAll(settings.apiKey, '***').slice(0, 500));
}
