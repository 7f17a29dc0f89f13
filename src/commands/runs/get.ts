import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class RunsGet extends DanaCommand<typeof RunsGet> {
  static override summary = 'Show one run: its status, progress and, once answered, its output.';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', '<%= config.bin %> <%= command.id %> 7 --json'];
  static override args = { id: idArg('Run') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.runs.get(this.args.id));
  }
}
