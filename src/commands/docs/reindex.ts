import * as Args from '@oclif/core/args';
import * as Errors from '@oclif/core/errors';
import { DanaCommand } from '../../cli/base-command.js';
import type { CliIo } from '../../cli/io.js';
import { formatTable } from '../../cli/output.js';
import type { ReindexResult } from '../../core/services/documents.js';

export default class DocsReindex extends DanaCommand<typeof DocsReindex> {
  static override summary = 'Read documents\' text again and rebuild their search passages.';
  static override description = 'Chat answers from these passages. Without ids every document is reindexed; a progress bar shows on a terminal. Exits 1 when the text of some document could not be read (the ERROR column says why).';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> 4 7'];
  static override strict = false;
  static override args = { id: Args.integer({ description: 'Document id(s); all when omitted.', min: 1 }) };

  async run() {
    const { services } = await this.openContext();
    const ids = this.positionals.map((value) => {
      if (!/^[1-9]\d*$/.test(value)) throw new Errors.CLIError(`Expected a positive integer id but received: ${value}`, { exit: 2 });
      return Number(value);
    });
    const bar = await progressBar(this.io.stderr);
    const results = await services.documents.reindex(ids, (done, total) => bar?.update(done, total));
    bar?.stop();
    const failed = results.filter((result) => result.status === 'failed').length;
    if (!failed) {
      if (!this.jsonEnabled()) this.log(summary(results));
      return results;
    }
    // Some text could not be read: the results still print in full, then the exit code says so.
    if (this.jsonEnabled()) this.logJson(results);
    else this.log(summary(results));
    this.note(`Error: the text of ${failed} of ${results.length} documents could not be read.`);
    this.exit(1);
  }
}

function summary(results: ReindexResult[]): string {
  if (!results.length) return 'No documents to reindex.';
  return formatTable(results, [
    { header: 'ID', get: (r) => r.id },
    { header: 'NAME', get: (r) => r.original_filename, maxWidth: 40 },
    { header: 'STATUS', get: (r) => r.status },
    { header: 'PASSAGES', get: (r) => r.passages },
    { header: 'ERROR', get: (r) => r.error, maxWidth: 60 },
  ]);
}

async function progressBar(stderr: CliIo['stderr']) {
  if (!stderr.isTTY) return undefined;
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    { format: 'Reindexing [{bar}] {value}/{total} documents', stream: stderr as NodeJS.WritableStream, clearOnComplete: true },
    progress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}
