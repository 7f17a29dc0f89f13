// /api/conversations/{conversation_id}/messages
import type { Services } from '../../core/context.js';
import { DeletedSchema, MessageListQuerySchema, MessageCreateSchema, MessageSchema, MessageUpdateSchema } from '../../core/schemas.js';
import type { Route } from './route.js';

const tag = 'messages';
const base = '/conversations/{conversation_id}/messages';

export function messageRoutes({ messages }: Services): Route[] {
  return [
    {
      methods: ['get'], path: `${base}/`, tag, summary: 'List the messages of a conversation',
      query: MessageListQuerySchema, response: { kind: 'page', schema: MessageSchema },
      handle: ({ params, query }) => messages.list(params.conversation_id, query),
    },
    {
      methods: ['post'], path: `${base}/`, tag, summary: 'Add a message (bumps the conversation\'s updated_at)',
      body: MessageCreateSchema,
      response: {
        kind: 'created', schema: MessageSchema,
        location: ({ id, conversation_id }) => `/api/conversations/${conversation_id}/messages/${id}`,
      },
      handle: ({ params, body }) => messages.create(params.conversation_id, body),
    },
    {
      methods: ['get'], path: `${base}/{id}`, tag, summary: 'Get a message',
      response: { kind: 'json', schema: MessageSchema },
      handle: ({ params }) => messages.get(params.conversation_id, params.id),
    },
    {
      methods: ['put', 'patch'], path: `${base}/{id}`, tag, summary: 'Update a message (only the fields given)',
      body: MessageUpdateSchema, response: { kind: 'json', schema: MessageSchema },
      handle: ({ params, body }) => messages.update(params.conversation_id, params.id, body),
    },
    {
      methods: ['delete'], path: `${base}/{id}`, tag, summary: 'Delete a message',
      response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => messages.delete(params.conversation_id, params.id),
    },
  ];
}
