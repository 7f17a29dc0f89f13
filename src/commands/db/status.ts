import { DanaCommand } from '../../cli/base-command.js';
import { formatRecord } from '../../cli/output.js';
import { describeDatabase } from '../../core/config.js';
import { toDanaError, UnavailableError } from '../../core/errors.js';

export default class DbStatus extends DanaCommand<typeof DbStatus> {
  static override summary = 'Show the database: backend, location, migrations and row counts.';
  static override description = 'The location is the SQLite file, or the PostgreSQL URL with its password masked. Nothing is migrated. A database that cannot be reached is an error (exit code 1) saying why.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const { services, config } = await this.openContext({ migrate: false });
    const status = await services.database.status().catch((error: unknown) => {
      const known = toDanaError(error);
      // Which database could not be reached, password masked, is the first thing to check.
      throw known instanceof UnavailableError ? new UnavailableError(`${known.message}: ${describeDatabase(config.database)}`) : error;
    });
    if (!this.jsonEnabled()) {
      const { applied, pending } = status.migrations;
      this.log(formatRecord({
        backend: status.backend,
        database: status.location,
        uploads: status.upload_dir,
        migrations: `${applied.length} applied${pending.length ? `, ${pending.length} pending (${pending.join(', ')}): run dana db migrate` : ', up to date'}`,
        ...status.counts,
      }));
    }
    return status;
  }
}
