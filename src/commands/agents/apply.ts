import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { readAgentFile } from '../../cli/agent-files.js';
import { warnUnreadConfigKeys } from '../../cli/agent-config.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export default class AgentsApply extends DanaCommand<typeof AgentsApply> {
  static override summary = 'Create the agent a file describes, or update the agent with its name; prints created, updated or unchanged.';
  static override description = 'The file holds name, description (default "") and config (default {}), as YAML (.yaml, .yml) or JSON, e.g. as written by dana agents export. Running it again changes nothing and prints unchanged. The config is checked as on create.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -f support.yaml',
    'From standard input (YAML or JSON)\ncat support.yaml | <%= config.bin %> <%= command.id %> -f -',
  ];
  static override flags = {
    file: Flags.string({ char: 'f', description: 'Agent file (.yaml, .yml or .json), or - for standard input.', required: true }),
  };

  async run() {
    const { file } = this.flags;
    const input = await readAgentFile(file, file === '-' ? await readAll(this.io.stdin) : undefined);
    const { services } = await this.openContext();
    const { agent, action } = await services.agents.apply(input);
    warnUnreadConfigKeys(agent.config, this.io.stderr);
    this.log(action);
    return { ...agent, action };
  }
}
