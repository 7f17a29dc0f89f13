import { DanaCommand } from '../../cli/base-command.js';
import { yesFlag } from '../../cli/confirm.js';
import { idArg } from '../../cli/flags.js';

export default class DocsDelete extends DanaCommand<typeof DocsDelete> {
  static override summary = 'Delete a document and its file.';
  static override examples = ['<%= config.bin %> <%= command.id %> 4', 'Delete without asking (in a script nothing is asked anyway)\n<%= config.bin %> <%= command.id %> 4 --yes'];
  static override args = { id: idArg('Document') };
  static override flags = { yes: yesFlag };

  async run() {
    const { services } = await this.openContext();
    const document = await services.documents.get(this.args.id);
    await this.confirmDeletion(`Delete document ${document.id} "${document.original_filename}" and its file?`);
    return this.showRecord(await services.documents.delete(this.args.id));
  }
}
