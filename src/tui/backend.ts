// What the chat screen needs from Dana: one turn as a stream of events, and the agents and
// conversations it can switch to. Built over the real services; the screen itself knows
// nothing of databases or runners.
import type { DanaContext } from '../core/context.js';
import type { ChatEvent } from '../core/chat/service.js';
import type { Agent, Conversation, ConversationWithMessages, Message } from '../core/schemas.js';

/** How many of an agent's conversations /history lists, most recently updated first. */
export const HISTORY_LISTED = 20;

export interface ChatBackend {
  agent: Agent;
  send(message: string, conversationId: number | undefined, signal: AbortSignal): AsyncIterable<ChatEvent>;
  /** The same chat, talking to another agent (/agent ID). */
  forAgent(agentId: number): Promise<ChatBackend>;
  /** This agent's conversations, most recently updated first (/history). */
  recentConversations(): Promise<Conversation[]>;
  /** A conversation and its messages (/open ID). */
  conversation(id: number): Promise<ConversationWithMessages>;
}

export function chatBackend(context: DanaContext, agent: Agent): ChatBackend {
  const { chat, agents, conversations } = context.services;
  return {
    agent,
    async *send(message, conversationId, signal) {
      const prepared = await chat.prepare({ message, agent_id: agent.id, conversation_id: conversationId ?? null });
      yield* chat.stream(prepared, signal);
    },
    async forAgent(agentId) {
      return chatBackend(context, await agents.get(agentId));
    },
    async recentConversations() {
      const all: Conversation[] = [];
      for (let skip = 0; ; skip += 1000) {
        const page = await conversations.list({ agent_id: agent.id, skip, limit: 1000 });
        all.push(...page.items);
        if (page.items.length < 1000) break;
      }
      return all.sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id - a.id).slice(0, HISTORY_LISTED);
    },
    conversation(id) {
      return conversations.get(id);
    },
  };
}

/** The messages shown when the chat opens on an existing conversation. */
export async function conversationHistory(context: DanaContext, conversationId: number): Promise<Message[]> {
  return (await context.services.conversations.get(conversationId)).messages;
}
