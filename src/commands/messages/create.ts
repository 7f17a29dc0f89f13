import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { conversationFlag } from '../../cli/flags.js';

export default class MessagesCreate extends DanaCommand<typeof MessagesCreate> {
  static override summary = 'Add a message to a conversation (no agent reply: use `dana chat` for that).';
  static override examples = ['<%= config.bin %> <%= command.id %> --conversation 7 --sender user --content "hi"'];
  static override flags = {
    conversation: conversationFlag,
    sender: Flags.string({ description: 'Who wrote it, e.g. user or agent (1 to 50 characters).', required: true }),
    content: Flags.string({ description: 'The text.', required: true }),
  };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.messages.create(this.flags.conversation, { sender: this.flags.sender, content: this.flags.content }));
  }
}
