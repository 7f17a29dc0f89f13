import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { SEARCH_COLUMNS } from '../cli/columns.js';

export default class Search extends DanaCommand<typeof Search> {
  static override summary = 'Search document passages and messages, best match first.';
  static override description = 'Every word given must appear (stemmed: "booking" finds "booked"). Documents show their best passage.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> "hotel lisbon"',
    'Only messages in one agent\'s conversations, as JSON\n<%= config.bin %> <%= command.id %> invoice --kind messages --agent 2 --json',
  ];
  static override args = { text: Args.string({ description: 'Words to look for.', required: true }) };
  static override flags = {
    kind: Flags.string({ description: 'Only documents or only messages.', options: ['documents', 'messages'] }),
    agent: Flags.integer({ description: "Only this agent's documents and conversations.", aliases: ['agent-id'], min: 1 }),
    limit: Flags.integer({ description: 'Results to show (1 to 100).', default: 20 }),
  };

  async run() {
    const { services } = await this.openContext();
    const results = await services.search.search({ q: this.args.text, kind: this.flags.kind, agent_id: this.flags.agent, limit: this.flags.limit });
    return this.showList(results, SEARCH_COLUMNS, 'Nothing found.');
  }
}
