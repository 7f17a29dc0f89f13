import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class AgentsDelete extends DanaCommand<typeof AgentsDelete> {
  static override summary = 'Delete an agent; its documents and conversations are kept, detached.';
  static override examples = ['<%= config.bin %> <%= command.id %> 3'];
  static override args = { id: idArg('Agent') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.agents.delete(this.args.id));
  }
}
