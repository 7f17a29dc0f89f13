import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';

export default class ConversationsCreate extends DanaCommand<typeof ConversationsCreate> {
  static override summary = 'Create a conversation.';
  static override examples = ['<%= config.bin %> <%= command.id %> --title "Planning" --agent 1'];
  static override flags = {
    title: Flags.string({ description: 'Title (1 to 200 characters).', required: true }),
    agent: Flags.integer({ description: 'Id of the agent it is with.', aliases: ['agent-id'], min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    const input = this.flags.agent === undefined ? { title: this.flags.title } : { title: this.flags.title, agent_id: this.flags.agent };
    return this.showRecord(await services.conversations.create(input));
  }
}
