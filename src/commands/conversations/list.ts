import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { CONVERSATION_COLUMNS } from '../../cli/columns.js';
import { pagingFlags } from '../../cli/flags.js';

export default class ConversationsList extends DanaCommand<typeof ConversationsList> {
  static override summary = 'List conversations.';
  static override examples = ['<%= config.bin %> <%= command.id %>', 'Only one agent\'s conversations\n<%= config.bin %> <%= command.id %> --agent 1'];
  static override flags = {
    ...pagingFlags,
    agent: Flags.integer({ description: 'Only conversations of this agent.', aliases: ['agent-id'], min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    const page = await services.conversations.list({ skip: this.flags.skip, limit: this.flags.limit, agent_id: this.flags.agent });
    return this.showList(page.items, CONVERSATION_COLUMNS, 'No conversations yet. Start one with: dana chat --agent ID');
  }
}
