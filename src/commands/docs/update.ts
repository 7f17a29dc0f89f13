import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../../cli/base-command.js';
import { definedOnly, idArg, parseOptionalReference } from '../../cli/flags.js';

export default class DocsUpdate extends DanaCommand<typeof DocsUpdate> {
  static override summary = 'Rename a document or move it between topics and agents.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 4 --topic 2',
    'Detach it from its agent\n<%= config.bin %> <%= command.id %> 4 --agent none',
    '<%= config.bin %> <%= command.id %> 4 --name "final report.pdf"',
  ];
  static override args = { id: idArg('Document') };
  static override flags = {
    name: Flags.string({ description: 'New original file name; it keeps an allowed extension (.pdf .txt .md .json .csv .docx).', aliases: ['original-filename'] }),
    topic: Flags.string({ description: 'Topic id, or "none" to detach.', aliases: ['topic-id'] }),
    agent: Flags.string({ description: 'Agent id, or "none" to detach.', aliases: ['agent-id'] }),
  };

  async run() {
    const { services } = await this.openContext();
    const changes = definedOnly({
      original_filename: this.flags.name,
      topic_id: parseOptionalReference(this.flags.topic, 'topic_id'),
      agent_id: parseOptionalReference(this.flags.agent, 'agent_id'),
    });
    return this.showRecord(await services.documents.update(this.args.id, changes));
  }
}
