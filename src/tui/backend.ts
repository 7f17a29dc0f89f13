// What the chat screen needs from Dana: one turn as a stream of events, and the agents and
// conversations it can switch to. Built over the real services; the screen itself knows
// nothing of databases or runners.
import type { DanaContext } from '../core/context.js';
import type { ChatEvent } from '../core/chat/service.js';
import type { Agent, Conversation, ConversationWithMessages, Message, Run, RunEvent } from '../core/schemas.js';
import { workIfUnclaimed } from '../cli/run-follow.js';

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
  /** Queues a run of this agent (/run TEXT). */
  startRun(input: string): Promise<Run>;
  /**
   * The run's events until it ends or `signal` aborts; when no worker takes it, this process
   * works on it (and `note` says so), handing it back to the queue if the chat stops following.
   */
  followRun(run: Run, signal: AbortSignal, note: (line: string) => void): AsyncIterable<RunEvent>;
  /** Resolves once runs worked on here are finished or handed back (before the context closes). */
  settled(): Promise<void>;
}

export function chatBackend(context: DanaContext, agent: Agent, handingBack = new Set<Promise<void>>()): ChatBackend {
  const { chat, agents, conversations } = context.services;
  return {
    agent,
    async *send(message, conversationId, signal) {
      const prepared = await chat.prepare({ message, agent_id: agent.id, conversation_id: conversationId ?? null });
      yield* chat.stream(prepared, signal);
    },
    async forAgent(agentId) {
      return chatBackend(context, await agents.get(agentId), handingBack);
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
    startRun(input) {
      return context.services.runs.create(agent.id, { input });
    },
    async *followRun(run, signal, note) {
      // Registered from the start: the chat may be left before this generator reaches `finally`.
      let release = () => undefined as void;
      const finished = new Promise<void>((resolve) => {
        release = resolve;
      });
      handingBack.add(finished);
      const following = new AbortController();
      const stop = () => following.abort();
      signal.addEventListener('abort', stop, { once: true });
      let failure: Error | undefined;
      const fallback = workIfUnclaimed(context, run, note, (error) => {
        failure = error;
        following.abort();
      });
      try {
        yield* context.services.runs.watch(run.id, { signal: following.signal });
        if (failure) throw failure;
      } finally {
        signal.removeEventListener('abort', stop);
        try {
          await fallback.finish(signal.aborted);
        } finally {
          handingBack.delete(finished);
          release();
        }
      }
    },
    async settled() {
      await Promise.allSettled([...handingBack]);
    },
  };
}

/** The messages shown when the chat opens on an existing conversation. */
export async function conversationHistory(context: DanaContext, conversationId: number): Promise<Message[]> {
  return (await context.services.conversations.get(conversationId)).messages;
}
