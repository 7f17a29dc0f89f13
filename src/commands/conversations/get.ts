import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';
import { escapeControls, formatRecord, formatTimestamp, wrapText } from '../../cli/output.js';
import type { Message } from '../../core/schemas.js';

export default class ConversationsGet extends DanaCommand<typeof ConversationsGet> {
  static override summary = 'Show a conversation and its messages.';
  static override description =
    'Every message is shown whole (wrapped to the terminal), each reply with its sources. Shows at most the 1,000 most recent messages, oldest first; dana messages list --conversation ID pages through all of them.';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', '<%= config.bin %> <%= command.id %> 7 --json'];
  static override args = { id: idArg('Conversation') };

  async run() {
    const { services } = await this.openContext();
    const conversation = await services.conversations.get(this.args.id);
    if (!this.jsonEnabled()) {
      const { messages, ...fields } = conversation;
      this.log(wrapText(formatRecord(fields), this.io.stdout.isTTY ? this.io.stdout.columns : undefined));
      this.log(`messages: ${messages.length}`);
      for (const message of messages) this.io.stdout.write(`\n${this.formatMessage(message)}\n`);
    }
    return conversation;
  }

  /** A transcript entry: who and when, the whole text indented, then the reply's sources. */
  private formatMessage(message: Message): string {
    const style = this.stdoutStyle();
    const columns = this.io.stdout.isTTY ? this.io.stdout.columns : undefined;
    const who = escapeControls(message.sender);
    const heading = `${style.bold(`#${message.id} ${message.sender === 'agent' ? style.green(who) : style.cyan(who)}`)} ${style.dim(formatTimestamp(message.created_at))}`;
    const lines = [heading, wrapText(escapeControls(message.content), columns, '  ')];
    if (message.sources?.length) {
      const sources = message.sources.map((source) => `${escapeControls(source.original_filename)} (document ${source.document_id})`).join(', ');
      lines.push(style.dim(wrapText(`Sources: ${sources}`, columns, '  ')));
    }
    return lines.join('\n');
  }
}
