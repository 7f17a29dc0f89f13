// One JSON Schema per shape and per request body. The same objects validate input (ajv),
// type the code (FromSchema) and describe the API (the OpenAPI document embeds them).
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { RUNNERS } from './chat/runners.js';
import { RETRIEVERS } from './search/retrievers.js';

/** Ids are 32-bit on every backend (PostgreSQL's `integer`); anything past that is a 422, never a 500. */
export const MAX_ID = 2_147_483_647;
const id = { type: 'integer', minimum: 1, maximum: MAX_ID } as const;
const optionalId = { type: ['integer', 'null'], minimum: 1, maximum: MAX_ID } as const;
/** Message content, chat messages included (a reply of a model is bounded by the runner). */
export const MAX_CONTENT_CHARS = 100_000;
const content = { type: 'string', maxLength: MAX_CONTENT_CHARS } as const;
const timestamp = {
  type: 'string',
  format: 'date-time',
  description: 'ISO 8601 UTC timestamp ending in Z',
  examples: ['2026-11-24T10:00:00.000Z'],
} as const;
const name = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'Surrounding whitespace is trimmed; 1 to 200 characters remain.',
} as const;
const title = { type: 'string', minLength: 1, maxLength: 200 } as const;
const config = {
  type: 'object',
  description: 'JSON object, stored and returned exactly. Dana reads the keys listed; any other key is kept as given.',
  examples: [{ provider: 'local', topic_ids: [1] }],
} as const;

/** A provider's name: what `config.provider` and `dana providers …` use. */
export const PROVIDER_NAME_PATTERN = '^[a-z0-9_-]{1,50}$';
export const MAX_TOPIC_IDS = 1000;

type KeySchemas = Record<string, Record<string, unknown>>;
/** Config keys no runner may declare: Dana reads them itself, or refuses them (agents.ts). */
const RESERVED_CONFIG_KEYS = ['provider', 'topic_ids', 'retriever', 'base_url', 'api_key_env'];

/**
 * The agent config keys Dana reads, checked on create and update: `provider`, the keys
 * each registered runner reads (chat/runners.ts), `topic_ids`, and `retriever`. Other keys
 * are allowed and stored as given; `base_url` and `api_key_env` are refused by the agent
 * service (a client must not choose where a key is sent).
 */
export function agentConfigFor(runners: readonly { kind: string; settings: KeySchemas }[], retrievers: readonly { kind: string }[]) {
  const properties: KeySchemas = {
    provider: { type: 'string', pattern: PROVIDER_NAME_PATTERN, description: 'The provider that answers (default: the provider marked default, else "local")' },
  };
  const declaredBy = new Map<string, string>();
  for (const runner of runners) {
    for (const [key, schema] of Object.entries(runner.settings)) {
      const other = declaredBy.get(key);
      if (RESERVED_CONFIG_KEYS.includes(key)) throw new Error(`the "${runner.kind}" runner declares config key "${key}", which Dana reads itself`);
      if (other && JSON.stringify(properties[key]) !== JSON.stringify(schema)) {
        throw new Error(`the "${runner.kind}" runner declares config key "${key}" differently from the "${other}" runner`);
      }
      declaredBy.set(key, runner.kind);
      properties[key] = schema;
    }
  }
  properties.topic_ids = {
    type: 'array', items: id, maxItems: MAX_TOPIC_IDS, uniqueItems: true,
    description: 'Topics whose documents the agent also answers from (existing topics, distinct)',
  };
  const [first, ...others] = retrievers.map((retriever) => retriever.kind);
  properties.retriever = { enum: [first, ...others], description: `How passages are found (default "${first}")` };
  return { ...config, properties };
}

const agentConfig = agentConfigFor(RUNNERS, RETRIEVERS);

/** The keys of an agent's config that Dana reads (the CLI warns about the others). */
export const AGENT_CONFIG_KEYS: readonly string[] = Object.keys(agentConfig.properties);

export const AgentSchema = {
  $id: 'Agent',
  type: 'object',
  properties: { id, name, description: { type: 'string' }, config, created_at: timestamp, updated_at: timestamp },
  required: ['id', 'name', 'description', 'config', 'created_at', 'updated_at'],
  additionalProperties: false,
} as const satisfies JSONSchema;

// The config's keys come from the registries; its type stays that of any JSON object.
export const AgentCreateSchema = {
  $id: 'AgentCreate',
  type: 'object',
  properties: { name, description: { type: 'string' }, config: agentConfig as typeof config },
  required: ['name', 'description', 'config'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const AgentUpdateSchema = {
  $id: 'AgentUpdate',
  type: 'object',
  properties: AgentCreateSchema.properties,
  minProperties: 1,
  additionalProperties: false,
} as const satisfies JSONSchema;

/** The agent bodies with another config schema (other runners or retrievers), under ids of their own. */
export function agentBodiesFor(configSchema: ReturnType<typeof agentConfigFor>, idSuffix: string) {
  const properties = { ...AgentCreateSchema.properties, config: configSchema };
  return {
    create: { ...AgentCreateSchema, $id: `AgentCreate${idSuffix}`, properties },
    update: { ...AgentUpdateSchema, $id: `AgentUpdate${idSuffix}`, properties },
  };
}

export const TopicSchema = {
  $id: 'Topic',
  type: 'object',
  properties: { id, name, description: { type: 'string' }, created_at: timestamp, updated_at: timestamp },
  required: ['id', 'name', 'description', 'created_at', 'updated_at'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const TopicCreateSchema = {
  $id: 'TopicCreate',
  type: 'object',
  properties: { name, description: { type: 'string' } },
  required: ['name', 'description'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const TopicUpdateSchema = {
  $id: 'TopicUpdate',
  type: 'object',
  properties: TopicCreateSchema.properties,
  minProperties: 1,
  additionalProperties: false,
} as const satisfies JSONSchema;

export const DocumentSchema = {
  $id: 'Document',
  type: 'object',
  properties: {
    id,
    filename: { type: 'string', description: 'Stored name: a v4 UUID and the lower-cased extension' },
    original_filename: { type: 'string' },
    file_size: { type: 'integer', minimum: 0, description: 'Bytes' },
    mime_type: { type: 'string' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 digest of the stored bytes' },
    text_status: {
      type: 'string',
      enum: ['indexed', 'failed', 'pending'],
      description: 'indexed: its text is searchable; failed: stored, but no text could be read (see text_error); pending: between a crash and the next start',
    },
    text_error: { type: ['string', 'null'], description: 'Why no text could be read, when text_status is failed' },
    topic_id: optionalId,
    agent_id: optionalId,
    created_at: timestamp,
    updated_at: timestamp,
  },
  required: ['id', 'filename', 'original_filename', 'file_size', 'mime_type', 'sha256', 'text_status', 'text_error', 'topic_id', 'agent_id', 'created_at', 'updated_at'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const DocumentUpdateSchema = {
  $id: 'DocumentUpdate',
  type: 'object',
  properties: {
    original_filename: { type: 'string', minLength: 1, maxLength: 255 },
    topic_id: optionalId,
    agent_id: optionalId,
  },
  minProperties: 1,
  additionalProperties: false,
} as const satisfies JSONSchema;

/** The text fields of an upload form; any other field is ignored. */
export const DocumentUploadFormSchema = {
  $id: 'DocumentUploadForm',
  type: 'object',
  properties: { topic_id: id, agent_id: id },
} as const satisfies JSONSchema;

export const SourceSchema = {
  $id: 'Source',
  type: 'object',
  properties: { document_id: id, original_filename: { type: 'string' }, snippet: { type: 'string' } },
  required: ['document_id', 'original_filename', 'snippet'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const MessageSchema = {
  $id: 'Message',
  type: 'object',
  properties: {
    id,
    conversation_id: id,
    sender: { type: 'string', examples: ['user', 'agent'] },
    content: { type: 'string' },
    sources: {
      type: ['array', 'null'],
      items: SourceSchema,
      description: "The chat response's sources on a reply stored by chat, else null",
    },
    created_at: timestamp,
    updated_at: timestamp,
  },
  required: ['id', 'conversation_id', 'sender', 'content', 'sources', 'created_at', 'updated_at'],
  additionalProperties: false,
} as const satisfies JSONSchema;

const sender = { type: 'string', minLength: 1, maxLength: 50, examples: ['user', 'agent'] } as const;

export const MessageCreateSchema = {
  $id: 'MessageCreate',
  type: 'object',
  properties: { sender, content },
  required: ['sender', 'content'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const MessageUpdateSchema = {
  $id: 'MessageUpdate',
  type: 'object',
  properties: MessageCreateSchema.properties,
  minProperties: 1,
  additionalProperties: false,
} as const satisfies JSONSchema;

const conversationProperties = { id, title: { type: 'string' }, agent_id: optionalId, created_at: timestamp, updated_at: timestamp } as const;

export const ConversationSchema = {
  $id: 'Conversation',
  type: 'object',
  properties: conversationProperties,
  required: ['id', 'title', 'agent_id', 'created_at', 'updated_at'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ConversationWithMessagesSchema = {
  $id: 'ConversationWithMessages',
  type: 'object',
  properties: { ...conversationProperties, messages: { type: 'array', items: MessageSchema } },
  required: ['id', 'title', 'agent_id', 'created_at', 'updated_at', 'messages'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ConversationCreateSchema = {
  $id: 'ConversationCreate',
  type: 'object',
  properties: { title, agent_id: optionalId },
  required: ['title'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ConversationUpdateSchema = {
  $id: 'ConversationUpdate',
  type: 'object',
  properties: ConversationCreateSchema.properties,
  minProperties: 1,
  additionalProperties: false,
} as const satisfies JSONSchema;

// A timestamp given by a client (an imported conversation): ISO 8601 with a zone; stored as UTC.
const givenTimestamp = {
  type: 'string',
  pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?(Z|[+-]\\d\\d:\\d\\d)$',
  description: 'ISO 8601 timestamp with a zone, e.g. 2026-11-24T10:00:00.000Z',
} as const;

/**
 * A conversation as `GET /api/conversations/{id}/export?format=json` writes it, and as
 * `POST /api/conversations/import` takes it back: ids are ignored (the import is a new
 * conversation), senders, contents, sources and timestamps are kept.
 */
export const ConversationImportSchema = {
  $id: 'ConversationImport',
  type: 'object',
  properties: {
    id,
    title,
    agent_id: optionalId,
    created_at: givenTimestamp,
    updated_at: givenTimestamp,
    messages: {
      type: 'array',
      maxItems: 100_000,
      items: {
        type: 'object',
        properties: {
          id,
          conversation_id: id,
          sender,
          content,
          sources: { type: ['array', 'null'], items: SourceSchema },
          created_at: givenTimestamp,
          updated_at: givenTimestamp,
        },
        required: ['sender', 'content'],
        additionalProperties: false,
      },
    },
  },
  required: ['title', 'messages'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ConversationForkSchema = {
  $id: 'ConversationFork',
  type: 'object',
  properties: { message_id: { ...id, description: 'The last message the fork keeps (default: the last one)' } },
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ConversationExportQuerySchema = {
  $id: 'ConversationExportQuery',
  type: 'object',
  properties: { format: { type: 'string', enum: ['json', 'md'], default: 'json' } },
  required: ['format'],
} as const satisfies JSONSchema;

/** Columns a list sorts by, where a resource has them: its id, timestamps and name-like text. */
export const SORTABLE_COLUMNS = ['id', 'created_at', 'updated_at', 'name', 'title', 'original_filename'] as const;
/** The column a list's `q` looks in: the first of these a resource has. */
export const SEARCHABLE_COLUMNS = ['name', 'title', 'original_filename', 'content'] as const;

/** `sort` values a list of this resource accepts: each sortable column, ascending or (`-`) descending. */
export function sortValuesOf(schema: { properties: Record<string, unknown> }): string[] {
  const columns = SORTABLE_COLUMNS.filter((column) => column in schema.properties);
  return [...columns, ...columns.map((column) => `-${column}`)];
}

/** `q` and `sort` of a list of `resource`: the columns come from its schema. */
function listFiltersOf(resource: { properties: Record<string, unknown> }) {
  const searched = SEARCHABLE_COLUMNS.find((column) => column in resource.properties);
  return {
    q: { type: 'string', maxLength: 1000, description: `Only rows whose ${searched} contains this text (case-insensitive; % and _ are plain characters)` },
    sort: { type: 'string', enum: sortValuesOf(resource), default: 'id', description: 'Column to sort by; a leading - sorts descending' },
  } as const;
}

const paging = {
  skip: { type: 'integer', minimum: 0, default: 0, description: 'Rows to skip' },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Rows to return' },
} as const;

export const ListQuerySchema = {
  $id: 'ListQuery',
  type: 'object',
  properties: paging,
  required: ['skip', 'limit'],
} as const satisfies JSONSchema;

export const AgentListQuerySchema = {
  $id: 'AgentListQuery',
  type: 'object',
  properties: { ...paging, ...listFiltersOf(AgentSchema) },
  required: ['skip', 'limit', 'sort'],
} as const satisfies JSONSchema;

export const TopicListQuerySchema = {
  $id: 'TopicListQuery',
  type: 'object',
  properties: { ...paging, ...listFiltersOf(TopicSchema) },
  required: ['skip', 'limit', 'sort'],
} as const satisfies JSONSchema;

export const MessageListQuerySchema = {
  $id: 'MessageListQuery',
  type: 'object',
  properties: { ...paging, ...listFiltersOf(MessageSchema) },
  required: ['skip', 'limit', 'sort'],
} as const satisfies JSONSchema;

export const DocumentListQuerySchema = {
  $id: 'DocumentListQuery',
  type: 'object',
  properties: {
    ...paging, ...listFiltersOf(DocumentSchema),
    topic_id: id, agent_id: id, sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'Only copies of these bytes' },
  },
  required: ['skip', 'limit', 'sort'],
} as const satisfies JSONSchema;

export const ConversationListQuerySchema = {
  $id: 'ConversationListQuery',
  type: 'object',
  properties: { ...paging, ...listFiltersOf(ConversationSchema), agent_id: id },
  required: ['skip', 'limit', 'sort'],
} as const satisfies JSONSchema;

export const SearchQuerySchema = {
  $id: 'SearchQuery',
  type: 'object',
  properties: {
    q: { type: 'string', minLength: 1, maxLength: 1000, description: 'Words to look for (all of them)' },
    kind: { type: 'string', enum: ['documents', 'messages'], description: 'Only document passages, or only messages (default: both)' },
    agent_id: { ...id, description: "Only this agent's documents (its own and its topics') and conversations" },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Results to return' },
  },
  required: ['q', 'limit'],
} as const satisfies JSONSchema;

/** `GET /api/events`: where a stream resumes (EventSource sends the `Last-Event-ID` header instead). */
export const EventsQuerySchema = {
  $id: 'EventsQuery',
  type: 'object',
  properties: {
    last_event_id: { type: 'integer', minimum: 0, maximum: MAX_ID, description: 'Send the events after this id, as the Last-Event-ID header does (ids are 0..2,147,483,647 like every id)' },
  },
} as const satisfies JSONSchema;

export const SearchResultSchema = {
  $id: 'SearchResult',
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['document', 'message'] },
    document_id: optionalId,
    conversation_id: optionalId,
    message_id: optionalId,
    title: { type: 'string', description: "The document's original_filename, or the conversation's title" },
    snippet: { type: 'string', description: 'The matching part of the passage or message' },
    score: { type: 'number', description: 'Higher is a better match' },
  },
  required: ['kind', 'document_id', 'conversation_id', 'message_id', 'title', 'snippet', 'score'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const SearchResultsSchema = {
  $id: 'SearchResults',
  type: 'array',
  items: SearchResultSchema,
} as const satisfies JSONSchema;

export const DeletedSchema = {
  $id: 'Deleted',
  type: 'object',
  properties: { message: { type: 'string', examples: ['Agent deleted successfully'] } },
  required: ['message'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ProviderSchema = {
  $id: 'Provider',
  type: 'object',
  properties: {
    name: { type: 'string', pattern: PROVIDER_NAME_PATTERN, examples: ['local', 'openai', 'ollama'] },
    base_url: { type: ['string', 'null'], description: 'The OpenAI-compatible endpoint; null for the offline runner "local"' },
    api_key_env: { type: ['string', 'null'], description: 'The environment variable holding the key (never the key itself)' },
    has_key: { type: 'boolean', description: "Whether that variable is set in the server's environment" },
    model: { type: ['string', 'null'], description: "The model used when an agent's config names none" },
    embedding_model: {
      type: ['string', 'null'],
      description: "The embedding model of the provider's /embeddings endpoint: its agents' passages are embedded and retrieval fuses full-text and vector results; null: full-text only",
    },
    is_default: { type: 'boolean', description: 'Answers for agents whose config names no provider' },
  },
  required: ['name', 'base_url', 'api_key_env', 'has_key', 'model', 'embedding_model', 'is_default'],
  additionalProperties: false,
} as const satisfies JSONSchema;

/** `dana providers add` (all but name optional on update). */
export const ProviderInputSchema = {
  $id: 'ProviderInput',
  type: 'object',
  properties: {
    name: { type: 'string', pattern: PROVIDER_NAME_PATTERN },
    base_url: { type: 'string', minLength: 1, maxLength: 2000 },
    api_key_env: { type: ['string', 'null'], pattern: '^[A-Za-z_][A-Za-z0-9_]{0,199}$' },
    model: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
    embedding_model: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
    is_default: { type: 'boolean' },
  },
  required: ['name'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ChatRequestSchema = {
  $id: 'ChatRequest',
  type: 'object',
  properties: {
    message: { type: 'string', minLength: 1, maxLength: MAX_CONTENT_CHARS, pattern: '\\S', description: 'What the user says (not only whitespace)' },
    agent_id: id,
    conversation_id: { ...optionalId, description: 'Continue this conversation; omit to start a new one' },
    context: { type: ['object', 'null'], description: 'Free-form, echoed back in the response' },
    stream: { type: 'boolean', description: 'Answer as Server-Sent Events (same as Accept: text/event-stream)' },
  },
  required: ['message', 'agent_id'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const ChatResponseSchema = {
  $id: 'ChatResponse',
  type: 'object',
  properties: {
    success: { type: 'boolean', const: true },
    message: { type: 'string', description: 'The user message, as sent' },
    conversation_id: id,
    message_id: { ...id, description: 'Id of the stored reply' },
    agent_response: { type: 'string' },
    context: { type: ['object', 'null'] },
    error: { type: 'null' },
    runner: { type: 'string', description: 'The name of the provider that answered', examples: ['local', 'openai'] },
    sources: { type: 'array', items: SourceSchema },
  },
  required: ['success', 'message', 'conversation_id', 'message_id', 'agent_response', 'context', 'error', 'runner', 'sources'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
/** The statuses a run ends in: it is no longer worked on, and may be deleted. */
export const FINISHED_RUN_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
export const MAX_RUN_DOCUMENT_IDS = 1000;
const nullableTimestamp = { ...timestamp, type: ['string', 'null'] } as const;

export const RunSchema = {
  $id: 'Run',
  type: 'object',
  properties: {
    id,
    agent_id: id,
    status: {
      type: 'string',
      enum: RUN_STATUSES,
      description: 'queued: waiting for a worker; running: a worker holds it; succeeded, failed, cancelled: finished',
    },
    input: { type: 'string', description: 'What the agent is asked' },
    topic_id: { ...optionalId, description: "Only the agent's documents in this topic" },
    document_ids: { type: ['array', 'null'], items: id, description: "Only these of the agent's documents" },
    each_document: { type: 'boolean', description: 'Answer once per document in scope, each answer drawn from that document alone' },
    total: { type: 'integer', minimum: 0, description: 'Answers to give (known once a worker has started the run)' },
    done: { type: 'integer', minimum: 0, description: 'Answers given, failed ones included' },
    output: { type: ['string', 'null'], description: 'The answer of a run answered once' },
    sources: { type: ['array', 'null'], items: SourceSchema, description: 'The passages the answer of a run answered once drew on' },
    error: { type: ['string', 'null'], description: 'Why the run failed' },
    attempts: { type: 'integer', minimum: 0, description: 'How many times a worker has taken the run up (at most 3)' },
    created_at: timestamp,
    started_at: nullableTimestamp,
    finished_at: nullableTimestamp,
    updated_at: timestamp,
  },
  required: [
    'id', 'agent_id', 'status', 'input', 'topic_id', 'document_ids', 'each_document', 'total', 'done',
    'output', 'sources', 'error', 'attempts', 'created_at', 'started_at', 'finished_at', 'updated_at',
  ],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const RunCreateSchema = {
  $id: 'RunCreate',
  type: 'object',
  properties: {
    input: { type: 'string', minLength: 1, maxLength: MAX_CONTENT_CHARS, pattern: '\\S', description: 'What the agent is asked (not only whitespace); trimmed' },
    topic_id: { ...optionalId, description: "Only the agent's documents in this topic" },
    document_ids: {
      type: 'array', items: id, minItems: 1, maxItems: MAX_RUN_DOCUMENT_IDS, uniqueItems: true,
      description: "Only these of the agent's documents (its own, or in the topics of its config)",
    },
    each_document: { type: 'boolean', default: false, description: 'Answer once per document in scope' },
  },
  required: ['input'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const RunResultSchema = {
  $id: 'RunResult',
  type: 'object',
  properties: {
    document_id: { ...optionalId, description: 'The document answered from; null for a run answered once' },
    output: { type: ['string', 'null'] },
    sources: { type: 'array', items: SourceSchema },
    error: { type: ['string', 'null'], description: 'Why this answer failed' },
  },
  required: ['document_id', 'output', 'sources', 'error'],
  additionalProperties: false,
} as const satisfies JSONSchema;

export const RunListQuerySchema = {
  $id: 'RunListQuery',
  type: 'object',
  properties: { ...paging, agent_id: id, status: { type: 'string', enum: RUN_STATUSES } },
  required: ['skip', 'limit'],
} as const satisfies JSONSchema;

export type Agent = FromSchema<typeof AgentSchema>;
export type AgentCreate = FromSchema<typeof AgentCreateSchema>;
export type AgentUpdate = FromSchema<typeof AgentUpdateSchema>;
export type Topic = FromSchema<typeof TopicSchema>;
export type TopicCreate = FromSchema<typeof TopicCreateSchema>;
export type TopicUpdate = FromSchema<typeof TopicUpdateSchema>;
export type Document = FromSchema<typeof DocumentSchema>;
export type DocumentUpdate = FromSchema<typeof DocumentUpdateSchema>;
export type DocumentUploadForm = FromSchema<typeof DocumentUploadFormSchema>;
export type Conversation = FromSchema<typeof ConversationSchema>;
export type ConversationWithMessages = FromSchema<typeof ConversationWithMessagesSchema>;
export type ConversationCreate = FromSchema<typeof ConversationCreateSchema>;
export type ConversationUpdate = FromSchema<typeof ConversationUpdateSchema>;
export type ConversationImport = FromSchema<typeof ConversationImportSchema>;
export type ConversationFork = FromSchema<typeof ConversationForkSchema>;
export type ConversationExportQuery = FromSchema<typeof ConversationExportQuerySchema>;
export type Message = FromSchema<typeof MessageSchema>;
export type MessageCreate = FromSchema<typeof MessageCreateSchema>;
export type MessageUpdate = FromSchema<typeof MessageUpdateSchema>;
export type ListQuery = FromSchema<typeof ListQuerySchema>;
/** Paging plus `q` and `sort` (validated against the resource's own sort values). */
export interface FilteredListQuery extends ListQuery {
  q?: string;
  sort: string;
}
export type DocumentListQuery = FromSchema<typeof DocumentListQuerySchema>;
export type ConversationListQuery = FromSchema<typeof ConversationListQuerySchema>;
export type Deleted = FromSchema<typeof DeletedSchema>;
export type SearchQuery = FromSchema<typeof SearchQuerySchema>;
export type SearchResult = FromSchema<typeof SearchResultSchema>;
export type EventsQuery = FromSchema<typeof EventsQuerySchema>;
export type Provider = FromSchema<typeof ProviderSchema>;
export type ProviderInput = FromSchema<typeof ProviderInputSchema>;
export type ChatRequest = FromSchema<typeof ChatRequestSchema>;
export type Source = FromSchema<typeof SourceSchema>;
export type ChatResponse = FromSchema<typeof ChatResponseSchema>;

export type Run = FromSchema<typeof RunSchema>;
export type RunStatus = Run['status'];
export type RunCreate = FromSchema<typeof RunCreateSchema>;
export type RunResult = FromSchema<typeof RunResultSchema>;
export type RunListQuery = FromSchema<typeof RunListQuerySchema>;

/** What happened to a run, in order: stored, replayable by id (the SSE event id). */
export type RunEvent =
  | { id: number; type: 'status'; data: { status: RunStatus; error?: string } }
  | { id: number; type: 'progress'; data: { done: number; total: number } }
  | { id: number; type: 'log'; data: { level: 'info' | 'warning' | 'error'; message: string; at: string } }
  | { id: number; type: 'result'; data: RunResult };

/** A page of rows and the total before paging (sent as X-Total-Count). */
export interface Page<T> {
  items: T[];
  total: number;
}
