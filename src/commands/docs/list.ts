import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { DOCUMENT_COLUMNS } from '../../cli/columns.js';
import { pagingFlags } from '../../cli/flags.js';

export default class DocsList extends DanaCommand<typeof DocsList> {
  static override summary = 'List documents.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'The documents of one topic, as JSON\n<%= config.bin %> <%= command.id %> --topic 2 --json',
  ];
  static override flags = {
    ...pagingFlags,
    topic: Flags.integer({ description: 'Only documents in this topic.', aliases: ['topic-id'], min: 1 }),
    agent: Flags.integer({ description: 'Only documents of this agent.', aliases: ['agent-id'], min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    const { skip, limit, topic, agent } = this.flags;
    const page = await services.documents.list({ skip, limit, topic_id: topic, agent_id: agent });
    return this.showList(page.items, DOCUMENT_COLUMNS, 'No documents yet. Add some with: dana docs upload FILE');
  }
}
