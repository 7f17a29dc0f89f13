import { DanaCommand } from '../../cli/base-command.js';
import type { ApiToken } from '../../core/services/tokens.js';
import { formatTimestamp, type Column } from '../../cli/output.js';

const TOKEN_COLUMNS: Array<Column<ApiToken>> = [
  { header: 'NAME', get: (t) => t.name, flexible: true },
  { header: 'READ-ONLY', get: (t) => (t.read_only ? 'yes' : 'no') },
  { header: 'CREATED', get: (t) => formatTimestamp(t.created_at) },
  { header: 'LAST USED', get: (t) => (t.last_used_at ? formatTimestamp(t.last_used_at) : 'never') },
];

export default class TokensList extends DanaCommand<typeof TokensList> {
  static override summary = 'List API tokens (never the tokens themselves).';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const { services } = await this.openContext();
    return this.showList(await services.tokens.list(), TOKEN_COLUMNS, 'No tokens yet. Create one with: dana tokens create --name NAME');
  }
}
