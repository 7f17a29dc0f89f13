import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { definedOnly, idArg } from '../../cli/flags.js';

export default class TopicsUpdate extends DanaCommand<typeof TopicsUpdate> {
  static override summary = 'Rename a topic or change its description.';
  static override examples = ['<%= config.bin %> <%= command.id %> 2 --description "Papers from 2024 on"'];
  static override args = { id: idArg('Topic') };
  static override flags = {
    name: Flags.string({ description: 'New name (unique).' }),
    description: Flags.string({ description: 'New description.' }),
  };

  async run() {
    const { services } = await this.openContext();
    const changes = definedOnly({ name: this.flags.name, description: this.flags.description });
    return this.showRecord(await services.topics.update(this.args.id, changes));
  }
}
