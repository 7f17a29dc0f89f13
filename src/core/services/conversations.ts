// Conversations: a title, optionally an agent, and their messages.
import { NotFoundError } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import { TABLES } from '../db/tables.js';
import {
  ConversationCreateSchema, ConversationListQuerySchema, ConversationUpdateSchema,
  type Conversation, type ConversationCreate, type ConversationListQuery, type ConversationUpdate,
  type ConversationWithMessages, type Deleted, type Message, type Page,
} from '../schemas.js';
import { assertReferenceExists, deleted, findOr404,  readById, readPage, type ServiceDeps } from './support.js';

export const MESSAGES_IN_CONVERSATION = 1000;
// Messages read from the database at once while a conversation is streamed.
const MESSAGES_PER_READ = 50;
const pageOfMessages = `SELECT ${TABLES.messages.columns.join(', ')} FROM messages WHERE conversation_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?`;

export class ConversationService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(query: Record<string, unknown> = {}): Promise<Page<Conversation>> {
    const { agent_id, ...listing } = validateText<ConversationListQuery>(ConversationListQuerySchema, query);
    return readPage(this.deps.sql, TABLES.conversations, { agent_id }, listing);
  }

  /**
   * The conversation with its most recent messages (at most MESSAGES_IN_CONVERSATION), oldest
   * first; the messages route pages through all of them.
   */
  async get(id: number): Promise<ConversationWithMessages> {
    const { conversation, messages } = await this.read(id);
    const all: Message[] = [];
    for await (const message of messages) all.push(message);
    return { ...conversation, messages: all };
  }

  /**
   * The same as `get`, with the messages read a page at a time as they are consumed: a
   * server streaming a long conversation to many clients holds a page per client, not a
   * thousand messages of up to 100,000 characters each. Throws 404 before any message.
   */
  async read(id: number): Promise<{ conversation: Conversation; messages: AsyncIterable<Message> }> {
    const { sql } = this.deps;
    const conversation = await readById(sql, TABLES.conversations, id);
    // The window is fixed now: messages added while it is read belong to a later GET.
    const bounds = await sql.first<{ first_id: number | null; last_id: number | null }>(
      `SELECT (SELECT id FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 1 OFFSET ${MESSAGES_IN_CONVERSATION - 1}) AS first_id,
              (SELECT MAX(id) FROM messages WHERE conversation_id = ?) AS last_id`,
      [id, id],
    );
    async function* messages(): AsyncGenerator<Message> {
      let after = Number(bounds?.first_id ?? 1) - 1;
      const last = Number(bounds?.last_id ?? 0);
      while (after < last) {
        const page = await sql.all(pageOfMessages, [id, after, last, MESSAGES_PER_READ]);
        if (!page.length) return;
        for (const row of page) yield TABLES.messages.toApi(row);
        after = Number(page[page.length - 1].id);
      }
    }
    return { conversation, messages: messages() };
  }

  async create(input: unknown): Promise<Conversation> {
    const data = validateBody<ConversationCreate>(ConversationCreateSchema, input);
    return this.deps.knex.transaction(async (trx) => {
      await assertReferenceExists(trx, TABLES.agents, data.agent_id, ['body', 'agent_id']);
      return this.deps.models.Conversation.insertRow(data, trx);
    });
  }

  async update(id: number, input: unknown): Promise<Conversation> {
    const changes = validateBody<ConversationUpdate>(ConversationUpdateSchema, input);
    return this.deps.knex.transaction(async (trx) => {
      const conversation = await findOr404(this.deps.models.Conversation.query(trx).findById(id), 'Conversation');
      await assertReferenceExists(trx, TABLES.agents, changes.agent_id, ['body', 'agent_id']);
      return conversation.patchRow(changes, trx);
    });
  }

  /** Its messages go with it (ON DELETE CASCADE). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Conversation.query().deleteById(id);
    if (!count) throw new NotFoundError('Conversation not found');
    return deleted('Conversation');
  }
}
