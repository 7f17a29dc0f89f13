import * as Args from '@oclif/core/args';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import type { CliIo } from '../../cli/io.js';
import { escapeControls, formatTable } from '../../cli/output.js';
import type { ReindexResult } from '../../core/services/documents.js';

export default class DocsReindex extends DanaCommand<typeof DocsReindex> {
  static override summary = 'Read documents\' text again and rebuild their search passages.';
  static override description = 'Chat answers from these passages. Without ids every document is reindexed; a progress bar shows on a terminal. Exits 1 when the text of some document could not be read (the ERROR column says why).\n\n'
    + 'With --embeddings the passages are then embedded, before the command returns, for every agent whose provider has an embedding model '
    + '(dana providers update NAME --embedding-model MODEL); exits 5 when the embeddings endpoint fails. A running dana serve also embeds new passages by itself, in the background.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> 4 7',
    'Rebuild every passage and its vectors\n<%= config.bin %> <%= command.id %> --embeddings',
  ];
  static override flags = {
    embeddings: Flags.boolean({ description: "Then embed the passages with the embedding model of each agent's provider (progress on a terminal)." }),
  };
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
    const embeddingError = this.flags.embeddings ? await this.embed(ids) : undefined;
    const failed = results.filter((result) => result.status === 'failed').length;
    if (!failed && !embeddingError) {
      if (!this.jsonEnabled()) this.log(summary(results));
      return results;
    }
    // Some text could not be read, or not embedded: the results still print in full, then the exit code says so.
    if (this.jsonEnabled()) this.logJson(results);
    else this.log(summary(results));
    if (failed) this.note(`Error: the text of ${failed} of ${results.length} documents could not be read.`);
    if (embeddingError) this.note(`Error: ${escapeControls(embeddingError)}`);
    this.exit(embeddingError ? 5 : 1);
  }

  /** Embeds the missing vectors of these documents (all when none are named), saying how it went on stderr; the failure, if any. */
  private async embed(ids: number[]): Promise<string | undefined> {
    const { services } = await this.openContext();
    const bar = await progressBar(this.io.stderr, 'Embedding', 'passages');
    const result = await services.embeddings.fill({ documentIds: ids.length ? ids : undefined, onProgress: (done, total) => bar?.update(done, total) });
    bar?.stop();
    if (!result.models.length) {
      this.note('No agent\'s provider has an embedding model: nothing to embed (dana providers update NAME --embedding-model MODEL).');
      return undefined;
    }
    this.note(escapeControls(`Embedded ${result.embedded} passage${result.embedded === 1 ? '' : 's'} with ${result.models.join(', ')}.`));
    return result.errors.length ? `embedding failed: ${result.errors.join('; ')} (${result.missing} passages still without vectors)` : undefined;
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

async function progressBar(stderr: CliIo['stderr'], action = 'Reindexing', unit = 'documents') {
  if (!stderr.isTTY) return undefined;
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    { format: `${action} [{bar}] {value}/{total} ${unit}`, stream: stderr as NodeJS.WritableStream, clearOnComplete: true },
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
