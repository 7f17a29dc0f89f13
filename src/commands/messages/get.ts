import { DanaCommand } from '../../cli/base-command.js';
import { conversationFlag, idArg } from '../../cli/flags.js';

export default class MessagesGet extends DanaCommand<typeof MessagesGet> {
  static override summary = 'Show one message.';
  static override examples = ['<%= config.bin %> <%= command.id %> 15 --conversation 7'];
  static override args = { id: idArg('Message') };
  static override flags = { conversation: conversationFlag };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.messages.get(this.flags.conversation, this.args.id));
  }
}
