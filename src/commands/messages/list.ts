import { DanaCommand } from '../../cli/base-command.js';
import { MESSAGE_COLUMNS } from '../../cli/columns.js';
import { conversationFlag, listFlags } from '../../cli/flags.js';

export default class MessagesList extends DanaCommand<typeof MessagesList> {
  static override summary = 'List the messages of a conversation, oldest first.';
  static override examples = ['<%= config.bin %> <%= command.id %> --conversation 7', '<%= config.bin %> <%= command.id %> --conversation 7 --limit 20 --json'];
  static override flags = { conversation: conversationFlag, ...listFlags };

  async run() {
    const { services } = await this.openContext();
    return this.showPage((query) => services.messages.list(this.flags.conversation, query), MESSAGE_COLUMNS, 'No messages in this conversation yet.');
  }
}
