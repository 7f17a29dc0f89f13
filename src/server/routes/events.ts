// /api/events: changes made by any process on the database, as Server-Sent Events. Each
// event has an id; a client that reconnects with `Last-Event-ID` (EventSource does) gets
// every event after it, then the new ones.
import type { Services } from '../../core/context.js';
import { EventsQuerySchema } from '../../core/schemas.js';
import { lastEventId, streamEvents } from '../event-stream.js';
import type { Route } from './route.js';

export function eventRoutes({ events }: Services, options: { keepAliveMs?: number } = {}): Route[] {
  return [
    {
      methods: ['get'], path: '/events', tag: 'events', summary: 'Follow changes as Server-Sent Events',
      description: 'Streams `change` events `{"resource": "agents", "id": 3, "action": "created"}` (resources as in the paths: agents, '
        + 'topics, documents, conversations, messages; actions created, updated, deleted) and `run` events `{"id", "status", "done", "total"}`, '
        + 'whichever process made the change (the CLI included). Each event has an `id:`; without `Last-Event-ID` (header) or '
        + '`last_event_id` (query) the stream starts from now, with it every event after that id is sent first. Events are kept for a day. '
        + 'A comment line is sent every 15 s while nothing happens.',
      query: EventsQuerySchema,
      response: { kind: 'custom', description: 'The event stream', content: { 'text/event-stream': { type: 'string' } } },
      async handle({ query, ctx }) {
        // Settled before the headers go out: a change made once the client sees them is in the stream.
        const afterId = await events.startAfter(lastEventId(ctx, query));
        streamEvents(ctx, (signal) => events.follow({ afterId, signal }), { keepAliveMs: options.keepAliveMs });
      },
    },
  ];
}
