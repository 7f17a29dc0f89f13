import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class DocsGet extends DanaCommand<typeof DocsGet> {
  static override summary = 'Show a document\'s metadata.';
  static override examples = ['<%= config.bin %> <%= command.id %> 4', '<%= config.bin %> <%= command.id %> 4 --json'];
  static override args = { id: idArg('Document') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.documents.get(this.args.id));
  }
}
