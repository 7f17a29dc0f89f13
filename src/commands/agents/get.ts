import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class AgentsGet extends DanaCommand<typeof AgentsGet> {
  static override summary = 'Show one agent.';
  static override examples = ['<%= config.bin %> <%= command.id %> 3', '<%= config.bin %> <%= command.id %> 3 --json'];
  static override args = { id: idArg('Agent') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.agents.get(this.args.id));
  }
}
