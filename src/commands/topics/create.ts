import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';

export default class TopicsCreate extends DanaCommand<typeof TopicsCreate> {
  static override summary = 'Create a topic to group documents (names are unique).';
  static override examples = ['<%= config.bin %> <%= command.id %> --name "Research Papers" --description "Academic papers and articles"'];
  static override flags = {
    name: Flags.string({ description: 'Topic name, unique (1 to 200 characters).', required: true }),
    description: Flags.string({ description: 'What belongs in it.', default: '' }),
  };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.topics.create({ name: this.flags.name, description: this.flags.description }));
  }
}
