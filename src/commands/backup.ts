import * as Args from '@oclif/core/args';
import { DanaCommand } from '../cli/base-command.js';
import { formatBytes } from '../cli/output.js';
import { stageProgress } from '../cli/stage-progress.js';

export default class Backup extends DanaCommand<typeof Backup> {
  static override summary = 'Write every row and every uploaded file to one .tar.gz, while servers keep running.';
  static override description = 'The rows are one consistent snapshot; the archive holds a manifest with counts and each file\'s SHA-256, and does not depend on the backend: restore it into SQLite or PostgreSQL with dana restore. Providers (URLs and key variable names, never keys) and API token hashes are included.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> dana-backup.tar.gz',
    'Back up the PostgreSQL database a server uses\nDANA_DATABASE_URL=postgres://dana@db/dana <%= config.bin %> <%= command.id %> nightly.tar.gz',
  ];
  static override args = { file: Args.string({ description: 'Archive to write (.tar.gz; replaced if it exists).', required: true }) };

  async run() {
    const context = await this.openContext();
    const { createBackup } = await import('../core/backup.js');
    const progress = stageProgress(this.io.stderr);
    const summary = await createBackup(context, this.args.file, progress.update).finally(() => progress.done());
    const rows = Object.values(summary.rows).reduce((sum, count) => sum + count, 0);
    this.log(`Wrote ${summary.path} (${formatBytes(summary.bytes)}): ${rows} rows, ${summary.files} files (${formatBytes(summary.file_bytes)})`);
    return summary;
  }
}
