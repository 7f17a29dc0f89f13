import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class TopicsDelete extends DanaCommand<typeof TopicsDelete> {
  static override summary = 'Delete a topic; its documents are kept, detached.';
  static override examples = ['<%= config.bin %> <%= command.id %> 2'];
  static override args = { id: idArg('Topic') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.topics.delete(this.args.id));
  }
}
