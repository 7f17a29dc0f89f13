// /api/topics
import type { Services } from '../../core/context.js';
import { DeletedSchema, TopicListQuerySchema, TopicCreateSchema, TopicSchema, TopicUpdateSchema } from '../../core/schemas.js';
import type { Route } from './route.js';

const tag = 'topics';

export function topicRoutes({ topics }: Services): Route[] {
  return [
    {
      methods: ['get'], path: '/topics/', tag, summary: 'List topics',
      query: TopicListQuerySchema, response: { kind: 'page', schema: TopicSchema },
      handle: ({ query }) => topics.list(query),
    },
    {
      methods: ['post'], path: '/topics/', tag, summary: 'Create a topic (names are unique)', errors: [409],
      body: TopicCreateSchema, response: { kind: 'created', schema: TopicSchema, location: ({ id }) => `/api/topics/${id}` },
      handle: ({ body }) => topics.create(body),
    },
    {
      methods: ['get'], path: '/topics/{id}', tag, summary: 'Get a topic',
      response: { kind: 'json', schema: TopicSchema },
      handle: ({ params }) => topics.get(params.id),
    },
    {
      methods: ['put', 'patch'], path: '/topics/{id}', tag, summary: 'Update a topic (only the fields given)', errors: [409],
      body: TopicUpdateSchema, response: { kind: 'json', schema: TopicSchema },
      handle: ({ params, body }) => topics.update(params.id, body),
    },
    {
      methods: ['delete'], path: '/topics/{id}', tag, summary: 'Delete a topic (its documents are kept, detached)',
      response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => topics.delete(params.id),
    },
  ];
}
