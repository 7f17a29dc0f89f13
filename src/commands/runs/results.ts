import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg, pagingFlags } from '../../cli/flags.js';
import { escapeControls } from '../../cli/output.js';
import type { RunResult } from '../../core/schemas.js';

export default class RunsResults extends DanaCommand<typeof RunsResults> {
  static override summary = "Show a run's answers: one per document, or the one answer of a run answered once.";
  static override description = 'Each answer under a heading naming its document (and whether it failed, with the reason); --json gives the API\'s [{document_id, output, sources, error}].';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 7',
    'Every answer of a large run as JSON\n<%= config.bin %> <%= command.id %> 7 --all --json',
  ];
  static override args = { id: idArg('Run') };
  static override flags = {
    ...pagingFlags,
    all: Flags.boolean({ description: 'Every answer, page after page (--limit is ignored).', default: false }),
  };

  async run() {
    const { services } = await this.openContext();
    const runId = this.args.id;
    const { skip, limit, all } = this.flags;
    const rows: RunResult[] = [];
    let total = 0;
    for (;;) {
      const page = await services.runs.results(runId, { skip: skip + rows.length, limit: all ? 1000 : limit });
      rows.push(...page.items);
      total = page.total;
      if (!all || !page.items.length || skip + rows.length >= total) break;
    }
    if (this.jsonEnabled()) return rows;
    if (!rows.length && this.io.stdout.isTTY) this.note(`Run ${runId} has no answers yet.`);
    for (const row of rows) this.io.stdout.write(`${escapeControls(formatResult(row))}\n`);
    if (this.io.stdout.isTTY && rows.length < total) this.note(`Showing ${rows.length} of ${total}. Use --all or --skip.`);
    return rows;
  }
}

function formatResult(result: RunResult): string {
  const where = result.document_id === null ? 'Answer' : `Document ${result.document_id}`;
  const sources = result.sources?.length ? `\nSources: ${result.sources.map((s) => `${s.original_filename} (document ${s.document_id})`).join(', ')}` : '';
  return result.error ? `== ${where} (failed) ==\n${result.error}\n` : `== ${where} ==\n${result.output ?? ''}${sources}\n`;
}
