import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';
import { followRun, followingEnd, plainLines, runRenderer } from '../../cli/run-follow.js';
import type { RunEvent } from '../../core/schemas.js';

export default class RunsLogs extends DanaCommand<typeof RunsLogs> {
  static override summary = "Show a run's events: status, progress, what the agent did, results.";
  static override description = [
    'One line per event: status changes, progress, log lines (passages retrieved and from which documents, model calls',
    'with their durations and token counts) and results. With --json, a JSON array of events {id, type, data};',
    'with --follow, new events are shown as they happen until the run ends (a progress bar on a terminal, one JSON event',
    'per line with --json), and the exit code says how it ended: 0 succeeded, 5 failed, 1 cancelled, 130 stopped following.',
    'A run no worker takes within 2 seconds is worked on by the following command itself.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> <%= command.id %> 7',
    'Follow a run until it ends\n<%= config.bin %> <%= command.id %> 7 --follow',
    'Only the events after event 120, as JSON lines\n<%= config.bin %> <%= command.id %> 7 --after 120 --follow --json',
  ];
  static override args = { id: idArg('Run') };
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'Keep showing new events until the run ends.', default: false }),
    after: Flags.integer({ description: 'Only the events after this event id.', default: 0, min: 0 }),
  };

  async run() {
    const context = await this.openContext();
    const { runs } = context.services;
    const run = await runs.get(this.args.id);
    if (!this.flags.follow) {
      // Stored events come a page at a time; a run over a thousand documents has thousands.
      const events: RunEvent[] = [];
      for (let page = await runs.events(run.id, this.flags.after); page.length; page = await runs.events(run.id, page.at(-1)!.id)) events.push(...page);
      if (this.jsonEnabled()) return events;
      const lines = plainLines(run.id, this.io.stdout);
      for (const event of events) lines.show(event);
      return undefined;
    }
    const renderer = await runRenderer(this.io, { json: this.jsonEnabled(), runId: run.id, showAnswers: false });
    const { exitCode, notice } = followingEnd(await followRun(context, run, { renderer, afterId: this.flags.after, note: (line) => this.note(line) }));
    if (notice) this.note(notice);
    if (exitCode) this.exit(exitCode);
    return undefined;
  }
}
