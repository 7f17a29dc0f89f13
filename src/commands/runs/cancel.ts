import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class RunsCancel extends DanaCommand<typeof RunsCancel> {
  static override summary = 'Cancel a queued or running run; its worker stops within a second.';
  static override description = 'Results stored before the cancel are kept. A run that has already finished cannot be cancelled (exit code 4).';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', '<%= config.bin %> <%= command.id %> 7 --json'];
  static override args = { id: idArg('Run') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.runs.cancel(this.args.id));
  }
}
