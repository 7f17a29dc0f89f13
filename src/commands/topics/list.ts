import { DanaCommand } from '../../cli/base-command.js';
import { TOPIC_COLUMNS } from '../../cli/columns.js';
import { listFlags } from '../../cli/flags.js';

export default class TopicsList extends DanaCommand<typeof TopicsList> {
  static override summary = 'List topics.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override flags = { ...listFlags };

  async run() {
    const { services } = await this.openContext();
    return this.showPage((query) => services.topics.list(query), TOPIC_COLUMNS, 'No topics yet. Create one with: dana topics create --name NAME');
  }
}
