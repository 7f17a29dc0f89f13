// /api/agents/{id}/runs and /api/runs: an agent's background work, started here, executed by
// the workers, watched as Server-Sent Events replayed from the run's stored events.
import type { Services } from '../../core/context.js';
import { DeletedSchema, EventsQuerySchema, RunCreateSchema, RunListQuerySchema, RunResultSchema, RunSchema, ListQuerySchema } from '../../core/schemas.js';
import type { RunEvent } from '../../core/schemas.js';
import { lastEventId, streamEvents, type StreamedEvent } from '../event-stream.js';
import type { Logger } from '../logger.js';
import type { Route } from './route.js';

const tag = 'runs';

export function runRoutes({ runs }: Services, logger: Logger, options: { keepAliveMs?: number } = {}): Route[] {
  return [
    {
      methods: ['post'], path: '/agents/{id}/runs', tag, summary: 'Start a run: the agent works on the input in the background',
      description: 'Without each_document the agent answers input once, from its documents (narrowed to topic_id / document_ids when given); '
        + 'with it, once per document in scope, each answer drawn from that document alone. Answers 202 at once; the run is queued '
        + 'for a worker (`dana serve --workers N`, `dana worker`). Location names the run; /events streams its progress.',
      body: RunCreateSchema,
      response: { kind: 'accepted', schema: RunSchema, location: ({ id }) => `/api/runs/${id}` },
      handle: ({ params, body }) => runs.create(params.id, body),
    },
    {
      methods: ['get'], path: '/runs/', tag, summary: 'List runs',
      query: RunListQuerySchema, response: { kind: 'page', schema: RunSchema },
      handle: ({ query }) => runs.list(query),
    },
    {
      methods: ['get'], path: '/runs/{id}', tag, summary: 'Get a run',
      response: { kind: 'json', schema: RunSchema },
      handle: ({ params }) => runs.get(params.id),
    },
    {
      methods: ['get'], path: '/runs/{id}/results', tag, summary: "A run's answers, one per document (or one for a run answered once)",
      query: ListQuerySchema, response: { kind: 'page', schema: RunResultSchema },
      handle: ({ params, query }) => runs.results(params.id, query),
    },
    {
      methods: ['post'], path: '/runs/{id}/cancel', tag, summary: 'Cancel a queued or running run',
      description: 'The worker stops within a second and stores no further results. 409 once the run has finished.',
      errors: [409], response: { kind: 'json', schema: RunSchema },
      handle: ({ params }) => runs.cancel(params.id),
    },
    {
      methods: ['delete'], path: '/runs/{id}', tag, summary: 'Delete a finished run and its results',
      description: 'Only a run that succeeded, failed or was cancelled (409 otherwise: cancel it first).',
      errors: [409], response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => runs.delete(params.id),
    },
    {
      methods: ['get'], path: '/runs/{id}/events', tag, summary: "A run's events as Server-Sent Events, from the start or after Last-Event-ID",
      description: 'Each event has `id: N`, `event: status|progress|log|result` and `data: JSON` ({status, error?}; {done, total}; '
        + '{level, message, at}; {document_id, output, sources, error}). Stored events are replayed first (all, or those after '
        + 'the Last-Event-ID header or ?last_event_id=), then new ones follow as they happen; the stream ends after the final '
        + 'status. Comments keep a quiet stream open.',
      query: EventsQuerySchema,
      response: { kind: 'custom', description: "The run's event stream", content: { 'text/event-stream': { type: 'string' } } },
      async handle({ params, query, ctx }) {
        // Unknown runs and bad queries are ordinary JSON errors: nothing is streamed yet.
        await runs.get(params.id);
        const afterId = lastEventId(ctx, query) ?? 0;
        streamEvents(ctx, (signal) => asStreamed(runs.watch(params.id, { afterId, signal })), {
          keepAliveMs: options.keepAliveMs,
          onError: (error) => logger.error(`GET ${ctx.path} events failed: ${(error as Error)?.stack ?? error}`),
        });
      },
    },
  ];
}

async function* asStreamed(events: AsyncIterable<RunEvent>): AsyncIterable<StreamedEvent> {
  for await (const { id, type, data } of events) yield { id, event: type, data };
}
