// Messages, always addressed through their conversation: a message of another
// conversation is "not found", never reachable by id alone.
import { NotFoundError } from '../errors.js';
import type { MessageModel } from '../db/models.js';
import { validateBody, validateText } from '../validation.js';
import { TABLES } from '../db/tables.js';
import {
  MessageCreateSchema, MessageListQuerySchema, MessageUpdateSchema,
  type Deleted, type FilteredListQuery, type Message, type MessageCreate, type MessageUpdate, type Page, type Source,
} from '../schemas.js';
import { deleted, findOr404,  readById, readOne, readPage, type Db, type ServiceDeps } from './support.js';

export class MessageService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(conversationId: number, query: Record<string, unknown> = {}): Promise<Page<Message>> {
    const listing = validateText<FilteredListQuery>(MessageListQuerySchema, query);
    await readById(this.deps.sql, TABLES.conversations, conversationId);
    return readPage(this.deps.sql, TABLES.messages, { conversation_id: conversationId }, listing);
  }

  async get(conversationId: number, id: number): Promise<Message> {
    await readById(this.deps.sql, TABLES.conversations, conversationId);
    return readOne(this.deps.sql, TABLES.messages, { id, conversation_id: conversationId });
  }

  /** Adds a message and bumps its conversation's `updated_at`, together. */
  async create(conversationId: number, input: unknown): Promise<Message> {
    const data = validateBody<MessageCreate>(MessageCreateSchema, input);
    return this.deps.knex.transaction(async (trx) => (await this.append(trx, conversationId, [data]))[0]);
  }

  /**
   * Appends messages to a conversation inside the caller's transaction (the chat service
   * stores a question and its reply, with the reply's sources, this way: both or neither).
   */
  async append(trx: Db, conversationId: number, messages: Array<MessageCreate & { sources?: Source[] }>): Promise<Message[]> {
    const conversation = await this.requireConversation(conversationId, trx);
    const stored: Message[] = [];
    for (const message of messages) {
      stored.push(await this.deps.models.Message.insertRow({ conversation_id: conversationId, ...message }, trx));
    }
    // An empty patch: the model's update hook advances updated_at past its previous value.
    if (stored.length) await conversation.$query(trx).patch({});
    return stored;
  }

  async update(conversationId: number, id: number, input: unknown): Promise<Message> {
    const changes = validateBody<MessageUpdate>(MessageUpdateSchema, input);
    return this.deps.knex.transaction(async (trx) => {
      await this.requireConversation(conversationId, trx);
      const message = await this.find(conversationId, id, trx);
      return message.patchRow(changes, trx);
    });
  }

  async delete(conversationId: number, id: number): Promise<Deleted> {
    return this.deps.knex.transaction(async (trx) => {
      await this.requireConversation(conversationId, trx);
      const count = await this.deps.models.Message.query(trx).where({ id, conversation_id: conversationId }).delete();
      if (!count) throw new NotFoundError('Message not found');
      return deleted('Message');
    });
  }

  private requireConversation(conversationId: number, db?: Db) {
    return findOr404(this.deps.models.Conversation.query(db).findById(conversationId), TABLES.conversations.label);
  }

  private find(conversationId: number, id: number, db?: Db): Promise<MessageModel> {
    return findOr404(this.deps.models.Message.query(db).findOne({ id, conversation_id: conversationId }), 'Message');
  }
}
