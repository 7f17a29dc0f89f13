import { DanaCommand } from '../../cli/base-command.js';
import { yesFlag } from '../../cli/confirm.js';
import { idArg } from '../../cli/flags.js';

export default class RunsDelete extends DanaCommand<typeof RunsDelete> {
  static override summary = 'Delete a finished run with its results and events.';
  static override description = 'Only a run that succeeded, failed or was cancelled; cancel a queued or running run first (exit code 4 otherwise).';
  static override examples = ['<%= config.bin %> <%= command.id %> 7', 'Delete without asking (in a script nothing is asked anyway)\n<%= config.bin %> <%= command.id %> 7 --yes'];
  static override args = { id: idArg('Run') };
  static override flags = { yes: yesFlag };

  async run() {
    const { services } = await this.openContext();
    const run = await services.runs.get(this.args.id);
    await this.confirmDeletion(`Delete run ${run.id} (${run.status}) and its ${run.done} result${run.done === 1 ? '' : 's'}?`);
    return this.showRecord(await services.runs.delete(this.args.id));
  }
}
