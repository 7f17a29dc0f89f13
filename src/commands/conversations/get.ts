import { DanaCommand } from '../../cli/base-command.js';
import { MESSAGE_COLUMNS } from '../../cli/columns.js';
import { idArg } from '../../cli/flags.js';
import { formatRecord, formatTable } from '../../cli/output.js';

export default class ConversationsGet extends DanaCommand<typeof ConversationsGet> {
  static override summary = 'Show a conversation and its messages.';
  static override description = 'Shows at most its 1,000 most recent messages, oldest first; dana messages list --conversation ID pages through all of them.';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', '<%= config.bin %> <%= command.id %> 7 --json'];
  static override args = { id: idArg('Conversation') };

  async run() {
    const { services } = await this.openContext();
    const conversation = await services.conversations.get(this.args.id);
    if (!this.jsonEnabled()) {
      const { messages, ...fields } = conversation;
      this.log(formatRecord(fields));
      this.log(`messages: ${messages.length}`);
      if (messages.length) this.log(`\n${formatTable(messages, MESSAGE_COLUMNS)}`);
    }
    return conversation;
  }
}
