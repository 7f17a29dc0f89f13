import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { CONVERSATION_COLUMNS } from '../../cli/columns.js';
import { listFlags } from '../../cli/flags.js';

export default class ConversationsList extends DanaCommand<typeof ConversationsList> {
  static override summary = 'List conversations.';
  static override examples = ['<%= config.bin %> <%= command.id %>', 'Only one agent\'s conversations\n<%= config.bin %> <%= command.id %> --agent 1',
    'The most recently active conversations first, every page\n<%= config.bin %> <%= command.id %> --sort -updated_at --all',
  ];
  static override flags = {
    ...listFlags,
    agent: Flags.integer({ description: 'Only conversations of this agent.', aliases: ['agent-id'], min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    return this.showPage((query) => services.conversations.list({ ...query, agent_id: this.flags.agent }), CONVERSATION_COLUMNS, 'No conversations yet. Start one with: dana chat --agent ID');
  }
}
