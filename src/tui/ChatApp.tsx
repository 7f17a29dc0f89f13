// The interactive chat: finished messages scroll up in <Static>, the reply being written
// streams below them, and a prompt waits at the bottom.
import { useCallback, useRef, useState } from 'react';
import { Box, Static, Text, useApp, useInput } from 'ink';
import Spinner from 'ink-spinner';
import { escapeControls } from '../cli/output.js';
import type { Message, Source } from '../core/schemas.js';
import type { ChatBackend } from './backend.js';
import { LineInput } from './LineInput.js';

export interface ChatItem {
  key: number;
  kind: 'user' | 'agent' | 'notice' | 'error';
  text: string;
  sources?: Source[];
}

export interface ChatAppProps {
  backend: ChatBackend;
  conversationId?: number;
  history?: Message[];
}

const HELP = [
  'Type a message and press Enter to send it.',
  '/new   start a new conversation',
  '/help  show this help',
  '/exit  leave (or press Ctrl-C)',
].join('\n');

let nextKey = 0;
// Stored text (names, messages, replies, file names) is escaped once, where it enters the screen.
const item = (kind: ChatItem['kind'], text: string, sources?: Source[]): ChatItem => ({
  key: nextKey++,
  kind,
  text: escapeControls(text),
  sources: sources?.map((source) => ({ ...source, original_filename: escapeControls(source.original_filename) })),
});

export function ChatApp({ backend, conversationId: initialConversation, history = [] }: ChatAppProps) {
  const { exit } = useApp();
  const agentName = escapeControls(backend.agent.name);
  const [items, setItems] = useState<ChatItem[]>(() => [
    item('notice', `Chatting with ${backend.agent.name} (agent ${backend.agent.id})${initialConversation ? ` in conversation ${initialConversation}` : ''}. /help for commands.`),
    ...history.map((message) => item(message.sender === 'user' ? 'user' : 'agent', message.content)),
  ]);
  // Read by lines still waiting in the queue, after renders their closures never saw.
  const conversationId = useRef(initialConversation);
  const [reply, setReply] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const turn = useRef<AbortController | undefined>(undefined);
  // Lines typed while a reply streams wait here and run in order once it ends.
  const queue = useRef<string[]>([]);
  const running = useRef(false);
  const left = useRef(false);
  const add = (...added: ChatItem[]) => setItems((previous) => [...previous, ...added]);

  const leave = useCallback(() => {
    left.current = true;
    queue.current = [];
    turn.current?.abort();
    exit();
  }, [exit]);

  useInput((text, key) => {
    if (key.ctrl && text === 'c') leave();
  });

  const send = async (message: string) => {
    const controller = new AbortController();
    turn.current = controller;
    setBusy(true);
    add(item('user', message));
    let streamed = '';
    try {
      for await (const event of backend.send(message, conversationId.current, controller.signal)) {
        if (event.type === 'delta') {
          streamed += event.text;
          setReply(escapeControls(streamed));
        } else {
          conversationId.current = event.response.conversation_id;
          add(item('agent', event.response.agent_response, event.response.sources));
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) add(item('error', (error as Error).message));
    } finally {
      setReply(undefined);
      setBusy(false);
      turn.current = undefined;
    }
  };

  const handle = async (message: string) => {
    if (message === '/exit' || message === '/quit') return leave();
    if (message === '/help') return add(item('notice', HELP));
    if (message === '/new') {
      conversationId.current = undefined;
      return add(item('notice', 'New conversation: your next message starts it.'));
    }
    if (message.startsWith('/')) return add(item('error', `Unknown command ${message.split(/\s/)[0]}. Type /help for the commands.`));
    await send(message);
  };

  const submit = async (line: string) => {
    const message = line.trim();
    if (!message) return;
    queue.current.push(message);
    if (running.current) return;
    running.current = true;
    try {
      for (let next = queue.current.shift(); next !== undefined && !left.current; next = queue.current.shift()) await handle(next);
    } finally {
      running.current = false;
    }
  };

  return (
    <Box flexDirection="column">
      <Static items={items}>{(entry) => <ChatLine key={entry.key} entry={entry} agentName={agentName} />}</Static>
      {busy && (
        <Box flexDirection="column" marginTop={1}>
          <Text color="green" bold>{agentName}</Text>
          {reply === undefined ? (
            <Text color="gray"><Spinner type="dots" /> Thinking…</Text>
          ) : (
            <Text>{reply}</Text>
          )}
        </Box>
      )}
      <Box marginTop={1}>
        <Text color="cyan" bold>{'> '}</Text>
        <LineInput onLine={(line) => void submit(line)} placeholder={busy ? '' : 'Ask something, or /help'} />
      </Box>
    </Box>
  );
}

function ChatLine({ entry, agentName }: { entry: ChatItem; agentName: string }) {
  switch (entry.kind) {
    case 'user':
      return (
        <Box flexDirection="column" marginTop={1}>
          <Text color="cyan" bold>You</Text>
          <Text>{entry.text}</Text>
        </Box>
      );
    case 'agent':
      return (
        <Box flexDirection="column" marginTop={1}>
          <Text color="green" bold>{agentName}</Text>
          <Text>{entry.text}</Text>
          {entry.sources?.length ? (
            <Text color="gray">Sources: {entry.sources.map((source) => `${source.original_filename} (#${source.document_id})`).join(', ')}</Text>
          ) : null}
        </Box>
      );
    case 'error':
      return <Text color="red">Error: {entry.text}</Text>;
    default:
      return <Text color="gray">{entry.text}</Text>;
  }
}
