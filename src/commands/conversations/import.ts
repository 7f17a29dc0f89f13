import fs from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { ValidationError } from '../../core/errors.js';
import { parseOptionalReference } from '../../cli/flags.js';

export default class ConversationsImport extends DanaCommand<typeof ConversationsImport> {
  static override summary = 'Import a conversation exported as JSON, as a new conversation.';
  static override description = 'The messages keep their senders, contents, sources and timestamps; the ids in the file are not reused. Nothing is stored when the file is not valid.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> trip.json',
    'From another data folder, with an agent of this one\n<%= config.bin %> <%= command.id %> trip.json --agent 2',
    'From standard input\ncat trip.json | <%= config.bin %> <%= command.id %> -',
  ];
  static override args = { file: Args.string({ description: 'JSON file written by conversations export, or - for standard input.', required: true }) };
  static override flags = {
    agent: Flags.string({ description: 'Id of the agent the new conversation is with, or "none" (default: the agent_id in the file).', aliases: ['agent-id'] }),
  };

  async run() {
    const { file } = this.args;
    const data = parseJsonFile(file, file === '-' ? await readAll(this.io.stdin) : undefined);
    const agentId = parseOptionalReference(this.flags.agent, 'agent_id');
    if (agentId !== undefined && data && typeof data === 'object' && !Array.isArray(data)) (data as Record<string, unknown>).agent_id = agentId;
    const { services } = await this.openContext();
    return this.showRecord(await services.conversations.import(data));
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON file's contents, or a one-line error naming the file. */
export function parseJsonFile(file: string, text?: string): unknown {
  let source = text;
  if (source === undefined) {
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw ValidationError.field(['args', 'file'], `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'file_error');
    }
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw ValidationError.field(['args', 'file'], `${file} is not valid JSON (${(error as Error).message})`, 'json_invalid');
  }
}
