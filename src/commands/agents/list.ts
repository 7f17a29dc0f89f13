import { DanaCommand } from '../../cli/base-command.js';
import { AGENT_COLUMNS } from '../../cli/columns.js';
import { listFlags } from '../../cli/flags.js';

export default class AgentsList extends DanaCommand<typeof AgentsList> {
  static override summary = 'List agents.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'Agents whose name contains "support", newest first\n<%= config.bin %> <%= command.id %> --search support --sort -created_at',
    'Page through agents as JSON for scripts\n<%= config.bin %> <%= command.id %> --skip 100 --limit 100 --json',
  ];
  static override flags = { ...listFlags };

  async run() {
    const { services } = await this.openContext();
    return this.showPage((query) => services.agents.list(query), AGENT_COLUMNS, 'No agents yet. Create one with: dana agents create --name NAME');
  }
}
