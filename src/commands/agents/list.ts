import { DanaCommand } from '../../cli/base-command.js';
import { AGENT_COLUMNS } from '../../cli/columns.js';
import { pagingFlags } from '../../cli/flags.js';

export default class AgentsList extends DanaCommand<typeof AgentsList> {
  static override summary = 'List agents.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'Page through agents as JSON for scripts\n<%= config.bin %> <%= command.id %> --skip 100 --limit 100 --json',
  ];
  static override flags = { ...pagingFlags };

  async run() {
    const { services } = await this.openContext();
    const page = await services.agents.list({ skip: this.flags.skip, limit: this.flags.limit });
    return this.showList(page.items, AGENT_COLUMNS, 'No agents yet. Create one with: dana agents create --name NAME');
  }
}
