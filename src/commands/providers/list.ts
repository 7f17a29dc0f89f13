import { DanaCommand } from '../../cli/base-command.js';
import type { Column } from '../../cli/output.js';
import type { Provider } from '../../core/schemas.js';

const COLUMNS: Array<Column<Provider>> = [
  { header: 'NAME', get: (p) => p.name },
  { header: 'URL', get: (p) => p.base_url ?? '(offline)', maxWidth: 50 },
  { header: 'KEY', get: (p) => (p.api_key_env ? `${p.api_key_env}${p.has_key ? '' : ' (not set)'}` : '') },
  { header: 'MODEL', get: (p) => p.model },
  { header: 'EMBEDDING MODEL', get: (p) => p.embedding_model },
  { header: 'DEFAULT', get: (p) => (p.is_default ? 'yes' : '') },
];

export default class ProvidersList extends DanaCommand<typeof ProvidersList> {
  static override summary = 'List model providers, the built-in "local" and "openai" first.';
  static override description = 'has_key (--json) and "(not set)" say whether the key variable is set in this shell; a server reads its own environment.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const { services } = await this.openContext();
    const page = await services.providers.list({ limit: 1000 });
    return this.showList(page.items, COLUMNS, 'No providers.');
  }
}
