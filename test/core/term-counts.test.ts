// A document's term counts (document_terms, document_words) are what ranks it among
// documents: they must be whole however many terms it has, and survive the change of the
// table's layout on SQLite (migration 010).
import { expect } from 'chai';
import { openTestContext } from '../helpers/context.js';
import { createContext } from '../../src/core/context.js';
import { MIGRATIONS } from '../../src/core/db/migrations.js';
import { countTerms } from '../../src/core/search/passages.js';
import { createAgent, upload } from '../helpers/chat.js';
import { isPostgres } from '../helpers/backend.js';

async function layout(ctx: { knex: import('knex').Knex }): Promise<string> {
  const [row] = await ctx.knex.raw(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'document_terms'`);
  return row.sql;
}

async function storedCounts(ctx: { knex: import('knex').Knex }, documentId: number): Promise<{ terms: Map<string, number>; words: number }> {
  const rows: Array<{ term: string; occurrences: number }> = await ctx.knex('document_terms').where('document_id', documentId).select('term', 'occurrences');
  const [length] = await ctx.knex('document_words').where('document_id', documentId).select('words');
  return { terms: new Map(rows.map((row) => [row.term, Number(row.occurrences)])), words: Number(length?.words) };
}

describe('document term counts', () => {
  it('are all written for a document with many thousands of distinct terms', async () => {
    const ctx = await openTestContext();
    try {
      const agent = await createAgent(ctx);
      // 9,001 distinct terms: more than one batch of rows, and more than one transaction's worth.
      const paragraphs = Array.from({ length: 300 }, (_, p) => Array.from({ length: 30 }, (_, w) => `term${p * 30 + w}`).join(' ') + ' ferns.');
      const text = paragraphs.join('\n\n');
      const document = await upload(ctx, 'many.txt', text, { agent_id: agent.id });
      const expected = countTerms(text);
      const stored = await storedCounts(ctx, document.id);
      expect(stored.terms.size).to.equal(9001);
      expect(stored.terms).to.deep.equal(expected.counts);
      expect(stored.words).to.equal(expected.words);
      expect(stored.terms.get('fern')).to.equal(300);
    } finally {
      await ctx.close();
    }
  });

  it('kept in the former layout move to the new one unchanged, and still rank', async () => {
    const first = await openTestContext();
    const agent = await createAgent(first);
    const ferns = await upload(first, 'ferns.md', '# Ferns\n\nFerns spread by spores, ferns like shade.\n', { agent_id: agent.id });
    const mosses = await upload(first, 'mosses.md', '# Mosses\n\nMosses hold water like sponges.\n', { agent_id: agent.id });
    const before = [await storedCounts(first, ferns.id), await storedCounts(first, mosses.id)];
    // As the previous version left it (a no-op on PostgreSQL, whose layout is unchanged).
    const migration = MIGRATIONS.find((item) => item.name === '010_document_terms_by_term');
    await migration?.down(first.knex);
    await first.knex('knex_migrations').where('name', '010_document_terms_by_term').delete();
    if (!isPostgres) expect(await layout(first)).not.to.include('WITHOUT ROWID');
    const second = await createContext(first.config);
    try {
      if (!isPostgres) expect(await layout(second)).to.include('WITHOUT ROWID');
      expect([await storedCounts(second, ferns.id), await storedCounts(second, mosses.id)]).to.deep.equal(before);
      const reply = await second.services.chat.send({ message: 'mosses water', agent_id: agent.id });
      expect(reply.sources.map((source) => source.original_filename)).to.deep.equal(['mosses.md']);
      // A document deleted takes its counts with it (the foreign key's cascade, through the document_id index).
      await second.services.documents.delete(mosses.id);
      expect((await storedCounts(second, mosses.id)).terms.size).to.equal(0);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
