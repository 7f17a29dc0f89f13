// A data folder indexed by an older Dana (whole-text windows of words, no term counts) is
// re-cut when the newer one first starts: passages at paragraphs, and the document ranked.
import { expect } from 'chai';
import { openTestContext } from '../helpers/context.js';
import { createContext } from '../../src/core/context.js';
import { createAgent, upload } from '../helpers/chat.js';

describe('documents indexed before passages were cut at paragraphs', () => {
  it('are read again at the next start, and found by the new ranking', async () => {
    const first = await openTestContext();
    const agent = await createAgent(first);
    const document = await upload(first, 'notes.md', '# Ferns\n\nFerns spread by spores.\n\n# Mosses\n\nMosses hold water like sponges.\n', { agent_id: agent.id });
    // As an older Dana left it: one window of words, and none of the newer tables' rows or migrations.
    await first.knex('passages').where('document_id', document.id).delete();
    await first.knex('passages').insert({ document_id: document.id, position: 0, content: '# Ferns Ferns spread by spores. # Mosses Mosses hold water like sponges.' });
    await first.knex.schema.dropTable('document_words');
    await first.knex.schema.dropTable('document_terms');
    await first.knex('knex_migrations').whereIn('name', ['008_document_terms', '009_recut_passages']).delete();
    const config = first.config;
    const second = await createContext(config);
    try {
      const passages = await second.knex('passages').where('document_id', document.id).orderBy('position').pluck('content');
      // Cut again from the file: paragraphs keep their breaks.
      expect(passages).to.deep.equal(['# Ferns\n\nFerns spread by spores.\n\n# Mosses\n\nMosses hold water like sponges.']);
      const [row] = await second.knex('documents').where('id', document.id).select('text_status');
      expect(row.text_status).to.equal('indexed');
      const reply = await second.services.chat.send({ message: 'mosses water', agent_id: agent.id });
      expect(reply.sources.map((source) => source.original_filename)).to.deep.equal(['notes.md']);
      expect(reply.sources[0].snippet).to.include('Mosses hold water like sponges.');
    } finally {
      await second.close();
      await first.close();
    }
  });
});
