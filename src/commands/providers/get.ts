import * as Args from '@oclif/core/args';
import { DanaCommand } from '../../cli/base-command.js';

export default class ProvidersGet extends DanaCommand<typeof ProvidersGet> {
  static override summary = 'Show one provider.';
  static override examples = ['<%= config.bin %> <%= command.id %> openai', '<%= config.bin %> <%= command.id %> ollama --json'];
  static override args = { name: Args.string({ description: 'Provider name.', required: true }) };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.providers.get(this.args.name));
  }
}
