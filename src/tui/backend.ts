// What the chat screen needs from Dana: one turn as a stream of events. Built over the
// real chat service; the screen itself knows nothing of databases or runners.
import type { DanaContext } from '../core/context.js';
import type { ChatEvent } from '../core/chat/service.js';
import type { Agent, Message } from '../core/schemas.js';

export interface ChatBackend {
  agent: Agent;
  send(message: string, conversationId: number | undefined, signal: AbortSignal): AsyncIterable<ChatEvent>;
}

export function chatBackend(context: DanaContext, agent: Agent): ChatBackend {
  const { chat } = context.services;
  return {
    agent,
    async *send(message, conversationId, signal) {
      const prepared = await chat.prepare({ message, agent_id: agent.id, conversation_id: conversationId ?? null });
      yield* chat.stream(prepared, signal);
    },
  };
}

/** The messages shown when the chat opens on an existing conversation. */
export async function conversationHistory(context: DanaContext, conversationId: number): Promise<Message[]> {
  return (await context.services.conversations.get(conversationId)).messages;
}
