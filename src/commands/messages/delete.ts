import { DanaCommand } from '../../cli/base-command.js';
import { conversationFlag, idArg } from '../../cli/flags.js';

export default class MessagesDelete extends DanaCommand<typeof MessagesDelete> {
  static override summary = 'Delete a message.';
  static override examples = ['<%= config.bin %> <%= command.id %> 15 --conversation 7'];
  static override args = { id: idArg('Message') };
  static override flags = { conversation: conversationFlag };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.messages.delete(this.flags.conversation, this.args.id));
  }
}
