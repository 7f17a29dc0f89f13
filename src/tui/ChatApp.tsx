// The interactive chat: finished messages scroll up in <Static>, the reply being written
// streams below them (Markdown rendered as it comes), and a prompt waits at the bottom.
// Lines typed while a reply streams wait in a queue and run in order; Ctrl-C stops the
// reply in progress, and leaves when pressed again or at an empty prompt.
import { useCallback, useRef, useState } from 'react';
import { Box, Static, Text, useApp } from 'ink';
import Spinner from 'ink-spinner';
import { escapeControls, formatTimestamp } from '../cli/output.js';
import { NO_COLOURS, type Style } from '../cli/style.js';
import { toDanaError } from '../core/errors.js';
import type { Message, Run, RunEvent, Source } from '../core/schemas.js';
import type { ChatBackend } from './backend.js';
import type { PromptHistory } from './history.js';
import { LineInput } from './LineInput.js';
import { renderMarkdown } from './markdown.js';

export interface ChatItem {
  key: number;
  kind: 'user' | 'agent' | 'notice' | 'error';
  /** Escaped text; an agent's is the raw Markdown, escaped by the renderer. */
  text: string;
  agentName?: string;
  sources?: Source[];
}

export interface ChatAppProps {
  backend: ChatBackend;
  conversationId?: number;
  history?: Message[];
  /** What was typed in earlier sessions, for Up/Down; lines typed now are remembered in it. */
  promptHistory?: PromptHistory;
  /** Colours for Markdown (none by default: the command decides, from the terminal and NO_COLOR). */
  style?: Style;
}

const HELP = [
  'Type a message and press Enter to send it. Up and Down recall what you typed before.',
  '/sources     show the sources of the last reply in full',
  '/history     list this agent\'s recent conversations',
  '/open ID     continue conversation ID',
  '/agent ID    talk to agent ID (in a new conversation)',
  '/new         start a new conversation',
  '/run TEXT    start a run: the agent works on TEXT from its documents; its progress and answer show here',
  '/help        show this help',
  '/exit        leave',
  'Ctrl-C stops a reply in progress; pressed again, or at an empty prompt, it leaves.',
].join('\n');

let nextKey = 0;
// Stored text (names, messages, file names) is escaped once, where it enters the screen.
const item = (kind: ChatItem['kind'], text: string, extra: { agentName?: string; sources?: Source[] | null } = {}): ChatItem => ({
  key: nextKey++,
  kind,
  text: kind === 'agent' ? text : escapeControls(text),
  agentName: extra.agentName && escapeControls(extra.agentName),
  sources: extra.sources?.map((source) => ({ ...source, original_filename: escapeControls(source.original_filename), snippet: escapeControls(source.snippet) })),
});

const messageItem = (message: Message, agentName: string) =>
  item(message.sender === 'user' ? 'user' : 'agent', message.content, { agentName, sources: message.sources });

export function ChatApp({ backend: initialBackend, conversationId: initialConversation, history = [], promptHistory, style = NO_COLOURS }: ChatAppProps) {
  const { exit } = useApp();
  // Read by lines still waiting in the queue, after renders their closures never saw.
  const backend = useRef(initialBackend);
  const [agentName, setAgentName] = useState(escapeControls(initialBackend.agent.name));
  const [items, setItems] = useState<ChatItem[]>(() => [
    item('notice', `Chatting with ${initialBackend.agent.name} (agent ${initialBackend.agent.id})${initialConversation ? ` in conversation ${initialConversation}` : ''}. /help for commands.`),
    ...history.map((message) => messageItem(message, initialBackend.agent.name)),
  ]);
  const conversationId = useRef(initialConversation);
  const lastSources = useRef<Source[]>(history.findLast((message) => message.sender === 'agent')?.sources ?? []);
  const [reply, setReply] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  // The run being followed (/run): what the line under the messages says about it.
  const [runLine, setRunLine] = useState<string | undefined>();
  const turn = useRef<AbortController | undefined>(undefined);
  const followedRun = useRef<Run | undefined>(undefined);
  // Lines typed while a reply streams wait here and run in order once it ends.
  const queue = useRef<string[]>([]);
  const running = useRef(false);
  const left = useRef(false);
  const typed = useRef<string[]>(promptHistory ? promptHistory.entries : []);
  const add = (...added: ChatItem[]) => setItems((previous) => [...previous, ...added]);

  const leave = useCallback(() => {
    left.current = true;
    queue.current = [];
    turn.current?.abort();
    exit();
  }, [exit]);

  const interrupt = (hadText: boolean) => {
    const current = turn.current;
    if (current && !current.signal.aborted) {
      // Stop this reply (nothing of it is stored), or stop following the run, and the lines queued behind it.
      queue.current = [];
      current.abort();
      const run = followedRun.current;
      add(item('notice', run
        ? `Stopped following run ${run.id}; it goes on in the background (dana runs logs ${run.id} --follow). Ctrl-C again leaves.`
        : 'Stopped: nothing of this reply is stored. Ctrl-C again leaves.'));
    } else if (current || !hadText) leave();
  };

  const send = async (message: string) => {
    const controller = new AbortController();
    turn.current = controller;
    setBusy(true);
    add(item('user', message));
    let streamed = '';
    try {
      for await (const event of backend.current.send(message, conversationId.current, controller.signal)) {
        if (controller.signal.aborted) break;
        if (event.type === 'delta') {
          streamed += event.text;
          setReply(streamed);
        } else {
          conversationId.current = event.response.conversation_id;
          lastSources.current = event.response.sources;
          add(item('agent', event.response.agent_response, { agentName: backend.current.agent.name, sources: event.response.sources }));
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

  const startRun = async (input: string) => {
    if (!input) return add(item('error', 'Say what the agent should do: /run TEXT, e.g. /run List every date in my documents'));
    const run = await backend.current.startRun(input);
    const controller = new AbortController();
    turn.current = controller;
    followedRun.current = run;
    const agentName = backend.current.agent.name;
    add(item('notice', `Run ${run.id} started: ${agentName} works on it in the background; you can leave, and see it later with dana runs get ${run.id}.`));
    const progress = { status: run.status as string, done: 0, total: 0, activity: '' };
    const showProgress = () => setRunLine(escapeControls(`Run ${run.id} ${progress.status}${progress.total ? ` · ${progress.done} of ${progress.total} answered` : ''}${progress.activity ? ` · ${progress.activity}` : ''}`));
    showProgress();
    const show = (event: RunEvent) => {
      switch (event.type) {
        case 'status':
          progress.status = event.data.status;
          if (event.data.status === 'succeeded') add(item('notice', `Run ${run.id} succeeded.`));
          else if (event.data.status === 'failed') add(item('error', `Run ${run.id} failed${event.data.error ? `: ${event.data.error}` : ''}`));
          else if (event.data.status === 'cancelled') add(item('notice', `Run ${run.id} was cancelled.`));
          break;
        case 'progress':
          Object.assign(progress, event.data);
          break;
        case 'log':
          progress.activity = event.data.message.split('\n')[0];
          break;
        case 'result': {
          const { document_id: documentId, output, error, sources } = event.data;
          if (error) add(item('error', `Run ${run.id}${documentId === null ? '' : `, document ${documentId}`}: ${error}`));
          else add(item('agent', documentId === null ? output ?? '' : `**Document ${documentId}**\n\n${output ?? ''}`, { agentName, sources }));
          if (!error && sources.length) lastSources.current = sources;
          break;
        }
      }
      showProgress();
    };
    try {
      for await (const event of backend.current.followRun(run, controller.signal, (line) => add(item('notice', line)))) show(event);
    } finally {
      setRunLine(undefined);
      followedRun.current = undefined;
      turn.current = undefined;
    }
  };

  const showSources = () => {
    const sources = lastSources.current;
    if (!sources.length) return add(item('notice', 'The last reply has no sources.'));
    const text = sources.map((source, i) => `[${i + 1}] ${source.original_filename} (document ${source.document_id})\n${source.snippet.replace(/^/gm, '    ')}`).join('\n');
    add(item('notice', `Sources of the last reply:\n${text}`));
  };

  const switchAgent = async (id: number) => {
    backend.current = await backend.current.forAgent(id);
    conversationId.current = undefined;
    lastSources.current = [];
    setAgentName(escapeControls(backend.current.agent.name));
    add(item('notice', `Now chatting with ${backend.current.agent.name} (agent ${id}). Your next message starts a new conversation.`));
  };

  const listConversations = async () => {
    const { agent } = backend.current;
    const conversations = await backend.current.recentConversations();
    if (!conversations.length) return add(item('notice', `No conversations with ${agent.name} yet.`));
    const lines = conversations.map((c) => `${String(c.id).padStart(5)}  ${formatTimestamp(c.updated_at)}  ${c.title}`);
    add(item('notice', `Recent conversations with ${agent.name} (continue one with /open ID):\n${lines.join('\n')}`));
  };

  const openConversation = async (id: number) => {
    const conversation = await backend.current.conversation(id);
    const { agent } = backend.current;
    if (conversation.agent_id !== null && conversation.agent_id !== agent.id) {
      return add(item('error', `Conversation ${id} belongs to agent ${conversation.agent_id}: switch with /agent ${conversation.agent_id} first.`));
    }
    conversationId.current = id;
    lastSources.current = conversation.messages.findLast((message) => message.sender === 'agent')?.sources ?? [];
    add(
      item('notice', `Conversation ${id}: ${conversation.title}`),
      ...conversation.messages.map((message) => messageItem(message, agent.name)),
      item('notice', `Continuing conversation ${id}.`),
    );
  };

  const command = async (name: string, argument: string) => {
    const id = /^\d+$/.test(argument) ? Number(argument) : undefined;
    switch (name) {
      case '/exit':
      case '/quit':
        return leave();
      case '/help':
        return add(item('notice', HELP));
      case '/new':
        conversationId.current = undefined;
        return add(item('notice', 'New conversation: your next message starts it.'));
      case '/sources':
        return showSources();
      case '/history':
        return listConversations();
      case '/agent':
        return id ? switchAgent(id) : add(item('error', 'Say which agent: /agent ID (dana agents list shows them).'));
      case '/open':
        return id ? openConversation(id) : add(item('error', 'Say which conversation: /open ID (/history lists them).'));
      default:
        return add(item('error', `Unknown command ${name}. Type /help for the commands.`));
    }
  };

  const handle = async (message: string) => {
    if (!message.startsWith('/')) return send(message);
    const [name, argument = ''] = message.split(/\s+/, 2);
    try {
      // /run takes the rest of the line, spaces and all.
      if (name === '/run') await startRun(message.slice(name.length).trim());
      else await command(name, argument);
    } catch (error) {
      add(item('error', toDanaError(error)?.message ?? (error as Error).message));
    }
  };

  const submit = async (line: string) => {
    const message = line.trim();
    if (!message) return;
    promptHistory ? promptHistory.remember(message) : typed.current.push(message);
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
      <Static items={items}>{(entry) => <ChatLine key={entry.key} entry={entry} style={style} />}</Static>
      {busy && (
        <Box flexDirection="column" marginTop={1}>
          <Text color="green" bold>{agentName}</Text>
          {reply === undefined ? (
            <Text color="gray"><Spinner type="dots" /> Thinking… (Ctrl-C stops)</Text>
          ) : (
            <Text>{renderMarkdown(reply, style)}</Text>
          )}
        </Box>
      )}
      {runLine !== undefined && (
        <Box marginTop={1}>
          <Text color="gray"><Spinner type="dots" /> {runLine} (Ctrl-C stops following)</Text>
        </Box>
      )}
      <Box marginTop={1}>
        <Text color="cyan" bold>{'> '}</Text>
        <LineInput onLine={(line) => void submit(line)} onInterrupt={interrupt} history={typed.current} placeholder={busy || runLine !== undefined ? '' : 'Ask something, or /help'} />
      </Box>
    </Box>
  );
}

function ChatLine({ entry, style }: { entry: ChatItem; style: Style }) {
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
          <Text color="green" bold>{entry.agentName}</Text>
          <Text>{renderMarkdown(entry.text, style)}</Text>
          {entry.sources?.length ? (
            <Text color="gray">Sources: {entry.sources.map((source) => `${source.original_filename} (#${source.document_id})`).join(', ')} · /sources shows them</Text>
          ) : null}
        </Box>
      );
    case 'error':
      return <Text color="red">Error: {entry.text}</Text>;
    default:
      return <Text color="gray">{entry.text}</Text>;
  }
}
