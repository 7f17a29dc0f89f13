import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { agentBody, agentFieldFlags, warnUnreadConfigKeys } from '../../cli/agent-config.js';

export default class AgentsCreate extends DanaCommand<typeof AgentsCreate> {
  static override summary = 'Create an agent.';
  static override description = 'The config chooses how the agent answers in chat: offline from its documents (the default provider, "local") or through a model provider (see dana providers). Dana reads provider, model, temperature (0-2), max_tokens (1-32768), system_prompt, timeout (seconds, 1-600) and topic_ids; other keys are stored as given, with a warning. Endpoints and keys are never part of a config: add them with dana providers add.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name Researcher --description "Reads papers"',
    'Answer through a local Ollama model: add it as a provider once\n<%= config.bin %> providers add ollama --base-url http://127.0.0.1:11434/v1 --model llama3.2',
    '… then name that provider in the config\n<%= config.bin %> <%= command.id %> --name Llama --config \'{"provider":"ollama"}\'',
    'Answer through OpenAI (the key is read from OPENAI_API_KEY when the agent chats)\n<%= config.bin %> <%= command.id %> --name Writer --config \'{"provider":"openai","model":"gpt-4o-mini","temperature":0.3}\'',
    '<%= config.bin %> <%= command.id %> --name Support --config-file ./support-agent.json --json',
  ];
  static override flags = {
    name: Flags.string({ description: 'Agent name (1 to 200 characters).', required: true }),
    ...agentFieldFlags,
  };

  async run() {
    const { services } = await this.openContext();
    const body = { description: '', config: {}, ...agentBody(this.flags) };
    const agent = await services.agents.create(body);
    warnUnreadConfigKeys(body.config, this.io.stderr);
    return this.showRecord(agent);
  }
}
