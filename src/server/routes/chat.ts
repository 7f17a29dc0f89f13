// /api/chat: a message to an agent and its reply, as one JSON response or as Server-Sent
// Events (`delta` events while the reply is produced, then `done` or `error`).
import type { Context } from 'koa';
import { PassThrough } from 'node:stream';
import type { Services } from '../../core/context.js';
import { errorOutcome } from '../../core/errors.js';
import { ChatRequestSchema, ChatResponseSchema } from '../../core/schemas.js';
import type { ChatService, PreparedChat } from '../../core/chat/service.js';
import type { Logger } from '../logger.js';
import type { Route } from './route.js';
import type { ChatObserver } from '../metrics.js';

export function chatRoutes({ chat }: Services, logger: Logger, observer?: ChatObserver): Route[] {
  return [
    {
      methods: ['post'], path: '/chat/', tag: 'chat', summary: 'Send a message to an agent and get its reply',
      description: 'Without conversation_id a new conversation is started, titled from the message. Both messages are stored only '
        + 'once the reply is complete. With `Accept: text/event-stream` or `"stream": true` the reply streams as Server-Sent Events: '
        + '`delta` events `{"text": …}`, then `done` with the response object, or `error` with `{"detail": …}`.',
      body: ChatRequestSchema, errors: [404, 409, 502],
      response: {
        kind: 'custom',
        description: 'The reply (JSON), or its event stream',
        content: { 'application/json': ChatResponseSchema, 'text/event-stream': { type: 'string' } },
      },
      async handle({ body, ctx }) {
        const prepared = await chat.prepare(body);
        const signal = cancelOnDisconnect(ctx);
        const finished = timeChat(prepared, observer);
        if (prepared.request.stream || /\btext\/event-stream\b/.test(ctx.get('accept'))) {
          streamEvents(ctx, chat, prepared, signal, logger, finished);
        } else {
          try {
            const response = await chat.complete(prepared, signal);
            finished(response.runner);
            ctx.body = response;
          } catch (error) {
            finished(undefined);
            throw error;
          }
        }
      },
    },
  ];
}

/** Aborts when the client goes away before the response is complete. */
function cancelOnDisconnect(ctx: Context): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Reports the reply's duration once it is done: with its runner, or failed (runner: the agent's provider setting). */
function timeChat(prepared: PreparedChat, observer: ChatObserver | undefined): (runner: string | undefined) => void {
  const started = performance.now();
  return (runner) => {
    const configured = prepared.agent.config.provider;
    const label = runner ?? (typeof configured === 'string' ? configured : 'default');
    observer?.chatFinished(label, runner ? 'ok' : 'error', (performance.now() - started) / 1000);
  };
}

function streamEvents(ctx: Context, chat: ChatService, prepared: PreparedChat, signal: AbortSignal, logger: Logger, finished: (runner: string | undefined) => void): void {
  const events = new PassThrough();
  ctx.status = 200;
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  ctx.body = events;
  // The status and headers go out now: a client (or a proxy) sees the stream begin before
  // the model's first token, however long that takes.
  ctx.flushHeaders();
  const send = (event: string, data: unknown) => events.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  (async () => {
    try {
      for await (const event of chat.stream(prepared, signal)) {
        if (event.type === 'delta') send('delta', { text: event.text });
        else {
          finished(event.response.runner);
          send('done', event.response);
        }
      }
    } catch (error) {
      finished(undefined);
      const { status, detail } = errorOutcome(error);
      if (status >= 500 && status !== 502) logger.error(`POST ${ctx.path} stream failed: ${(error as Error)?.stack ?? error}`);
      send('error', { detail });
    } finally {
      events.end();
    }
  })();
}
