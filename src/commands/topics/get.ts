import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class TopicsGet extends DanaCommand<typeof TopicsGet> {
  static override summary = 'Show one topic.';
  static override examples = ['<%= config.bin %> <%= command.id %> 2'];
  static override args = { id: idArg('Topic') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.topics.get(this.args.id));
  }
}
