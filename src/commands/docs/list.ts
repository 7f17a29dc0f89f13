import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { DOCUMENT_COLUMNS } from '../../cli/columns.js';
import { listFlags } from '../../cli/flags.js';

export default class DocsList extends DanaCommand<typeof DocsList> {
  static override summary = 'List documents.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'Documents whose file name contains "manual", by name\n<%= config.bin %> <%= command.id %> --search manual --sort original_filename',
    'The documents of one topic, as JSON\n<%= config.bin %> <%= command.id %> --topic 2 --json',
  ];
  static override flags = {
    ...listFlags,
    topic: Flags.integer({ description: 'Only documents in this topic.', aliases: ['topic-id'], min: 1 }),
    agent: Flags.integer({ description: 'Only documents of this agent.', aliases: ['agent-id'], min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    const { topic, agent } = this.flags;
    return this.showPage((query) => services.documents.list({ ...query, topic_id: topic, agent_id: agent }), DOCUMENT_COLUMNS, 'No documents yet. Add some with: dana docs upload FILE');
  }
}
