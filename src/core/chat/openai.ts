// The model runner for any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
// llama.cpp server, LM Studio) through the official `openai` package. The prompt carries
// the system prompt, the best passages of the agent's documents and the recent history.
// The key goes to the provider's own URL and nowhere else, and never comes back out.
import { RunnerError } from '../errors.js';
import type { ProviderSettings } from '../services/providers.js';
import { buildPrompt } from './prompt.js';
import { DEFAULT_CONTEXT_TOKENS, historyWithin } from './token-budget.js';
import { SecretMask } from './secrets.js';
import { SOURCES_SETTING, sourcesFor, toSource, type ChatRunner, type RunnerDefinition, type RunnerEvent, type RunnerInput } from './runner.js';

type Env = Record<string, string | undefined>;
type OpenAiModule = typeof import('openai');

const DEFAULT_TIMEOUT_S = 120;
const DEFAULT_MAX_TOKENS = 4096;
/** Past this many characters a reply is a runner failure (a model that never stops). */
export const MAX_REPLY_CHARS = 200_000;
const PROBE_TIMEOUT_MS = 30_000;
export const MAX_SYSTEM_PROMPT_CHARS = 20_000;
export const MAX_TOKENS_LIMIT = 32_768;
// The client insists on a key; a provider without a key variable is sent this instead.
const NO_KEY = 'no-key';

export const openAiCompatibleRunner: RunnerDefinition = {
  kind: 'openai-compatible',
  settings: {
    model: { type: 'string', description: "The model to ask (default: the provider's model)" },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    max_tokens: { type: 'integer', minimum: 1, maximum: MAX_TOKENS_LIMIT, description: `Default ${DEFAULT_MAX_TOKENS}` },
    system_prompt: { type: 'string', maxLength: MAX_SYSTEM_PROMPT_CHARS },
    timeout: { type: 'number', minimum: 1, maximum: 600, description: `Seconds for the whole reply (default ${DEFAULT_TIMEOUT_S})` },
    context_tokens: {
      type: 'integer', minimum: 512, maximum: 10_000_000,
      description: `The model's context window in tokens (default ${DEFAULT_CONTEXT_TOKENS}): the conversation's history fills what the prompt and max_tokens leave, oldest turns dropped first`,
    },
    sources: SOURCES_SETTING,
  },
  builtInProviders: [{ name: 'openai', base_url: 'https://api.openai.com/v1', api_key_env: 'OPENAI_API_KEY', model: 'gpt-4o-mini' }],
  create: (config, provider, { env }) => new OpenAiRunner(openAiSettings(provider, config, env)),
  async test(provider, model, { env }) {
    const started = Date.now();
    const answered = await probeModel(provider, model, env);
    const elapsedMs = Date.now() - started;
    return { model: answered.model, elapsedMs, message: `${provider.name}: ${provider.base_url} answered with model "${answered.model}" in ${elapsedMs} ms` };
  },
};

export interface OpenAiSettings {
  /** The provider's name: the response's `runner`. */
  provider: string;
  baseUrl: string;
  /** The key from the provider's variable; undefined when it names none. */
  apiKey?: string;
  model: string;
  temperature?: number;
  maxTokens: number;
  systemPrompt?: string;
  /** The whole reply's deadline. */
  timeoutMs: number;
  /** The model's context window: prompt, history and reply together. */
  contextTokens: number;
}

/**
 * The runner's settings: the endpoint and key from the provider (the key read now, from
 * the environment of the process that answers), the rest from the agent's config. Configs
 * are checked when written; older ones may still hold a wrong type, which fails here.
 */
function openAiSettings(provider: ProviderSettings, config: Record<string, unknown>, env: Env): OpenAiSettings {
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
  if (!provider.base_url) throw new RunnerError(`provider "${provider.name}" has no base URL`);
  const apiKey = providerKey(provider, env);
  const model = text('model') ?? provider.model ?? undefined;
  if (!model) {
    throw new RunnerError(`no model: set "model" in the agent's config, or give the provider one (dana providers update ${provider.name} --model MODEL)`);
  }
  return {
    provider: provider.name,
    baseUrl: provider.base_url,
    apiKey,
    model,
    temperature: number('temperature'),
    maxTokens: number('max_tokens') ?? DEFAULT_MAX_TOKENS,
    systemPrompt: text('system_prompt'),
    timeoutMs: Math.max(1, number('timeout') ?? DEFAULT_TIMEOUT_S) * 1000,
    contextTokens: number('context_tokens') ?? DEFAULT_CONTEXT_TOKENS,
  };
}

/** The key from the provider's variable, read now; undefined when it names none. RunnerError when it is not set. */
export function providerKey(provider: ProviderSettings, env: Env): string | undefined {
  if (!provider.api_key_env) return undefined;
  const apiKey = env[provider.api_key_env];
  if (!apiKey) throw new RunnerError(`${provider.api_key_env} is not set`);
  return apiKey;
}

function invalid(key: string, expected: string): RunnerError {
  return new RunnerError(`"${key}" in the agent's config must be ${expected}`);
}

/**
 * A client that can talk to the provider's origin only: redirects are not followed (one
 * would carry the Authorization header elsewhere), and nothing is read from OPENAI_*
 * environment variables (base URL, organisation, admin key, log level).
 */
export function clientFor(openai: OpenAiModule, settings: Pick<OpenAiSettings, 'baseUrl' | 'apiKey'>, timeoutMs: number) {
  const origin = new URL(settings.baseUrl).origin;
  const fetchOwnOrigin = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const target = new URL(url instanceof Request ? url.url : String(url));
    if (target.origin !== origin) return Promise.reject(new RunnerError(`refused to send a request outside ${settings.baseUrl}`));
    return fetch(url, { ...init, redirect: 'manual' });
  };
  return new openai.default({
    apiKey: settings.apiKey ?? NO_KEY,
    baseURL: settings.baseUrl,
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    logLevel: 'off',
    fetch: fetchOwnOrigin,
    timeout: timeoutMs,
    maxRetries: 0,
  });
}

class OpenAiRunner implements ChatRunner {
  readonly name: string;

  constructor(private readonly settings: OpenAiSettings) {
    this.name = settings.provider;
  }

  async *run(input: RunnerInput): AsyncIterable<RunnerEvent> {
    const hits = await input.search(input.message, sourcesFor(input.agent));
    const openai = await import('openai');
    const { settings } = this;
    const client = clientFor(openai, settings, settings.timeoutMs);
    const mask = new SecretMask(settings.apiKey);
    // One signal for the caller's cancel, the deadline and a reply that grows too long.
    const controller = new AbortController();
    const cancel = () => controller.abort();
    input.signal.addEventListener('abort', cancel, { once: true });
    let failure: RunnerError | undefined;
    const fail = (reason: string) => {
      failure ??= new RunnerError(reason);
      controller.abort();
    };
    const deadline = setTimeout(() => fail(`the model at ${settings.baseUrl} did not finish its reply within ${settings.timeoutMs / 1000} s`), settings.timeoutMs);
    const request = {
      model: settings.model,
      messages: promptWithinContext(input, hits, settings),
      max_tokens: settings.maxTokens,
      ...(settings.temperature !== undefined && { temperature: settings.temperature }),
    };
    let reply = '';
    let received = 0;
    const started = Date.now();
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    try {
      // Token counts are asked for only when someone keeps a record of them (a run's log).
      const options = input.log ? { stream_options: { include_usage: true } } : {};
      const stream = await client.chat.completions.create({ ...request, ...options, stream: true }, { signal: controller.signal });
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        const text = chunk.choices[0]?.delta?.content;
        if (!text) continue;
        received += text.length;
        if (received > MAX_REPLY_CHARS) {
          fail(`the reply passed ${MAX_REPLY_CHARS.toLocaleString('en-US')} characters`);
          break;
        }
        const shown = mask.push(text);
        if (shown) {
          reply += shown;
          yield { type: 'delta', text: shown };
        }
      }
      // An aborted stream may just end: a deadline or a bound is a failure all the same.
      if (failure) throw failure;
      const rest = mask.flush();
      if (rest) {
        reply += rest;
        yield { type: 'delta', text: rest };
      }
    } catch (error) {
      if (input.signal.aborted) return;
      const reason = failure ?? describeFailure(error, settings, mask, openai);
      input.log?.('error', mask.apply(`Model "${settings.model}" at ${settings.baseUrl} failed after ${Date.now() - started} ms: ${reason.reason}`));
      throw reason;
    } finally {
      clearTimeout(deadline);
      input.signal.removeEventListener('abort', cancel);
    }
    if (input.signal.aborted) return;
    // Masked like the failures: a run's log is stored and served, and the key must not be in it.
    input.log?.('info', mask.apply(`Model "${settings.model}" at ${settings.baseUrl} answered in ${Date.now() - started} ms${tokensOf(usage)} (${reply.length} characters)`));
    if (!reply.trim()) throw new RunnerError(`the model "${settings.model}" returned an empty reply`);
    yield { type: 'done', reply, sources: hits.map(toSource) };
  }
}

/** ", 812 prompt + 95 completion tokens" when the model reported them. */
function tokensOf(usage: { prompt_tokens?: number; completion_tokens?: number } | undefined): string {
  if (!usage || (usage.prompt_tokens === undefined && usage.completion_tokens === undefined)) return '';
  return `, ${usage.prompt_tokens ?? '?'} prompt + ${usage.completion_tokens ?? '?'} completion tokens`;
}

/** The prompt with as much of the history as fits the model's context, oldest turns dropped first. */
function promptWithinContext(input: RunnerInput, hits: Awaited<ReturnType<RunnerInput['search']>>, settings: OpenAiSettings) {
  const prompt = { ...input, hits, systemPrompt: settings.systemPrompt };
  const withoutHistory = buildPrompt({ ...prompt, history: [] });
  return buildPrompt({ ...prompt, history: historyWithin(input.history, settings.contextTokens, settings.maxTokens, withoutHistory) }, Infinity);
}

/** One one-token completion (`dana providers test`): the model that answered, or RunnerError. */
async function probeModel(provider: ProviderSettings, model: string | undefined, env: Env): Promise<{ model: string }> {
  const settings = openAiSettings(provider, model === undefined ? {} : { model }, env);
  const openai = await import('openai');
  const client = clientFor(openai, settings, PROBE_TIMEOUT_MS);
  const mask = new SecretMask(settings.apiKey);
  try {
    const completion = await client.chat.completions.create({
      model: settings.model,
      messages: [{ role: 'user', content: 'Reply with one word.' }],
      max_tokens: 1,
      stream: false,
    });
    return { model: mask.apply(completion.model || settings.model) };
  } catch (error) {
    throw describeFailure(error, { ...settings, timeoutMs: PROBE_TIMEOUT_MS }, mask, openai);
  }
}

/** A reason a user can act on, with every spelling of the key masked. */
export function describeFailure(error: unknown, settings: Pick<OpenAiSettings, 'baseUrl' | 'model' | 'timeoutMs'>, mask: SecretMask, openai: OpenAiModule): RunnerError {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof RunnerError) return cause;
  if (error instanceof RunnerError) return new RunnerError(mask.apply(error.reason));
  const where = settings.baseUrl;
  let reason: string;
  if (error instanceof openai.APIConnectionTimeoutError) {
    reason = `the model at ${where} did not answer within ${settings.timeoutMs / 1000} s`;
  } else if (error instanceof openai.APIConnectionError) {
    const code = (cause as { code?: string; cause?: { code?: string } } | undefined)?.code ?? (cause as { cause?: { code?: string } } | undefined)?.cause?.code;
    reason = `could not reach the model at ${where}${code ? ` (${code})` : ''}`;
  } else if (error instanceof openai.APIError && typeof error.status === 'number') {
    const { status } = error;
    const detail = (error.error as { message?: unknown } | undefined)?.message;
    if (status >= 300 && status < 400) reason = `${where} answered with a redirect (HTTP ${status}), which Dana does not follow`;
    else if (status === 401 || status === 403) reason = `${where} refused the API key (HTTP ${status})`;
    else if (status === 404) reason = `model "${settings.model}" not found at ${where} (HTTP 404)`;
    else if (status === 429) reason = `${where} is rate limiting requests (HTTP 429)`;
    else reason = `${where} answered HTTP ${status}${typeof detail === 'string' ? `: ${detail}` : ''}`;
  } else {
    reason = (error as Error)?.message || 'unknown error';
  }
  return new RunnerError(mask.apply(reason).slice(0, 500));
}
