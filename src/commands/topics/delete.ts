import { DanaCommand } from '../../cli/base-command.js';
import { yesFlag } from '../../cli/confirm.js';
import { idArg } from '../../cli/flags.js';

export default class TopicsDelete extends DanaCommand<typeof TopicsDelete> {
  static override summary = 'Delete a topic; its documents are kept, detached.';
  static override examples = ['<%= config.bin %> <%= command.id %> 2', 'Delete without asking (in a script nothing is asked anyway)\n<%= config.bin %> <%= command.id %> 2 --yes'];
  static override args = { id: idArg('Topic') };
  static override flags = { yes: yesFlag };

  async run() {
    const { services } = await this.openContext();
    const topic = await services.topics.get(this.args.id);
    await this.confirmDeletion(`Delete topic ${topic.id} "${topic.name}"? Its documents are kept.`);
    return this.showRecord(await services.topics.delete(this.args.id));
  }
}
