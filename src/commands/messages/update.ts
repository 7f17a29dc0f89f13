import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { conversationFlag, definedOnly, idArg } from '../../cli/flags.js';

export default class MessagesUpdate extends DanaCommand<typeof MessagesUpdate> {
  static override summary = 'Edit a message.';
  static override examples = ['<%= config.bin %> <%= command.id %> 15 --conversation 7 --content "hello"'];
  static override args = { id: idArg('Message') };
  static override flags = {
    conversation: conversationFlag,
    sender: Flags.string({ description: 'New sender.' }),
    content: Flags.string({ description: 'New text.' }),
  };

  async run() {
    const { services } = await this.openContext();
    const changes = definedOnly({ sender: this.flags.sender, content: this.flags.content });
    return this.showRecord(await services.messages.update(this.flags.conversation, this.args.id, changes));
  }
}
