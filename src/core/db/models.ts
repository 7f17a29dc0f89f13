// Objection models: what each table is, how rows relate, how timestamps and JSON columns
// are written and read. Queries live in the services. The classes are defined the first
// time a context needs them (its first write), so commands that only read never load
// objection (CommonJS, hence the synchronous require).
import { createRequire } from 'node:module';
import type { ModelOptions, Pojo, QueryContext } from 'objection';
import type { Knex } from 'knex';
import { isoTimestamp, nextTimestamp, toAgent, toConversation, toDocument, toMessage, toTopic } from './rows.js';

const require = createRequire(import.meta.url);

export type TextStatus = 'pending' | 'indexed' | 'failed';

function defineModels() {
  const { Model } = require('objection') as typeof import('objection');

  class BaseModel extends Model {
    id!: number;
    created_at!: string;
    updated_at!: string;

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

  class AgentModel extends BaseModel {
    static override tableName = 'agents';
    static override jsonAttributes = ['config'];
    name!: string;
    description!: string;
    config!: Record<string, unknown>;

    static override relationMappings = () => ({
      documents: { relation: Model.HasManyRelation, modelClass: DocumentModel, join: { from: 'agents.id', to: 'documents.agent_id' } },
      conversations: { relation: Model.HasManyRelation, modelClass: ConversationModel, join: { from: 'agents.id', to: 'conversations.agent_id' } },
    });

    toApi() {
      return toAgent(this as unknown as Record<string, unknown>);
    }
  }

  class TopicModel extends BaseModel {
    static override tableName = 'topics';
    name!: string;
    description!: string;

    static override relationMappings = () => ({
      documents: { relation: Model.HasManyRelation, modelClass: DocumentModel, join: { from: 'topics.id', to: 'documents.topic_id' } },
    });

    toApi() {
      return toTopic(this as unknown as Record<string, unknown>);
    }
  }

  class DocumentModel extends BaseModel {
    static override tableName = 'documents';
    filename!: string;
    original_filename!: string;
    /** Relative to the upload folder; never sent to clients. */
    file_path!: string;
    file_size!: number;
    mime_type!: string;
    sha256!: string;
    topic_id!: number | null;
    agent_id!: number | null;
    /** pending (not read yet), indexed (searchable, possibly no text at all), or failed (see text_error). */
    text_status!: TextStatus;
    text_error!: string | null;

    static override relationMappings = () => ({
      topic: { relation: Model.BelongsToOneRelation, modelClass: TopicModel, join: { from: 'documents.topic_id', to: 'topics.id' } },
      agent: { relation: Model.BelongsToOneRelation, modelClass: AgentModel, join: { from: 'documents.agent_id', to: 'agents.id' } },
    });

    toApi() {
      return toDocument(this as unknown as Record<string, unknown>);
    }
  }

  class ConversationModel extends BaseModel {
    static override tableName = 'conversations';
    title!: string;
    agent_id!: number | null;

    static override relationMappings = () => ({
      agent: { relation: Model.BelongsToOneRelation, modelClass: AgentModel, join: { from: 'conversations.agent_id', to: 'agents.id' } },
      messages: { relation: Model.HasManyRelation, modelClass: MessageModel, join: { from: 'conversations.id', to: 'messages.conversation_id' } },
    });

    toApi() {
      return toConversation(this as unknown as Record<string, unknown>);
    }
  }

  class MessageModel extends BaseModel {
    static override tableName = 'messages';
    static override jsonAttributes = ['sources'];
    conversation_id!: number;
    sender!: string;
    content!: string;
    sources!: Array<Record<string, unknown>> | null;

    static override relationMappings = () => ({
      conversation: { relation: Model.BelongsToOneRelation, modelClass: ConversationModel, join: { from: 'messages.conversation_id', to: 'conversations.id' } },
    });

    toApi() {
      return toMessage(this as unknown as Record<string, unknown>);
    }
  }

  return { AgentModel, TopicModel, DocumentModel, ConversationModel, MessageModel };
}

let classes: ReturnType<typeof defineModels> | undefined;

/** The models bound to one context's knex instance (no global `Model.knex()`). */
export function bindModels(knex: Knex) {
  classes ??= defineModels();
  return {
    Agent: classes.AgentModel.bindKnex(knex),
    Topic: classes.TopicModel.bindKnex(knex),
    Document: classes.DocumentModel.bindKnex(knex),
    Conversation: classes.ConversationModel.bindKnex(knex),
    Message: classes.MessageModel.bindKnex(knex),
  };
}

export type Models = ReturnType<typeof bindModels>;
type Classes = ReturnType<typeof defineModels>;
export type AgentModel = InstanceType<Classes['AgentModel']>;
export type TopicModel = InstanceType<Classes['TopicModel']>;
export type DocumentModel = InstanceType<Classes['DocumentModel']>;
export type ConversationModel = InstanceType<Classes['ConversationModel']>;
export type MessageModel = InstanceType<Classes['MessageModel']>;
export type BaseModel = AgentModel | TopicModel | DocumentModel | ConversationModel | MessageModel;
