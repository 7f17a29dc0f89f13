import * as Args from '@oclif/core/args';
import { DanaCommand } from '../../cli/base-command.js';

export default class ProvidersRemove extends DanaCommand<typeof ProvidersRemove> {
  static override summary = 'Remove a provider you added.';
  static override description = 'The built-in "local" and "openai" cannot be removed (exit 4); an unknown name exits 3. Agents that name a removed provider fail to chat (exit 5 / HTTP 502) and to update (exit 2 / HTTP 422) until their config names another one.';
  static override examples = ['<%= config.bin %> <%= command.id %> ollama'];
  static override args = { name: Args.string({ description: 'Provider name.', required: true }) };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.providers.remove(this.args.name));
  }
}
