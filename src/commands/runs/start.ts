import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { followRun, followingEnd, runRenderer } from '../../cli/run-follow.js';

export default class RunsStart extends DanaCommand<typeof RunsStart> {
  static override summary = 'Start a run: an agent works on a request in the background.';
  static override description = [
    'Without --each-document the agent answers the input once, from its documents (narrowed by --topic and --document);',
    'with it, once per document in scope, each answer drawn from that document alone ("summarise", "list the dates").',
    'Runs execute on the workers of `dana serve` or a `dana worker` process. With --follow the command shows the run until',
    'it ends: a progress bar on a terminal (standard error), the answers on standard output, one JSON event per line with --json.',
    'If no worker takes the run within 2 seconds, the command works on it itself and says so.',
    'Exit codes with --follow: 0 the run succeeded, 5 it failed (the agent runner failed), 1 it was cancelled,',
    '130 you stopped following (Ctrl-C; the run goes on).',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> <%= command.id %> --agent 1 --input "List every date mentioned, with what happened" --follow',
    'Summarise each document of topic 2, in the background\n<%= config.bin %> <%= command.id %> --agent 1 --topic 2 --each-document --input "Summarise this document in three sentences"',
    'Ask about two documents only, and print the run as JSON\n<%= config.bin %> <%= command.id %> --agent 1 --document 3 --document 4 --input "How do these differ?" --json',
    'Follow it as JSON lines, one event per line\n<%= config.bin %> <%= command.id %> --agent 1 --each-document --input "Summarise" --follow --json',
  ];
  static override flags = {
    agent: Flags.integer({ description: 'Id of the agent that works on it.', required: true, aliases: ['agent-id'], min: 1 }),
    input: Flags.string({ description: 'What the agent is asked (up to 100,000 characters).', required: true }),
    topic: Flags.integer({ description: 'Only documents of this topic.', aliases: ['topic-id'], min: 1 }),
    document: Flags.integer({ description: 'Only this document (repeatable).', multiple: true, aliases: ['document-id'], min: 1 }),
    'each-document': Flags.boolean({ description: 'Answer once per document in scope, each from that document alone.', default: false }),
    follow: Flags.boolean({ char: 'f', description: 'Show the run until it ends; the exit code says how it ended.', default: false }),
  };

  async run() {
    const context = await this.openContext();
    const { agent, input, topic, document, follow } = this.flags;
    const run = await context.services.runs.create(agent, {
      input,
      ...(topic !== undefined && { topic_id: topic }),
      ...(document?.length && { document_ids: document }),
      ...(this.flags['each-document'] && { each_document: true }),
    });
    if (!follow) {
      if (this.io.stderr.isTTY && !this.jsonEnabled()) this.note(`Run ${run.id} queued. Follow it with: dana runs logs ${run.id} --follow`);
      return this.showRecord(run);
    }
    const renderer = await runRenderer(this.io, { json: this.jsonEnabled(), runId: run.id, showAnswers: true });
    const { exitCode, notice } = followingEnd(await followRun(context, run, { renderer, note: (line) => this.note(line) }));
    if (notice) this.note(notice);
    if (exitCode) this.exit(exitCode);
    return undefined;
  }
}
