// /api/conversations
import { Readable } from 'node:stream';
import type { Services } from '../../core/context.js';
import {
  ConversationCreateSchema, ConversationListQuerySchema, ConversationSchema, ConversationUpdateSchema,
  ConversationWithMessagesSchema, DeletedSchema, ConversationImportSchema, ConversationForkSchema, ConversationExportQuerySchema,
} from '../../core/schemas.js';
import { attachmentHeader } from '../attachment.js';
import type { Route } from './route.js';
import type { Conversation, Message } from '../../core/schemas.js';

/** `{...conversation, "messages": [...]}` as JSON text, one message at a time. */
async function* conversationJson(conversation: Conversation, messages: AsyncIterable<Message>): AsyncGenerator<string> {
  yield `${JSON.stringify(conversation).slice(0, -1)},"messages":[`;
  let separator = '';
  for await (const message of messages) {
    yield separator + JSON.stringify(message);
    separator = ',';
  }
  yield ']}';
}

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
      methods: ['post'], path: '/conversations/import', tag, summary: 'Import a conversation exported as JSON',
      description: 'A new conversation with the same messages (senders, contents, sources and timestamps); ids in the file are ignored. All or nothing.',
      body: ConversationImportSchema,
      response: { kind: 'created', schema: ConversationSchema, location: ({ id }) => `/api/conversations/${id}` },
      handle: ({ body }) => conversations.import(body),
    },
    {
      methods: ['get'], path: '/conversations/{id}/export', tag, summary: 'Download a conversation as JSON or Markdown',
      description: 'format=json (default) is the conversation with every message, the body import takes; format=md is for reading.',
      query: ConversationExportQuerySchema,
      response: {
        kind: 'custom', description: 'The conversation as an attachment',
        content: { 'application/json': ConversationWithMessagesSchema, 'text/markdown': { type: 'string' } },
      },
      async handle({ params, query, ctx }) {
        const file = await conversations.export(params.id, query);
        ctx.set('Content-Disposition', attachmentHeader(file.filename));
        ctx.type = file.contentType;
        ctx.body = file.text;
      },
    },
    {
      methods: ['post'], path: '/conversations/{id}/fork', tag, summary: 'Copy a conversation up to a message into a new one',
      description: 'Without message_id every message is copied. A message_id of another conversation is a 422.',
      body: ConversationForkSchema,
      response: { kind: 'created', schema: ConversationSchema, location: ({ id }) => `/api/conversations/${id}` },
      handle: ({ params, body }) => conversations.fork(params.id, body),
    },
    {
      methods: ['get'], path: '/conversations/{id}', tag, summary: 'Get a conversation with its messages',
      description: 'At most its 1,000 most recent messages, oldest first; the messages route pages through all of them.',
      response: { kind: 'custom', description: 'The conversation with its messages', content: { 'application/json': ConversationWithMessagesSchema } },
      // Streamed a page of messages at a time: a thousand long messages are ~100 MB of JSON.
      async handle({ params, ctx }) {
        const { conversation, messages } = await conversations.read(params.id);
        ctx.type = 'application/json';
        ctx.body = Readable.from(conversationJson(conversation, messages));
      },
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
