import path from 'node:path';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';
import { writeOutputFile } from '../../cli/output-file.js';
import { agentFileText, isYamlFile } from '../../cli/agent-files.js';

export default class AgentsExport extends DanaCommand<typeof AgentsExport> {
  static override summary = 'Write an agent as a file (name, description, config) to keep it with your code and apply it again.';
  static override description = 'YAML when the file ends in .yaml or .yml (or with --format yaml), JSON otherwise. Without --output it goes to standard output.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 3 -o support.yaml',
    '<%= config.bin %> <%= command.id %> 3 --format yaml',
    'Copy an agent to another data folder\n<%= config.bin %> <%= command.id %> 3 -o agent.json && <%= config.bin %> agents apply -f agent.json --data-dir ../other',
  ];
  static override args = { id: idArg('Agent') };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'File to write (replaced if it exists).' }),
    format: Flags.string({ description: 'json or yaml (default: from the file name, else json).', options: ['json', 'yaml'] }),
  };

  async run() {
    const { services } = await this.openContext();
    const agent = await services.agents.get(this.args.id);
    const { output } = this.flags;
    const yaml = this.flags.format ? this.flags.format === 'yaml' : output !== undefined && isYamlFile(output);
    const text = await agentFileText(agent, yaml);
    const fields = { name: agent.name, description: agent.description, config: agent.config };
    if (output === undefined || output === '-') {
      // The file's text as is; with --json it is the same fields as JSON.
      if (!this.jsonEnabled()) this.io.stdout.write(text);
      return fields;
    }
    await writeOutputFile(path.resolve(output), text);
    if (!this.jsonEnabled()) this.note(`Wrote agent ${agent.id} to ${path.resolve(output)}`);
    return fields;
  }
}
