import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { escapeControls } from '../cli/output.js';
import type { ChatResponse } from '../core/schemas.js';

export default class Chat extends DanaCommand<typeof Chat> {
  static override summary = 'Chat with an agent: one question, or an interactive chat on a terminal.';
  static override description = [
    'With --message, or with a message piped on standard input, the reply streams to standard output and the command exits;',
    'sources go to standard error. On a terminal without --message, the interactive chat opens (/help, /new, /exit, Ctrl-C).',
    'Agents answer offline from their documents unless their config names a model (provider "openai").',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> <%= command.id %> --agent 1 -m "What does the paper conclude?"',
    'Continue a conversation\n<%= config.bin %> <%= command.id %> --agent 1 --conversation 7 -m "And the limitations?"',
    'Pipe a question in, get the whole response as JSON\necho "Summarise my notes" | <%= config.bin %> <%= command.id %> --agent 1 --json',
    'Open the interactive chat\n<%= config.bin %> <%= command.id %> --agent 1',
  ];
  static override flags = {
    agent: Flags.integer({ description: 'Id of the agent to talk to.', required: true, aliases: ['agent-id'], min: 1 }),
    conversation: Flags.integer({ description: 'Continue this conversation (default: start a new one).', aliases: ['conversation-id'], min: 1 }),
    message: Flags.string({ char: 'm', description: 'The message; without it, standard input is read when it is not a terminal.' }),
  };

  async run() {
    const context = await this.openContext();
    const { chat } = context.services;
    const { agent: agentId, conversation: conversationId } = this.flags;
    const message = this.flags.message ?? (process.stdin.isTTY ? undefined : await readStdin());
    if (message === undefined) {
      const { agent } = await chat.participants(agentId, conversationId);
      const { runChatApp } = await import('../tui/run.js');
      await runChatApp(context, agent, conversationId);
      return undefined;
    }
    const prepared = await chat.prepare({ message, agent_id: agentId, conversation_id: conversationId ?? null });
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    let response: ChatResponse | undefined;
    for await (const event of chat.stream(prepared, controller.signal)) {
      if (event.type === 'done') response = event.response;
      else if (!this.jsonEnabled()) process.stdout.write(escapeControls(event.text));
    }
    if (!response) this.exit(130);
    if (!this.jsonEnabled()) this.printFooter(response as ChatResponse);
    return response;
  }

  private printFooter(response: ChatResponse): void {
    process.stdout.write('\n');
    if (response.sources.length) {
      process.stderr.write(`\nSources: ${escapeControls(response.sources.map((s) => `${s.original_filename} (document ${s.document_id})`).join(', '))}\n`);
    }
    if (process.stderr.isTTY) {
      process.stderr.write(`Conversation ${response.conversation_id}: continue with --conversation ${response.conversation_id}\n`);
    }
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trimEnd();
}
