import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { stageProgress } from '../cli/stage-progress.js';

export default class Restore extends DanaCommand<typeof Restore> {
  static override summary = 'Fill an empty data folder or database from a backup made by dana backup.';
  static override description = 'Every file is checked against its SHA-256 before anything is written, and the rows go in in one transaction: a damaged archive changes nothing. Ids are kept. A target that already holds data is refused (exit 4) unless --force, which replaces its contents. The backend is whatever the data folder or DANA_DATABASE_URL says: a SQLite backup restores into PostgreSQL and back.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> dana-backup.tar.gz --data-dir ~/dana-restored',
    'Move a SQLite data folder to PostgreSQL\nDANA_DATABASE_URL=postgres://dana@db/dana <%= config.bin %> <%= command.id %> dana-backup.tar.gz --data-dir /srv/dana',
  ];
  static override args = { file: Args.string({ description: 'Archive written by dana backup.', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'Replace the contents of a target that is not empty.', default: false }),
  };

  async run() {
    const context = await this.openContext();
    const { restoreBackup } = await import('../core/backup.js');
    const progress = stageProgress(this.io.stderr);
    const summary = await restoreBackup(context, this.args.file, { force: this.flags.force, progress: progress.update }).finally(() => progress.done());
    const rows = Object.values(summary.rows).reduce((sum, count) => sum + count, 0);
    const { database, uploadDir } = context.config;
    const into = database.client === 'sqlite' ? context.config.dataDir : `the PostgreSQL database (files in ${uploadDir})`;
    this.log(`Restored ${rows} rows and ${summary.files} files into ${into}${summary.replaced ? ' (previous contents replaced)' : ''}`);
    return summary;
  }
}
