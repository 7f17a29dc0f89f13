import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { idArg } from '../../cli/flags.js';
import { withProgress } from '../../cli/progress.js';
import { ConflictError } from '../../core/errors.js';
import { writeOutputFile } from '../../cli/output-file.js';

export default class DocsDownload extends DanaCommand<typeof DocsDownload> {
  static override summary = 'Download a document\'s exact bytes.';
  static override description = 'Without --output the file is saved under its original name in the current folder. Missing folders in the --output path are created.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 4',
    '<%= config.bin %> <%= command.id %> 4 --output ./copy.pdf',
    'Write to standard output\n<%= config.bin %> <%= command.id %> 4 -o - | less',
  ];
  static override args = { id: idArg('Document') };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'File or folder to write to, or - for standard output.' }),
    force: Flags.boolean({ char: 'f', description: 'Overwrite an existing file.', default: false }),
  };

  async run() {
    const { services } = await this.openContext();
    const { document, stream, size } = await services.documents.download(this.args.id);
    if (this.flags.output === '-') {
      await pipeline(stream, this.io.stdout, { end: false });
      return undefined;
    }
    const target = targetPath(this.flags.output, document.original_filename);
    if (!this.flags.force && fs.existsSync(target)) {
      stream.destroy();
      throw new ConflictError(`${target} already exists (use --force to overwrite)`);
    }
    await writeOutputFile(target, await withProgress(stream, size, document.original_filename, this.io.stderr));
    if (!this.jsonEnabled() && this.io.stderr.isTTY) this.note(`Saved ${document.original_filename} (${size} bytes) to ${target}`);
    return { ...document, path: target };
  }
}

function targetPath(output: string | undefined, originalFilename: string): string {
  const name = originalFilename || 'document';
  if (!output) return path.resolve(name);
  const resolved = path.resolve(output);
  return fs.existsSync(resolved) && fs.statSync(resolved).isDirectory() ? path.join(resolved, name) : resolved;
}
