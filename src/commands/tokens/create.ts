import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';

export default class TokensCreate extends DanaCommand<typeof TokensCreate> {
  static override summary = 'Create an API token and print it (once: only its SHA-256 is kept).';
  static override description = 'A server on this data folder accepts the token at once, as "Authorization: Bearer <token>". '
    + 'A read-only token may only read (GET): writes and chat get 403.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name laptop',
    'A token for dashboards that only read\n<%= config.bin %> <%= command.id %> --name grafana --read-only',
    'Keep it in a variable for curl\nTOKEN=$(<%= config.bin %> <%= command.id %> --name script)\ncurl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/agents/',
  ];
  static override flags = {
    name: Flags.string({ description: 'A unique name to recognise and revoke the token by.', required: true }),
    'read-only': Flags.boolean({ description: 'Allow reads only (no writes, no chat).', default: false }),
  };

  async run() {
    const { services } = await this.openContext();
    const created = await services.tokens.create({ name: this.flags.name, readOnly: this.flags['read-only'] });
    if (!this.jsonEnabled()) {
      this.log(created.token);
      this.note(`Token '${created.name}' created${created.read_only ? ' (read-only)' : ''}. Store it now: it cannot be shown again.`);
    }
    return created;
  }
}
