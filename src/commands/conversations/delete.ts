import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class ConversationsDelete extends DanaCommand<typeof ConversationsDelete> {
  static override summary = 'Delete a conversation and its messages.';
  static override examples = ['<%= config.bin %> <%= command.id %> 7'];
  static override args = { id: idArg('Conversation') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.conversations.delete(this.args.id));
  }
}
