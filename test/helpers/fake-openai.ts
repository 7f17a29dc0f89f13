// A fake OpenAI-compatible server on 127.0.0.1: POST /v1/chat/completions, streaming
// (SSE) or not. The model name picks the behaviour: "fail-500" answers an error,
// "hang" never answers, "slow" sends one delta then stalls, "paced" streams one word every
// `pacedIntervalMs` (so a client can leave mid-reply), "endless" streams words forever,
// "huge" streams 250,000 characters, "redirect" answers 307 to `redirectTo`, "echo-key"
// streams the Bearer token it received back in many spellings, a few characters per
// delta, and "fail-echo-key" answers 400 with the token in the error message; any other
// model answers `reply`; `failWhen` makes any request it picks answer 500 (one document of
// a run, say), and a streamed request asking for usage gets token counts in a last chunk.
// POST /v1/embeddings answers deterministic vectors (fake-embeddings.ts).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { answerEmbeddings, fakeEmbeddingsState, type FakeEmbeddings } from './fake-embeddings.js';

export interface FakeRequest {
  headers: http.IncomingHttpHeaders;
  body: {
    model?: string;
    stream?: boolean;
    messages?: Array<{ role: string; content: string }>;
    temperature?: number;
    max_tokens?: number;
    stream_options?: { include_usage?: boolean };
  };
}

export interface FakeOpenAi {
  baseUrl: string;
  requests: FakeRequest[];
  /** What other models answer; may be changed between requests. */
  reply: string;
  /** Where the "redirect" model sends clients (another server's chat completions URL). */
  redirectTo: string;
  /** Paced replies sent to their end, and those whose client went away before it. */
  paced: { finished: number; cutShort: number };
  /** The /embeddings endpoint: its requests (kept apart from `requests`) and behaviour. */
  embeddings: FakeEmbeddings;
  /** Requests it returns true for are answered 500 ("fake failure"). */
  failWhen?: (request: FakeRequest) => boolean;
  close(): Promise<void>;
}

export async function startFakeOpenAi(reply = 'The fake model says: forty-two.', pacedIntervalMs = 80): Promise<FakeOpenAi> {
  const requests: FakeRequest[] = [];
  const paced = { finished: 0, cutShort: 0 };
  const embeddings = fakeEmbeddingsState();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (req.url?.endsWith('/embeddings')) {
        answerEmbeddings(embeddings, { headers: req.headers, body }, res);
        return;
      }
      requests.push({ headers: req.headers, body });
      const model = body.model ?? 'fake';
      if (!req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      if (model === 'fail-500' || fake.failWhen?.({ headers: req.headers, body })) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake failure', type: 'server_error' } }));
        return;
      }
      if (model === 'hang') return;
      if (model === 'redirect') {
        res.writeHead(307, { location: fake.redirectTo }).end();
        return;
      }
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (model === 'fail-echo-key') {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `bad key ${token}`, type: 'invalid_request_error' } }));
        return;
      }
      const created = Math.floor(Date.now() / 1000);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: fake.reply }, finish_reason: 'stop' }],
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: object, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }));
      const words = fake.reply.match(/\S+\s*/g) ?? [];
      if (model === 'endless') {
        const timer = setInterval(() => res.write(chunk({ content: 'more ' })), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (model === 'huge') {
        for (let sent = 0; sent < 250_000; sent += 10_000) res.write(chunk({ content: 'x'.repeat(10_000) }));
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
        return;
      }
      if (model === 'echo-key') {
        const text = `${echoes(token)} done.`;
        for (let at = 0; at < text.length; at += 3) res.write(chunk({ content: text.slice(at, at + 3) }));
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
        return;
      }
      if (model === 'slow') {
        res.write(chunk({ content: words[0] ?? '' }));
        return;
      }
      if (model === 'paced') {
        let next = 0;
        const timer = setInterval(() => {
          if (next < words.length) {
            res.write(chunk({ content: words[next++] }));
            return;
          }
          clearInterval(timer);
          paced.finished += 1;
          res.write(chunk({}, 'stop'));
          res.end('data: [DONE]\n\n');
        }, pacedIntervalMs);
        res.on('close', () => {
          clearInterval(timer);
          if (next < words.length) paced.cutShort += 1;
        });
        return;
      }
      for (const word of words) res.write(chunk({ content: word }));
      res.write(chunk({}, 'stop'));
      if (body.stream_options?.include_usage) {
        const usage = { prompt_tokens: promptOf({ headers: req.headers, body }).split(/\s+/).length, completion_tokens: words.length };
        res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeOpenAi = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    reply,
    redirectTo: '',
    paced,
    embeddings,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** The spellings of a key an upstream might echo: as is, upper case, URL-encoded, JSON-escaped, base64 alone and in Basic/Bearer credentials. */
export function echoes(key: string): string {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return [
    `raw ${key}`,
    `upper ${key.toUpperCase()}`,
    `url ${encodeURIComponent(key)}`,
    `json ${JSON.stringify(key).slice(1, -1)}`,
    `b64 ${base64(key)}`,
    `bearer ${base64(`Bearer ${key}`)}`,
    `basic ${base64(`user:${key}`)}`,
  ].join(' | ');
}

/** Every message of a request the fake received, as one text. */
export function promptOf(request: FakeRequest): string {
  return (request.body.messages ?? []).map((message) => `${message.role}: ${message.content}`).join('\n');
}
