import { DanaCommand } from '../../cli/base-command.js';
import { describeDatabase } from '../../core/config.js';
import { corruptionDetail, isCorruption, type DatabaseCheck } from '../../core/services/database.js';

export default class DbCheck extends DanaCommand<typeof DbCheck> {
  static override summary = 'Check the database: connectivity, integrity, and every document\'s file.';
  static override description = [
    'Exits with code 1 when a problem is found: a document row whose file is missing or is not a regular file inside the upload folder (a symlink),',
    'a stored file no row points at, a damaged SQLite file (PRAGMA integrity_check), or pending migrations.',
    'Documents whose text could not be read ("failed", with the reason) or is not read yet ("pending") are listed under documents_without_text;',
    'they are stored whole and do not change the exit code.',
  ].join(' ');
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const report = await this.check();
    if (!this.jsonEnabled()) {
      this.log(`${report.backend} ${report.location}: ${report.documents_checked} documents checked, ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
      for (const problem of report.problems) this.log(`  ${problem.kind}: ${problem.detail}`);
      for (const document of report.documents_without_text) {
        this.log(`  text ${document.text_status}: document ${document.document_id} (${document.original_filename})${document.text_error ? `: ${document.text_error}` : ''}`);
      }
    }
    if (report.ok) return report;
    // A problem found: the report still prints in full, then the exit code says so.
    if (this.jsonEnabled()) this.logJson(report);
    this.exit(1);
  }

  private async check(): Promise<DatabaseCheck> {
    try {
      const { services } = await this.openContext({ migrate: false });
      return await services.database.check();
    } catch (error) {
      // SQLite refuses to open a file whose header is damaged: the check's finding all the same.
      if (!isCorruption(error)) throw error;
      const { database } = await this.danaConfig();
      return {
        ok: false,
        backend: database.client,
        location: describeDatabase(database),
        documents_checked: 0,
        problems: [{ kind: 'integrity', detail: corruptionDetail(error) }],
        documents_without_text: [],
      };
    }
  }
}
