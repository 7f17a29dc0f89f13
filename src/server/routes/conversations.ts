// /api/conversations
import type { Services } from '../../core/context.js';
import {
  ConversationCreateSchema, ConversationListQuerySchema, ConversationSchema, ConversationUpdateSchema,
  ConversationWithMessagesSchema, DeletedSchema,
} from '../../core/schemas.js';
import type { Route } from './route.js';

const tag = 'conversations';

export function conversationRoutes({ conversations }: Services): Route[] {
  return [
    {
      methods: ['get'], path: '/conversations/', tag, summary: 'List conversations',
      query: ConversationListQuerySchema, response: { kind: 'page', schema: ConversationSchema },
      handle: ({ query }) => conversations.list(query),
    },
    {
      methods: ['post'], path: '/conversations/', tag, summary: 'Create a conversation',
      body: ConversationCreateSchema,
      response: { kind: 'created', schema: ConversationSchema, location: ({ id }) => `/api/conversations/${id}` },
      handle: ({ body }) => conversations.create(body),
    },
    {
      methods: ['get'], path: '/conversations/{id}', tag, summary: 'Get a conversation with its messages',
      response: { kind: 'json', schema: ConversationWithMessagesSchema },
      handle: ({ params }) => conversations.get(params.id),
    },
    {
      methods: ['put', 'patch'], path: '/conversations/{id}', tag, summary: 'Update a conversation (only the fields given)',
      body: ConversationUpdateSchema, response: { kind: 'json', schema: ConversationSchema },
      handle: ({ params, body }) => conversations.update(params.id, body),
    },
    {
      methods: ['delete'], path: '/conversations/{id}', tag, summary: 'Delete a conversation and its messages',
      response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => conversations.delete(params.id),
    },
  ];
}
