import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { definedOnly, idArg, parseOptionalReference } from '../../cli/flags.js';

export default class ConversationsUpdate extends DanaCommand<typeof ConversationsUpdate> {
  static override summary = 'Rename a conversation or move it to another agent.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 7 --title "Q3 planning"',
    'Detach it from its agent\n<%= config.bin %> <%= command.id %> 7 --agent none',
  ];
  static override args = { id: idArg('Conversation') };
  static override flags = {
    title: Flags.string({ description: 'New title.' }),
    agent: Flags.string({ description: 'Agent id, or "none" to detach.', aliases: ['agent-id'] }),
  };

  async run() {
    const { services } = await this.openContext();
    const changes = definedOnly({ title: this.flags.title, agent_id: parseOptionalReference(this.flags.agent, 'agent_id') });
    return this.showRecord(await services.conversations.update(this.args.id, changes));
  }
}
