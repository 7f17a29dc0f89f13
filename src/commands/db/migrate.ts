import { DanaCommand } from '../../cli/base-command.js';

export default class DbMigrate extends DanaCommand<typeof DbMigrate> {
  static override summary = 'Apply pending database migrations.';
  static override description = 'Every command and the server migrate on first use anyway; this does it on purpose, e.g. before starting several servers. Safe to run from several processes at once.';
  static override examples = ['<%= config.bin %> <%= command.id %>', 'DANA_DATABASE_URL=postgres://dana@db.internal/dana <%= config.bin %> <%= command.id %>'];

  async run() {
    const { services } = await this.openContext({ migrate: false });
    const applied = await services.database.migrate();
    if (!this.jsonEnabled()) this.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
    return { applied };
  }
}
