// An OpenAI-compatible server on 127.0.0.1 that streams its reply one word every
// `intervalMs` and then finishes, so a client can leave in the middle of a reply that
// would otherwise complete. It counts the replies it finished and those cut short.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface PacedOpenAi {
  baseUrl: string;
  reply: string;
  /** Replies sent to their end. */
  finished: number;
  /** Replies whose client went away before the end. */
  cutShort: number;
  close(): Promise<void>;
}

export async function startPacedOpenAi(reply: string, intervalMs: number): Promise<PacedOpenAi> {
  const sockets = new Set<Socket>();
  const state = { finished: 0, cutShort: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const created = Math.floor(Date.now() / 1000);
      const chunk = (delta: object, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-paced', object: 'chat.completion.chunk', created, model: 'paced', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const words = reply.match(/\S+\s*/g) ?? [];
      let next = 0;
      let done = false;
      const timer = setInterval(() => {
        if (next < words.length) {
          res.write(chunk({ content: words[next++] }));
          return;
        }
        clearInterval(timer);
        done = true;
        state.finished += 1;
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
      }, intervalMs);
      res.on('close', () => {
        clearInterval(timer);
        if (!done) state.cutShort += 1;
      });
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
    reply,
    get finished() {
      return state.finished;
    },
    get cutShort() {
      return state.cutShort;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
