import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class ConversationsFork extends DanaCommand<typeof ConversationsFork> {
  static override summary = 'Copy a conversation, up to one of its messages, into a new conversation.';
  static override description = 'The original stays as it is; continue the copy with dana chat --conversation NEW_ID.';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', 'Keep messages up to and including message 15\n<%= config.bin %> <%= command.id %> 7 --at 15'];
  static override args = { id: idArg('Conversation') };
  static override flags = {
    at: Flags.integer({ description: 'Id of the last message the copy keeps (default: all of them).', min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.conversations.fork(this.args.id, this.flags.at === undefined ? {} : { message_id: this.flags.at }));
  }
}
