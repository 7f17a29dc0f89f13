import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { configFlags, readConfigFlags } from '../../cli/flags.js';

export default class AgentsCreate extends DanaCommand<typeof AgentsCreate> {
  static override summary = 'Create an agent.';
  static override description = 'The config chooses how the agent answers in chat: offline from its documents (the default) or through an OpenAI-compatible model.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name Researcher --description "Reads papers"',
    'Answer through a local Ollama model\n<%= config.bin %> <%= command.id %> --name Llama --config \'{"provider":"openai","base_url":"http://127.0.0.1:11434/v1","model":"llama3.2"}\'',
    '<%= config.bin %> <%= command.id %> --name Support --config-file ./support-agent.json --json',
  ];
  static override flags = {
    name: Flags.string({ description: 'Agent name (1 to 200 characters).', required: true }),
    description: Flags.string({ description: 'What the agent is for.', default: '' }),
    ...configFlags,
  };

  async run() {
    const { services } = await this.openContext();
    const config = readConfigFlags(this.flags) ?? {};
    return this.showRecord(await services.agents.create({ name: this.flags.name, description: this.flags.description, config }));
  }
}
