import { DanaCommand } from '../../cli/base-command.js';
import { yesFlag } from '../../cli/confirm.js';
import { idArg } from '../../cli/flags.js';

export default class ConversationsDelete extends DanaCommand<typeof ConversationsDelete> {
  static override summary = 'Delete a conversation and its messages.';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', 'Delete without asking (in a script nothing is asked anyway)\n<%= config.bin %> <%= command.id %> 7 --yes'];
  static override args = { id: idArg('Conversation') };
  static override flags = { yes: yesFlag };

  async run() {
    const { services } = await this.openContext();
    const conversation = await services.conversations.get(this.args.id);
    await this.confirmDeletion(`Delete conversation ${conversation.id} "${conversation.title}" and its ${conversation.messages.length} messages?`);
    return this.showRecord(await services.conversations.delete(this.args.id));
  }
}
