import { DanaCommand } from '../../cli/base-command.js';
import { yesFlag } from '../../cli/confirm.js';
import { conversationFlag, idArg } from '../../cli/flags.js';

export default class MessagesDelete extends DanaCommand<typeof MessagesDelete> {
  static override summary = 'Delete a message.';
  static override examples = ['<%= config.bin %> <%= command.id %> 15 --conversation 7', 'Delete without asking (in a script nothing is asked anyway)\n<%= config.bin %> <%= command.id %> 15 --conversation 7 --yes'];
  static override args = { id: idArg('Message') };
  static override flags = { conversation: conversationFlag, yes: yesFlag };

  async run() {
    const { services } = await this.openContext();
    const message = await services.messages.get(this.flags.conversation, this.args.id);
    await this.confirmDeletion(`Delete message ${message.id} (${message.sender}) of conversation ${message.conversation_id}?`);
    return this.showRecord(await services.messages.delete(this.flags.conversation, this.args.id));
  }
}
