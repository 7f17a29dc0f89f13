import { DanaCommand } from '../../cli/base-command.js';
import { MESSAGE_COLUMNS } from '../../cli/columns.js';
import { conversationFlag, pagingFlags } from '../../cli/flags.js';

export default class MessagesList extends DanaCommand<typeof MessagesList> {
  static override summary = 'List the messages of a conversation, oldest first.';
  static override examples = ['<%= config.bin %> <%= command.id %> --conversation 7', '<%= config.bin %> <%= command.id %> --conversation 7 --limit 20 --json'];
  static override flags = { conversation: conversationFlag, ...pagingFlags };

  async run() {
    const { services } = await this.openContext();
    const page = await services.messages.list(this.flags.conversation, { skip: this.flags.skip, limit: this.flags.limit });
    return this.showList(page.items, MESSAGE_COLUMNS, 'No messages in this conversation yet.');
  }
}
