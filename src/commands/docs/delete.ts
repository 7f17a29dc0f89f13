import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';

export default class DocsDelete extends DanaCommand<typeof DocsDelete> {
  static override summary = 'Delete a document and its file.';
  static override examples = ['<%= config.bin %> <%= command.id %> 4'];
  static override args = { id: idArg('Document') };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.documents.delete(this.args.id));
  }
}
