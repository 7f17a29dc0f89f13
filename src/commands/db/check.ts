import { DanaCommand } from '../../cli/base-command.js';

export default class DbCheck extends DanaCommand<typeof DbCheck> {
  static override summary = 'Check the database: connectivity, integrity, and every document\'s file.';
  static override description = 'Exits with code 1 when a problem is found: a document row whose file is missing, a stored file no row points at, a failed SQLite integrity check, or pending migrations.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const { services } = await this.openContext({ migrate: false });
    const report = await services.database.check();
    if (!this.jsonEnabled()) {
      this.log(`${report.backend} ${report.location}: ${report.documents_checked} documents checked, ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
      for (const problem of report.problems) this.log(`  ${problem.kind}: ${problem.detail}`);
    }
    if (!report.ok) process.exitCode = 1;
    return report;
  }
}
