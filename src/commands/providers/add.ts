import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { definedOnly } from '../../cli/flags.js';

export default class ProvidersAdd extends DanaCommand<typeof ProvidersAdd> {
  static override summary = 'Add a model provider: an OpenAI-compatible endpoint and the variable holding its key.';
  static override description = 'NAME is 1 to 50 of a-z 0-9 _ -. The key itself is never stored: the process that answers a chat (dana chat, or dana serve) reads it from the variable named by --api-key-env at that moment, and sends it to --base-url only. Agents use a provider with --config \'{"provider":"NAME"}\'; --default makes it answer for agents whose config names none.';
  static override examples = [
    'A local Ollama server (no key)\n<%= config.bin %> <%= command.id %> ollama --base-url http://127.0.0.1:11434/v1 --model llama3.2',
    'A local Ollama server that also embeds passages, so its agents retrieve by meaning as well as by words\n<%= config.bin %> <%= command.id %> ollama --base-url http://127.0.0.1:11434/v1 --model llama3.2 --embedding-model nomic-embed-text',
    'A hosted server whose key is in $TOGETHER_API_KEY, used by every agent that names no provider\n<%= config.bin %> <%= command.id %> together --base-url https://api.together.xyz/v1 --api-key-env TOGETHER_API_KEY --model meta-llama/Llama-3.3-70B-Instruct-Turbo --default',
  ];
  static override args = { name: Args.string({ description: 'Provider name (a-z 0-9 _ -).', required: true }) };
  static override flags = {
    'base-url': Flags.string({ description: 'The OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1.', required: true }),
    'api-key-env': Flags.string({ description: 'Name of the environment variable holding the API key (not the key).' }),
    model: Flags.string({ description: "Model used when an agent's config names none." }),
    'embedding-model': Flags.string({
      description: "Embedding model of the provider's /embeddings endpoint: its agents' passages are embedded in the background and retrieval fuses full-text and vector results.",
    }),
    default: Flags.boolean({ description: 'Answer for agents whose config names no provider.' }),
  };

  async run() {
    const { services } = await this.openContext();
    const { flags } = this;
    return this.showRecord(await services.providers.add(definedOnly({
      name: this.args.name, base_url: flags['base-url'], api_key_env: flags['api-key-env'], model: flags.model,
      embedding_model: flags['embedding-model'], is_default: flags.default || undefined,
    })));
  }
}
