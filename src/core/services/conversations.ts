// Conversations: a title, optionally an agent, and their messages.
import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import { TABLES } from '../db/tables.js';
import {
  ConversationCreateSchema, ConversationExportQuerySchema, ConversationForkSchema, ConversationImportSchema,
  ConversationListQuerySchema, ConversationUpdateSchema,
  type Conversation, type ConversationCreate, type ConversationExportQuery, type ConversationFork, type ConversationImport,
  type ConversationListQuery, type ConversationUpdate, type ConversationWithMessages, type Deleted, type Message, type Page,
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

  /**
   * The whole conversation as a file: JSON (the conversation with every message, the shape
   * `import` takes back) or Markdown for people to read.
   */
  async export(id: number, query: Record<string, unknown> = {}): Promise<{ filename: string; contentType: string; text: string }> {
    const { format } = validateText<ConversationExportQuery>(ConversationExportQuerySchema, query);
    const conversation = await readById(this.deps.sql, TABLES.conversations, id);
    const messages: Message[] = [];
    for await (const message of this.allMessages(id)) messages.push(message);
    if (format === 'md') {
      return { filename: `conversation-${id}.md`, contentType: 'text/markdown; charset=utf-8', text: toMarkdown(conversation, messages) };
    }
    return { filename: `conversation-${id}.json`, contentType: 'application/json; charset=utf-8', text: `${JSON.stringify({ ...conversation, messages }, null, 2)}\n` };
  }

  /**
   * A new conversation from an export: the same messages (senders, contents, sources and
   * timestamps), new ids. One transaction: an import that fails leaves nothing behind.
   */
  async import(input: unknown): Promise<Conversation> {
    const data = validateBody<ConversationImport>(ConversationImportSchema, input);
    return this.deps.knex.transaction(async (trx) => {
      await assertReferenceExists(trx, TABLES.agents, data.agent_id, ['body', 'agent_id']);
      const conversation = await this.deps.models.Conversation.insertRow({ title: data.title, agent_id: data.agent_id ?? null }, trx);
      await insertMessages(trx, conversation.id, data.messages.map((message) => ({
        sender: message.sender,
        content: message.content,
        sources: message.sources ?? null,
        created_at: message.created_at,
        updated_at: message.updated_at ?? message.created_at,
      })));
      return conversation;
    });
  }

  /**
   * A new conversation holding this one's messages up to and including `message_id` (all
   * of them without one), to try another turn from there while the original stays.
   */
  async fork(id: number, input: unknown = {}): Promise<Conversation> {
    // No body forks every message; a JSON body, even `null`, must be the object.
    const { message_id: lastId } = validateBody<ConversationFork>(ConversationForkSchema, input === undefined ? {} : input);
    return this.deps.knex.transaction(async (trx) => {
      const source = (await findOr404(this.deps.models.Conversation.query(trx).findById(id), 'Conversation')).toApi();
      if (lastId !== undefined && !(await trx('messages').select('id').where({ id: lastId, conversation_id: id }).first())) {
        throw ValidationError.field(['body', 'message_id'], `Message ${lastId} is not in conversation ${id}`, 'foreign_key');
      }
      const conversation = await this.deps.models.Conversation.insertRow({ title: forkTitle(source.title), agent_id: source.agent_id }, trx);
      // Copied inside the database, in id order: the fork's messages are exactly those the
      // original held when the transaction read them.
      const columns = 'sender, content, sources, created_at, updated_at';
      await trx.raw(
        `INSERT INTO messages (conversation_id, ${columns}) SELECT ?, ${columns} FROM messages WHERE conversation_id = ?${lastId === undefined ? '' : ' AND id <= ?'} ORDER BY id`,
        lastId === undefined ? [conversation.id, id] : [conversation.id, id, lastId],
      );
      return conversation;
    });
  }

  /** Every message of a conversation, oldest first, read a page at a time. */
  async *allMessages(id: number): AsyncGenerator<Message> {
    let after = 0;
    for (;;) {
      const page = await this.deps.sql.all(`SELECT ${TABLES.messages.columns.join(', ')} FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT ?`, [id, after, MESSAGES_PER_READ * 10]);
      if (!page.length) return;
      for (const row of page) yield TABLES.messages.toApi(row);
      after = Number(page[page.length - 1].id);
    }
  }

  /** Its messages go with it (ON DELETE CASCADE). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Conversation.query().deleteById(id);
    if (!count) throw new NotFoundError('Conversation not found');
    return deleted('Conversation');
  }
}

const INSERT_BATCH = 200;

/** Messages with timestamps of their own (an import), in order, in the caller's transaction. */
async function insertMessages(
  trx: Knex.Transaction,
  conversationId: number,
  messages: Array<{ sender: string; content: string; sources: unknown[] | null; created_at?: string; updated_at?: string }>,
): Promise<void> {
  const now = new Date().toISOString();
  const rows = messages.map((message) => {
    const created = message.created_at ? new Date(message.created_at).toISOString() : now;
    return {
      conversation_id: conversationId,
      sender: message.sender,
      content: message.content,
      sources: message.sources === null ? null : JSON.stringify(message.sources),
      created_at: created,
      updated_at: message.updated_at ? new Date(message.updated_at).toISOString() : created,
    };
  });
  for (let start = 0; start < rows.length; start += INSERT_BATCH) {
    await trx('messages').insert(rows.slice(start, start + INSERT_BATCH));
  }
}

function forkTitle(title: string): string {
  const suffix = ' (fork)';
  return title.length + suffix.length <= 200 ? title + suffix : `${title.slice(0, 200 - suffix.length - 1)}…${suffix}`;
}

/** A conversation as Markdown: its title, then each message under its sender and time, then its sources. */
export function toMarkdown(conversation: Conversation, messages: Message[]): string {
  const lines = [
    `# ${conversation.title}`,
    '',
    `Conversation ${conversation.id}${conversation.agent_id === null ? '' : ` with agent ${conversation.agent_id}`}, started ${conversation.created_at}, ${messages.length} message${messages.length === 1 ? '' : 's'}.`,
  ];
  for (const message of messages) {
    lines.push('', `## ${message.sender} · ${message.created_at}`, '', message.content);
    if (message.sources?.length) {
      lines.push('', 'Sources:');
      for (const source of message.sources) lines.push(`- ${source.original_filename} (document ${source.document_id}): ${source.snippet.replace(/\s+/g, ' ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
