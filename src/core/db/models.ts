// Objection models: what each table is, how rows relate, how timestamps and JSON columns
// are written and read. Queries live in the services.
import { Model, type Pojo, type QueryContext, type ModelOptions } from 'objection';
import type { Knex } from 'knex';
import type { Agent, Conversation, Document, Message, Topic } from '../schemas.js';

/**
 * A timestamp strictly after `previous` (and normally just "now"), so `updated_at` always
 * advances even when two writes land in the same millisecond or the clock steps back.
 */
export function nextTimestamp(previous?: string): string {
  const now = Date.now();
  const after = previous ? Date.parse(previous) + 1 : 0;
  return new Date(Math.max(now, after)).toISOString();
}

function isoTimestamp(value: unknown): unknown {
  // PostgreSQL hands back Date objects, SQLite the text written.
  return value instanceof Date ? value.toISOString() : value;
}

export type TextStatus = 'pending' | 'indexed' | 'empty' | 'failed';

export class BaseModel extends Model {
  id!: number;
  created_at!: string;
  updated_at!: string;

  /** A row read with plain SQL, parsed like any row the models read themselves. */
  static fromRow<M extends BaseModel>(this: new () => M, row: object): M {
    return (this as unknown as typeof BaseModel).fromDatabaseJson(row) as M;
  }

  override $beforeInsert(_context: QueryContext): void {
    this.created_at = nextTimestamp();
    this.updated_at = this.created_at;
  }

  override $beforeUpdate(options: ModelOptions, _context: QueryContext): void {
    const previous = (options.old as BaseModel | undefined)?.updated_at;
    this.updated_at = nextTimestamp(previous);
  }

  override $parseDatabaseJson(json: Pojo): Pojo {
    const parsed = super.$parseDatabaseJson(json);
    if ('created_at' in parsed) parsed.created_at = isoTimestamp(parsed.created_at);
    if ('updated_at' in parsed) parsed.updated_at = isoTimestamp(parsed.updated_at);
    return parsed;
  }
}

export class AgentModel extends BaseModel {
  static override tableName = 'agents';
  static override jsonAttributes = ['config'];
  name!: string;
  description!: string;
  config!: Record<string, unknown>;

  static override relationMappings = () => ({
    documents: { relation: Model.HasManyRelation, modelClass: DocumentModel, join: { from: 'agents.id', to: 'documents.agent_id' } },
    conversations: { relation: Model.HasManyRelation, modelClass: ConversationModel, join: { from: 'agents.id', to: 'conversations.agent_id' } },
  });

  toApi(): Agent {
    const { id, name, description, config, created_at, updated_at } = this;
    return { id, name, description, config, created_at, updated_at };
  }
}

export class TopicModel extends BaseModel {
  static override tableName = 'topics';
  name!: string;
  description!: string;

  static override relationMappings = () => ({
    documents: { relation: Model.HasManyRelation, modelClass: DocumentModel, join: { from: 'topics.id', to: 'documents.topic_id' } },
  });

  toApi(): Topic {
    const { id, name, description, created_at, updated_at } = this;
    return { id, name, description, created_at, updated_at };
  }
}

export class DocumentModel extends BaseModel {
  static override tableName = 'documents';
  filename!: string;
  original_filename!: string;
  /** Relative to the upload folder; never sent to clients. */
  file_path!: string;
  file_size!: number;
  mime_type!: string;
  topic_id!: number | null;
  agent_id!: number | null;
  /** pending (not read yet), indexed, empty (no text), or failed (see text_error). */
  text_status!: TextStatus;
  text_error!: string | null;

  static override relationMappings = () => ({
    topic: { relation: Model.BelongsToOneRelation, modelClass: TopicModel, join: { from: 'documents.topic_id', to: 'topics.id' } },
    agent: { relation: Model.BelongsToOneRelation, modelClass: AgentModel, join: { from: 'documents.agent_id', to: 'agents.id' } },
  });

  override $parseDatabaseJson(json: Pojo): Pojo {
    const parsed = super.$parseDatabaseJson(json);
    // PostgreSQL returns bigint columns as strings.
    if (typeof parsed.file_size === 'string') parsed.file_size = Number(parsed.file_size);
    return parsed;
  }

  toApi(): Document {
    const { id, filename, original_filename, file_size, mime_type, topic_id, agent_id, created_at, updated_at } = this;
    return { id, filename, original_filename, file_size, mime_type, topic_id, agent_id, created_at, updated_at };
  }
}

export class ConversationModel extends BaseModel {
  static override tableName = 'conversations';
  title!: string;
  agent_id!: number | null;

  static override relationMappings = () => ({
    agent: { relation: Model.BelongsToOneRelation, modelClass: AgentModel, join: { from: 'conversations.agent_id', to: 'agents.id' } },
    messages: { relation: Model.HasManyRelation, modelClass: MessageModel, join: { from: 'conversations.id', to: 'messages.conversation_id' } },
  });

  toApi(): Conversation {
    const { id, title, agent_id, created_at, updated_at } = this;
    return { id, title, agent_id, created_at, updated_at };
  }
}

export class MessageModel extends BaseModel {
  static override tableName = 'messages';
  conversation_id!: number;
  sender!: string;
  content!: string;

  static override relationMappings = () => ({
    conversation: { relation: Model.BelongsToOneRelation, modelClass: ConversationModel, join: { from: 'messages.conversation_id', to: 'conversations.id' } },
  });

  toApi(): Message {
    const { id, conversation_id, sender, content, created_at, updated_at } = this;
    return { id, conversation_id, sender, content, created_at, updated_at };
  }
}

/** The models bound to one context's knex instance (no global `Model.knex()`). */
export function bindModels(knex: Knex) {
  return {
    Agent: AgentModel.bindKnex(knex),
    Topic: TopicModel.bindKnex(knex),
    Document: DocumentModel.bindKnex(knex),
    Conversation: ConversationModel.bindKnex(knex),
    Message: MessageModel.bindKnex(knex),
  };
}

export type Models = ReturnType<typeof bindModels>;
