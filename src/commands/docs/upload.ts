import fs from 'node:fs';
import path from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { DOCUMENT_COLUMNS } from '../../cli/columns.js';
import { withProgress } from '../../cli/progress.js';
import { toDanaError, ValidationError } from '../../core/errors.js';
import type { Document } from '../../core/schemas.js';

export default class DocsUpload extends DanaCommand<typeof DocsUpload> {
  static override summary = 'Upload one or more files (.pdf .txt .md .json .csv .docx).';
  static override description = 'Every file is checked (exists, allowed type, within DANA_MAX_UPLOAD_MB) before the first is stored. A progress bar shows on a terminal for large files. A warning on stderr names a document that already holds the same bytes, and a file whose text could not be read (it is stored all the same).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./paper.pdf',
    'Several files into a topic, for an agent\n<%= config.bin %> <%= command.id %> notes.md data.csv --topic 2 --agent 1',
    '<%= config.bin %> <%= command.id %> ./paper.pdf --json',
  ];
  static override strict = false;
  static override args = { file: Args.string({ description: 'File(s) to upload.', required: true }) };
  static override flags = {
    topic: Flags.integer({ description: 'Put the documents in this topic.', aliases: ['topic-id'], min: 1 }),
    agent: Flags.integer({ description: 'Give the documents to this agent.', aliases: ['agent-id'], min: 1 }),
  };

  async run() {
    const { services } = await this.openContext();
    const fields = { topic_id: this.flags.topic, agent_id: this.flags.agent };
    const sources = [];
    // With several files, an error about one of them (type, size) says which.
    const naming = <R>(file: string, work: () => Promise<R>) => (this.positionals.length > 1 ? nameFileInError(file, work) : work());
    for (const file of this.positionals) {
      const source = { file, clientName: path.basename(file), size: statFile(file).size };
      await naming(file, () => services.documents.preflight({ ...source, fields }));
      sources.push(source);
    }
    const documents: Document[] = [];
    for (const { file, clientName, size } of sources) {
      const stream = await withProgress(fs.createReadStream(file), size, clientName, this.io.stderr);
      const document = await naming(file, () => services.documents.receive(stream, { clientName, fields }));
      documents.push(document);
      const [copy] = (await services.documents.list({ sha256: document.sha256, limit: 2 })).items.filter((other) => other.id !== document.id);
      if (copy) this.note(`Warning: ${document.original_filename} has the same bytes as document ${copy.id} (${copy.original_filename})`);
      if (document.text_status === 'failed') this.note(`Warning: ${document.original_filename} is stored, but its text could not be read: ${document.text_error}`);
    }
    if (documents.length === 1) return this.showRecord(documents[0]);
    return this.showList(documents, DOCUMENT_COLUMNS, '');
  }
}

async function nameFileInError<R>(file: string, work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (error) {
    const known = toDanaError(error);
    if (!known || known instanceof ValidationError) throw error;
    known.message = `${file}: ${known.message}`;
    throw known;
  }
}

function statFile(file: string): fs.Stats {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read it (${(error as NodeJS.ErrnoException).code})`;
    throw ValidationError.field(['args', file], reason, 'file_error');
  }
  if (!stats.isFile()) throw ValidationError.field(['args', file], 'not a regular file', 'file_error');
  return stats;
}
