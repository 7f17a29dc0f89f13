// A chat turn: the message goes to the agent's runner, and only once the runner has
// answered are the conversation (if new), the user message and the reply stored, together.
// A failed or cancelled turn stores nothing.
import { CancelledError, ConflictError, NotFoundError, RunnerError } from '../errors.js';
import { validateBody } from '../validation.js';
import { TABLES } from '../db/tables.js';
import { ChatRequestSchema, type Agent, type ChatRequest, type ChatResponse, type Conversation, type Message, type Source } from '../schemas.js';
import type { SearchScope } from '../search/index.js';
import type { Retriever } from '../search/retriever.js';
import type { DocumentService } from '../services/documents.js';
import type { EmbeddingService } from '../services/embeddings.js';
import type { MessageService } from '../services/messages.js';
import type { ServiceDeps } from '../services/support.js';
import type { ProviderService } from '../services/providers.js';
import type { ChatRegistry } from './registry.js';
import type { ChatRunner, RunnerEvent } from './runner.js';

// Runners keep what fits their budget (a model's context window); this only bounds what is read.
const HISTORY_MESSAGES = 200;
const TITLE_LENGTH = 60;

export type ChatEvent = { type: 'delta'; text: string } | { type: 'done'; response: ChatResponse };

/** A checked request: the agent and conversation exist and belong together. */
export interface PreparedChat {
  request: ChatRequest;
  agent: Agent;
  conversation?: Conversation;
  history: Message[];
}

export interface ChatDeps extends ServiceDeps {
  registry: ChatRegistry;
  /** One per registered kind, the default first. */
  retrievers: Map<string, Retriever>;
  documents: DocumentService;
  messages: MessageService;
  providers: ProviderService;
  /** Fuses vector search into retrieval for agents whose provider has an embedding model. */
  embeddings: EmbeddingService;
  /** The environment of the process that answers: where provider keys are read, at chat time. */
  env: Record<string, string | undefined>;
}

export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /** Everything that can fail before the runner starts: 422, 404, 409. */
  async prepare(input: unknown): Promise<PreparedChat> {
    const request = validateBody<ChatRequest>(ChatRequestSchema, input);
    const { agent, conversation } = await this.participants(request.agent_id, request.conversation_id ?? undefined);
    if (!conversation) return { request, agent, history: [] };
    const recent = await this.deps.sql.all(
      'SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?',
      [conversation.id, HISTORY_MESSAGES],
    );
    return { request, agent, conversation, history: recent.reverse().map(TABLES.messages.toApi) };
  }

  /** The agent, and the conversation when one is named: it must exist and be this agent's (or no one's). */
  async participants(agentId: number, conversationId?: number): Promise<{ agent: Agent; conversation?: Conversation }> {
    const { sql } = this.deps;
    const agentRow = await sql.first('SELECT * FROM agents WHERE id = ?', [agentId]);
    if (!agentRow) throw new NotFoundError(`Agent ${agentId} not found`);
    const agent = TABLES.agents.toApi(agentRow);
    if (conversationId === undefined) return { agent };
    const conversationRow = await sql.first('SELECT * FROM conversations WHERE id = ?', [conversationId]);
    if (!conversationRow) throw new NotFoundError(`Conversation ${conversationId} not found`);
    const conversation = TABLES.conversations.toApi(conversationRow);
    if (conversation.agent_id !== null && conversation.agent_id !== agent.id) {
      throw new ConflictError(`Conversation ${conversation.id} belongs to agent ${conversation.agent_id}, not agent ${agent.id}`);
    }
    return { agent, conversation };
  }

  /**
   * Which runner will answer: the provider the config names, else the default one, read
   * now (a provider changed from the CLI counts at once), and the runner of its kind.
   * RunnerError for a provider that does not exist, or whose key variable is not set.
   */
  async runnerFor(agent: Agent): Promise<ChatRunner> {
    const config = agent.config as Record<string, unknown>;
    const provider = await this.deps.providers.resolve(config.provider);
    return this.deps.registry.runner(provider.runner).create(config, provider, { env: this.deps.env });
  }

  /** The retriever the config names, else the default. RunnerError for one no longer registered. */
  retrieverFor(agent: Agent): Retriever {
    const { retrievers } = this.deps;
    const chosen = (agent.config as { retriever?: unknown }).retriever ?? retrievers.keys().next().value;
    const retriever = typeof chosen === 'string' ? retrievers.get(chosen) : undefined;
    if (!retriever) throw new RunnerError(`retriever ${JSON.stringify(chosen)} does not exist (known: ${[...retrievers.keys()].join(', ')})`);
    return retriever;
  }

  /** The reply as it is produced, then the stored turn. Throws RunnerError if the runner fails. */
  async *stream(prepared: PreparedChat, signal: AbortSignal = new AbortController().signal): AsyncGenerator<ChatEvent> {
    const { agent, request } = prepared;
    const runner = await this.runnerFor(agent);
    const retriever = this.retrieverFor(agent);
    const scope = scopeOf(agent);
    const search = await this.deps.embeddings.searchFor(agent, retriever, scope, { earlier: earlierUserTurns(prepared.history) });
    let finished: Extract<RunnerEvent, { type: 'done' }> | undefined;
    const events = runner.run({
      agent,
      message: request.message,
      history: prepared.history,
      library: () => this.deps.documents.library(scope),
      search,
      unreadable: () => this.deps.documents.unreadable(scope),
      signal,
    });
    for await (const event of events) {
      if (signal.aborted) return;
      if (event.type === 'delta') yield event;
      else finished = event;
    }
    if (signal.aborted || !finished) return;
    const { conversationId, replyId } = await this.store(prepared, finished);
    yield {
      type: 'done',
      response: {
        success: true,
        message: request.message,
        conversation_id: conversationId,
        message_id: replyId,
        agent_response: finished.reply,
        context: request.context ?? null,
        error: null,
        runner: runner.name,
        sources: finished.sources,
      },
    };
  }

  /** The stored turn without the deltas, for callers that do not stream. */
  async complete(prepared: PreparedChat, signal?: AbortSignal): Promise<ChatResponse> {
    for await (const event of this.stream(prepared, signal)) if (event.type === 'done') return event.response;
    throw new CancelledError('The chat was cancelled');
  }

  /** A whole turn from an unchecked request. */
  async send(input: unknown, signal?: AbortSignal): Promise<ChatResponse> {
    return this.complete(await this.prepare(input), signal);
  }

  private async store(prepared: PreparedChat, reply: { reply: string; sources: Source[] }): Promise<{ conversationId: number; replyId: number }> {
    const { Conversation } = this.deps.models;
    const { agent, request } = prepared;
    return this.deps.knex.transaction(async (trx) => {
      let conversationId: number;
      if (prepared.conversation) {
        conversationId = prepared.conversation.id;
        // A conversation without an agent is taken over by the one answering in it.
        await trx('conversations').where({ id: conversationId, agent_id: null }).update({ agent_id: agent.id });
      } else {
        conversationId = (await Conversation.query(trx).insert({ title: titleFrom(request.message), agent_id: agent.id })).id;
      }
      const [, stored] = await this.deps.messages.append(trx, conversationId, [
        { sender: 'user', content: request.message },
        { sender: 'agent', content: reply.reply, sources: reply.sources },
      ]);
      return { conversationId, replyId: stored.id };
    });
  }
}

/** What the user said before, the latest first: a short follow-up is searched with these words too. */
function earlierUserTurns(history: Message[]): string[] {
  return history.filter((message) => message.sender === 'user').map((message) => message.content).reverse();
}

/** The agent's documents: its own, plus the topics listed in `config.topic_ids`. */
export function scopeOf(agent: Agent): SearchScope {
  const topicIds = (agent.config as { topic_ids?: unknown }).topic_ids;
  return {
    agentId: agent.id,
    topicIds: Array.isArray(topicIds) ? topicIds.filter((id): id is number => Number.isSafeInteger(id) && id > 0) : [],
  };
}

/** A new conversation's title: the message's first non-empty line, cut to 60 characters. */
export function titleFrom(message: string): string {
  const line = message.split(/\r?\n/).map((text) => text.trim()).find(Boolean) ?? 'Chat';
  const characters = [...line];
  return characters.length > TITLE_LENGTH ? `${characters.slice(0, TITLE_LENGTH - 1).join('')}…` : line;
}
