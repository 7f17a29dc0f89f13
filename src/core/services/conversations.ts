// Conversations: a title, optionally an agent, and their messages.
import { NotFoundError } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import { toConversation, toMessage } from '../db/rows.js';
import {
  ConversationCreateSchema, ConversationListQuerySchema, ConversationUpdateSchema,
  type Conversation, type ConversationCreate, type ConversationListQuery, type ConversationUpdate,
  type ConversationWithMessages, type Deleted, type Page,
} from '../schemas.js';
import { assertReferenceExists, deleted, findOr404, readById, readPage, type ServiceDeps } from './support.js';

export const MESSAGES_IN_CONVERSATION = 1000;

export class ConversationService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(query: Record<string, unknown> = {}): Promise<Page<Conversation>> {
    const { skip, limit, agent_id } = validateText<ConversationListQuery>(ConversationListQuerySchema, query);
    return readPage(this.deps.sql, 'conversations', { agent_id }, { skip, limit }, toConversation);
  }

  /**
   * The conversation with its most recent messages (at most MESSAGES_IN_CONVERSATION), oldest
   * first. The bound keeps one GET's memory bounded however long a conversation grows; the
   * messages route pages through all of them.
   */
  async get(id: number): Promise<ConversationWithMessages> {
    const conversation = await readById(this.deps.sql, 'conversations', id, 'Conversation', toConversation);
    const messages = await this.deps.sql.all(
      'SELECT * FROM (SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?) recent ORDER BY id',
      [id, MESSAGES_IN_CONVERSATION],
    );
    return { ...conversation, messages: messages.map(toMessage) };
  }

  async create(input: unknown): Promise<Conversation> {
    const data = validateBody<ConversationCreate>(ConversationCreateSchema, input);
    return this.deps.knex.transaction(async (trx) => {
      await assertReferenceExists(trx, 'agents', data.agent_id, ['body', 'agent_id'], 'Agent');
      return (await this.deps.models.Conversation.query(trx).insert({ agent_id: null, ...data })).toApi();
    });
  }

  async update(id: number, input: unknown): Promise<Conversation> {
    const changes = validateBody<ConversationUpdate>(ConversationUpdateSchema, input);
    return this.deps.knex.transaction(async (trx) => {
      const conversation = await findOr404(this.deps.models.Conversation.query(trx).findById(id), 'Conversation');
      await assertReferenceExists(trx, 'agents', changes.agent_id, ['body', 'agent_id'], 'Agent');
      return (await conversation.$query(trx).patchAndFetch(changes)).toApi();
    });
  }

  /** Its messages go with it (ON DELETE CASCADE). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Conversation.query().deleteById(id);
    if (!count) throw new NotFoundError('Conversation not found');
    return deleted('Conversation');
  }
}
