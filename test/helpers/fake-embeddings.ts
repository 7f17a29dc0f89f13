// The fake OpenAI-compatible server's POST /v1/embeddings (see fake-openai.ts): deterministic
// vectors in which synonyms ("car", "automobile") land on the same dimension, so a vector
// search finds what a full-text search misses. `failing` answers 500, `redirectTo` answers
// 307 there, `delayMs` holds each answer back (a crash can land mid-fill).
import type http from 'node:http';

export const FAKE_DIMENSIONS = 512;

// Words that mean the same thing, and words too common to mean anything.
const SYNONYMS: Record<string, string> = {
  automobile: 'car', vehicle: 'car', motorcar: 'car', cars: 'car', automobiles: 'car',
  physician: 'doctor', medic: 'doctor',
  large: 'big', huge: 'big',
};
const IGNORED = new Set('a an and the of to in is are it my our your what how for with about on at by be this that'.split(' '));

export interface FakeEmbeddingRequest {
  headers: http.IncomingHttpHeaders;
  body: { model?: string; input?: string | string[]; encoding_format?: string };
}

export interface FakeEmbeddings {
  requests: FakeEmbeddingRequest[];
  /** Texts embedded so far (passages and questions). */
  embedded: number;
  failing: boolean;
  redirectTo: string;
  delayMs: number;
}

export function fakeEmbeddingsState(): FakeEmbeddings {
  return { requests: [], embedded: 0, failing: false, redirectTo: '', delayMs: 0 };
}

/** The vector of a text: one count per meaning, hashed to a dimension. */
export function fakeEmbedding(text: string): number[] {
  const vector: number[] = Array.from({ length: FAKE_DIMENSIONS }, () => 0);
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  for (const word of words) {
    if (IGNORED.has(word)) continue;
    vector[dimensionOf(SYNONYMS[word] ?? word)] += 1;
  }
  if (!vector.some(Boolean)) vector[0] = 1;
  return vector;
}

function dimensionOf(word: string): number {
  let hash = 2166136261;
  for (const char of word) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return (hash >>> 0) % FAKE_DIMENSIONS;
}

export function answerEmbeddings(state: FakeEmbeddings, request: FakeEmbeddingRequest, res: http.ServerResponse): void {
  state.requests.push(request);
  const send = () => {
    if (state.failing) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake embeddings failure', type: 'server_error' } }));
      return;
    }
    if (state.redirectTo) {
      res.writeHead(307, { location: state.redirectTo }).end();
      return;
    }
    const input = request.body.input;
    const texts = typeof input === 'string' ? [input] : input ?? [];
    state.embedded += texts.length;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      object: 'list',
      model: request.body.model,
      data: texts.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text) })),
      usage: { prompt_tokens: 0, total_tokens: 0 },
    }));
  };
  if (state.delayMs) setTimeout(send, state.delayMs);
  else send();
}
