import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { escapeControls } from '../cli/output.js';
import { startSpinner } from '../cli/spinner.js';
import { wantsColour } from '../cli/style.js';
import { ValidationError } from '../core/errors.js';
import type { ChatResponse } from '../core/schemas.js';

export default class Chat extends DanaCommand<typeof Chat> {
  static override summary = 'Chat with an agent: one question, or an interactive chat on a terminal.';
  static override description = [
    'With --message, or with a message piped on standard input, the reply streams to standard output and the command exits;',
    'sources go to standard error; on a terminal a spinner shows on standard error until the first words arrive.',
    'On a terminal without --message, the interactive chat opens: Markdown replies, Up/Down for what you typed before,',
    '/sources, /history, /open ID, /agent ID, /new, /help, /exit; Ctrl-C stops a reply, and leaves when pressed again or at an empty prompt.',
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
    const message = this.flags.message ?? (this.io.stdin.isTTY ? undefined : await readAll(this.io.stdin));
    if (this.flags.message === undefined && message !== undefined && !message.trim()) {
      throw ValidationError.field(['args', 'standard input'], 'empty: pipe a message in, or pass one with -m TEXT', 'missing');
    }
    if (message === undefined) {
      const { agent } = await chat.participants(agentId, conversationId);
      const { runChatApp } = await import('../tui/run.js');
      await runChatApp(context, agent, conversationId, this.io, { colour: wantsColour(this.io.stdout, this.io.env, this.flags.color) });
      return undefined;
    }
    const prepared = await chat.prepare({ message, agent_id: agentId, conversation_id: conversationId ?? null });
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    process.once('SIGINT', interrupt);
    let response: ChatResponse | undefined;
    // Until the first token: a slow model can think for a while before it says anything.
    const stopSpinner = startSpinner(this.io.stderr, 'Thinking…');
    try {
      for await (const event of chat.stream(prepared, controller.signal)) {
        stopSpinner();
        if (event.type === 'done') response = event.response;
        else if (!this.jsonEnabled()) this.io.stdout.write(escapeControls(event.text));
      }
    } finally {
      stopSpinner();
      process.off('SIGINT', interrupt);
    }
    if (!response) this.exit(130);
    if (!this.jsonEnabled()) this.printFooter(response as ChatResponse);
    return response;
  }

  private printFooter(response: ChatResponse): void {
    this.io.stdout.write('\n');
    if (response.sources.length) {
      this.note(`\nSources: ${escapeControls(response.sources.map((s) => `${s.original_filename} (document ${s.document_id})`).join(', '))}`);
    }
    if (this.io.stderr.isTTY) this.note(`Conversation ${response.conversation_id}: continue with --conversation ${response.conversation_id}`);
  }
}

async function readAll(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8').trimEnd();
}
