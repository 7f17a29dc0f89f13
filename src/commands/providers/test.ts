import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';

export default class ProvidersTest extends DanaCommand<typeof ProvidersTest> {
  static override summary = 'Send a provider one small request and say what answered.';
  static override description = 'A one-token chat completion, with the key read from the provider\'s variable in this shell. Exit 5 when the provider does not answer, refuses the key, or its variable is not set.';
  static override examples = ['<%= config.bin %> <%= command.id %> ollama', '<%= config.bin %> <%= command.id %> openai --model gpt-4o-mini --json'];
  static override args = { name: Args.string({ description: 'Provider name.', required: true }) };
  static override flags = {
    model: Flags.string({ description: "Model to ask (default: the provider's model)." }),
  };

  async run() {
    const { services } = await this.openContext();
    const result = await services.providers.test(this.args.name, this.flags.model);
    if (!this.jsonEnabled()) this.log(result.message);
    return result;
  }
}
