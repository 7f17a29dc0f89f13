import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { RUN_COLUMNS } from '../../cli/columns.js';
import { pagingFlags } from '../../cli/flags.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export default class RunsList extends DanaCommand<typeof RunsList> {
  static override summary = 'List runs, oldest first.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'The runs of agent 1 still waiting for a worker\n<%= config.bin %> <%= command.id %> --agent 1 --status queued',
    'Every failed run, as JSON\n<%= config.bin %> <%= command.id %> --status failed --all --json',
  ];
  static override flags = {
    ...pagingFlags,
    all: Flags.boolean({ description: 'Every row, page after page (--limit is ignored).', default: false }),
    agent: Flags.integer({ description: 'Only runs of this agent.', aliases: ['agent-id'], min: 1 }),
    status: Flags.string({ description: 'Only runs with this status.', options: RUN_STATUSES }),
  };

  async run() {
    const { services } = await this.openContext();
    const { agent, status } = this.flags;
    return this.showPage(
      ({ skip, limit }) => services.runs.list({ skip, limit, agent_id: agent, status }),
      RUN_COLUMNS,
      'No runs yet. Start one with: dana runs start --agent ID --input TEXT',
    );
  }
}
