import { DanaCommand } from '../../cli/base-command.js';
import { TOPIC_COLUMNS } from '../../cli/columns.js';
import { pagingFlags } from '../../cli/flags.js';

export default class TopicsList extends DanaCommand<typeof TopicsList> {
  static override summary = 'List topics.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override flags = { ...pagingFlags };

  async run() {
    const { services } = await this.openContext();
    const page = await services.topics.list({ skip: this.flags.skip, limit: this.flags.limit });
    return this.showList(page.items, TOPIC_COLUMNS, 'No topics yet. Create one with: dana topics create --name NAME');
  }
}
