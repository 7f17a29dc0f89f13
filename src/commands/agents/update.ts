import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';
import { agentBody, agentFieldFlags, warnUnreadConfigKeys } from '../../cli/agent-config.js';

export default class AgentsUpdate extends DanaCommand<typeof AgentsUpdate> {
  static override summary = 'Change an agent: only the fields given.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 3 --name "Senior Researcher"',
    'Replace the config (it is not merged)\n<%= config.bin %> <%= command.id %> 3 --config \'{"provider":"local","topic_ids":[1,2]}\'',
    'Point the agent at a provider added with dana providers add\n<%= config.bin %> <%= command.id %> 3 --config \'{"provider":"ollama","model":"llama3.2"}\'',
  ];
  static override args = { id: idArg('Agent') };
  static override flags = {
    name: Flags.string({ description: 'New name.' }),
    ...agentFieldFlags,
  };

  async run() {
    const { services } = await this.openContext();
    const changes = agentBody(this.flags);
    const agent = await services.agents.update(this.args.id, changes);
    warnUnreadConfigKeys(changes.config, this.io.stderr);
    return this.showRecord(agent);
  }
}

