import { DanaCommand } from '../../cli/base-command.js';

export default class DbMigrate extends DanaCommand<typeof DbMigrate> {
  static override summary = 'Apply pending database migrations.';
  static override description = 'Every command and the server migrate on first use anyway; this does it on purpose, e.g. before starting several servers. Safe to run from several processes at once. Prints what the migrations changed, e.g. an agent config\'s old base_url moved to a provider of its own.';
  static override examples = ['<%= config.bin %> <%= command.id %>', 'DANA_DATABASE_URL=postgres://dana@db.internal/dana <%= config.bin %> <%= command.id %>'];

  async run() {
    const { services } = await this.openContext({ migrate: false });
    const outcome = await services.database.migrate();
    if (!this.jsonEnabled()) {
      this.log(outcome.applied.length ? `Applied: ${outcome.applied.join(', ')}` : 'The database is up to date.');
      for (const change of outcome.changes) this.log(change);
    }
    return outcome;
  }
}
