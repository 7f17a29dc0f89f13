// A fake OpenAI-compatible server on 127.0.0.1: POST /v1/chat/completions, streaming
// (SSE) or not. The model name picks the behaviour: "fail-500" answers an error,
// "hang" never answers, "slow" sends one delta then stalls, "paced" streams one word every
// `pacedIntervalMs` (so a client can leave mid-reply); any other model answers `reply`.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeRequest {
  headers: http.IncomingHttpHeaders;
  body: {
    model?: string;
    stream?: boolean;
    messages?: Array<{ role: string; content: string }>;
    temperature?: number;
    max_tokens?: number;
  };
}

export interface FakeOpenAi {
  baseUrl: string;
  requests: FakeRequest[];
  reply: string;
  /** Paced replies sent to their end, and those whose client went away before it. */
  paced: { finished: number; cutShort: number };
  close(): Promise<void>;
}

export async function startFakeOpenAi(reply = 'The fake model says: forty-two.', pacedIntervalMs = 80): Promise<FakeOpenAi> {
  const requests: FakeRequest[] = [];
  const paced = { finished: 0, cutShort: 0 };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      requests.push({ headers: req.headers, body });
      const model = body.model ?? 'fake';
      if (!req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      if (model === 'fail-500') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake failure', type: 'server_error' } }));
        return;
      }
      if (model === 'hang') return;
      const created = Math.floor(Date.now() / 1000);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: object, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }));
      const words = reply.match(/\S+\s*/g) ?? [];
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
      res.end('data: [DONE]\n\n');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    reply,
    paced,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Every message of a request the fake received, as one text. */
export function promptOf(request: FakeRequest): string {
  return (request.body.messages ?? []).map((message) => `${message.role}: ${message.content}`).join('\n');
}
