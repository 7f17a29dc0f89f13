import path from 'node:path';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';
import { writeOutputFile } from '../../cli/output-file.js';

export default class ConversationsExport extends DanaCommand<typeof ConversationsExport> {
  static override summary = 'Write a conversation with all its messages as JSON (for import) or Markdown (for reading).';
  static override description = 'Without --output the file goes to standard output. The format follows the file name (.md is Markdown) unless --format says otherwise.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 7 -o trip.json',
    '<%= config.bin %> <%= command.id %> 7 --format md -o trip.md',
    '<%= config.bin %> <%= command.id %> 7 --format md | less',
  ];
  static override args = { id: idArg('Conversation') };
  static override flags = {
    format: Flags.string({ description: 'json (default) or md.', options: ['json', 'md'] }),
    output: Flags.string({ char: 'o', description: 'File to write (replaced if it exists).' }),
  };

  async run() {
    const { services } = await this.openContext();
    const { output } = this.flags;
    const format = this.flags.format ?? (output && /\.(md|markdown)$/i.test(output) ? 'md' : 'json');
    const file = await services.conversations.export(this.args.id, { format });
    if (output === undefined || output === '-') {
      // The file itself, byte for byte (as `docs download -o -`); --json adds nothing to it.
      this.io.stdout.write(file.text);
      return undefined;
    }
    const target = path.resolve(output);
    await writeOutputFile(target, file.text);
    const written = { conversation_id: this.args.id, format, path: target, bytes: Buffer.byteLength(file.text) };
    if (!this.jsonEnabled()) this.note(`Wrote conversation ${this.args.id} to ${target}`);
    return written;
  }
}
