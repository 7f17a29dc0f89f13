import { DanaCommand } from '../../cli/base-command.js';
import { yesFlag } from '../../cli/confirm.js';
import { idArg } from '../../cli/flags.js';

export default class AgentsDelete extends DanaCommand<typeof AgentsDelete> {
  static override summary = 'Delete an agent; its documents and conversations are kept, detached.';
  static override examples = ['<%= config.bin %> <%= command.id %> 3', 'Delete without asking (in a script nothing is asked anyway)\n<%= config.bin %> <%= command.id %> 3 --yes'];
  static override args = { id: idArg('Agent') };
  static override flags = { yes: yesFlag };

  async run() {
    const { services } = await this.openContext();
    const agent = await services.agents.get(this.args.id);
    await this.confirmDeletion(`Delete agent ${agent.id} "${agent.name}"? Its documents and conversations are kept.`);
    return this.showRecord(await services.agents.delete(this.args.id));
  }
}
