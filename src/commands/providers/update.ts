import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { definedOnly } from '../../cli/flags.js';

export default class ProvidersUpdate extends DanaCommand<typeof ProvidersUpdate> {
  static override summary = 'Change a provider: only the flags given.';
  static override description = 'The built-in providers keep their URL and key variable: "openai" may take another --model, and either built-in may become the --default. --no-default hands the default back to "local".';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ollama --model qwen2.5',
    'Use OpenAI for every agent that names no provider\n<%= config.bin %> <%= command.id %> openai --model gpt-4o-mini --default',
    'Embed passages with an embedding model of the same server (retrieval becomes hybrid once they are embedded)\n<%= config.bin %> <%= command.id %> ollama --embedding-model nomic-embed-text',
    'Back to full-text retrieval only\n<%= config.bin %> <%= command.id %> ollama --embedding-model none',
    '<%= config.bin %> <%= command.id %> together --api-key-env TOGETHER_KEY --no-default',
  ];
  static override args = { name: Args.string({ description: 'Provider name.', required: true }) };
  static override flags = {
    'base-url': Flags.string({ description: 'New endpoint.' }),
    'api-key-env': Flags.string({ description: 'New name of the variable holding the API key.' }),
    model: Flags.string({ description: "New model used when an agent's config names none." }),
    'embedding-model': Flags.string({ description: 'New embedding model ("none": retrieve by full text only; stored vectors are kept for when it returns).' }),
    default: Flags.boolean({ description: 'Make it the default provider (--no-default: "local" becomes the default again).', allowNo: true }),
  };

  async run() {
    const { services } = await this.openContext();
    const { flags } = this;
    return this.showRecord(await services.providers.update(this.args.name, definedOnly({
      base_url: flags['base-url'], api_key_env: flags['api-key-env'], model: flags.model,
      embedding_model: flags['embedding-model']?.toLowerCase() === 'none' ? null : flags['embedding-model'], is_default: flags.default,
    })));
  }
}
