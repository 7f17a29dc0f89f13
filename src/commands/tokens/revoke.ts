import * as Args from '@oclif/core/args';
import { DanaCommand } from '../../cli/base-command.js';

export default class TokensRevoke extends DanaCommand<typeof TokensRevoke> {
  static override summary = 'Revoke an API token: a running server refuses it from the next request.';
  static override examples = ['<%= config.bin %> <%= command.id %> laptop'];
  static override args = { name: Args.string({ description: 'The token\'s name (see dana tokens list).', required: true }) };

  async run() {
    const { services } = await this.openContext();
    return this.showRecord(await services.tokens.revoke(this.args.name));
  }
}
