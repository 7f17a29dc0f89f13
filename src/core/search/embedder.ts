// Vectors from a provider's OpenAI-compatible `POST {base_url}/embeddings`, through the
// same client as chat: requests go to the provider's own origin only (no redirects), the
// key is read from its variable at the moment of asking, and every error is masked.
import { RunnerError } from '../errors.js';
import { clientFor, describeFailure, providerKey } from '../chat/openai.js';
import { SecretMask } from '../chat/secrets.js';
import type { ProviderSettings } from '../services/providers.js';

type Env = Record<string, string | undefined>;

/** Longer passages are cut before sending: a "word" without spaces can be arbitrarily long. */
const MAX_INPUT_CHARS = 8_000;

export interface Embedder {
  /** The embedding model: what stored vectors are keyed by. */
  readonly model: string;
  /** One vector per text, in order. RunnerError when the endpoint fails or answers nonsense. */
  embed(texts: string[], options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<number[][]>;
}

/** An embedder for a provider that names an embedding model; RunnerError when its key variable is not set. */
export function embedderFor(provider: ProviderSettings, env: Env): Embedder {
  const model = provider.embedding_model;
  if (!provider.base_url || !model) throw new RunnerError(`provider "${provider.name}" has no embedding model`);
  const baseUrl = provider.base_url;
  const apiKey = providerKey(provider, env);
  // One client per timeout, kept: it holds the connection to the server open between questions.
  const clients = new Map<number, ReturnType<typeof clientFor>>();
  return {
    model,
    async embed(texts, { signal, timeoutMs = 60_000 } = {}) {
      if (!texts.length) return [];
      const openai = await import('openai');
      let client = clients.get(timeoutMs);
      if (!client) clients.set(timeoutMs, (client = clientFor(openai, { baseUrl, apiKey }, timeoutMs)));
      const mask = new SecretMask(apiKey);
      let data: Array<{ embedding: unknown; index?: number }>;
      try {
        // "float" explicitly: the client would ask for base64, which not every server speaks.
        const response = await client.embeddings.create(
          { model, input: texts.map((text) => text.slice(0, MAX_INPUT_CHARS)), encoding_format: 'float' },
          { signal },
        );
        data = response.data as typeof data;
      } catch (error) {
        throw describeFailure(error, { baseUrl, model, timeoutMs }, mask, openai);
      }
      return vectorsOf(data, texts.length, baseUrl);
    },
  };
}

/** The vectors in input order, all of one length and finite, or RunnerError. */
function vectorsOf(data: Array<{ embedding: unknown; index?: number }>, count: number, where: string): number[][] {
  const malformed = (why: string) => new RunnerError(`${where}/embeddings answered ${why}`);
  if (!Array.isArray(data) || data.length !== count) throw malformed(`${Array.isArray(data) ? data.length : 'no'} vectors for ${count} texts`);
  const ordered = data.every((item) => typeof item.index === 'number') ? [...data].sort((a, b) => (a.index as number) - (b.index as number)) : data;
  const vectors = ordered.map((item) => item.embedding);
  const length = Array.isArray(vectors[0]) ? vectors[0].length : 0;
  for (const vector of vectors) {
    if (!Array.isArray(vector) || !vector.length || vector.length !== length || !vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
      throw malformed('vectors that are not lists of numbers of one length');
    }
  }
  return vectors as number[][];
}
