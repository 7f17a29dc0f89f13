// Passage search on PostgreSQL: the generated tsvector column and its GIN index, ranked
// with ts_rank.
import type { Knex } from 'knex';
import type { SearchFunction, SearchHit } from './index.js';
import { toHit } from './sqlite.js';

export const searchPostgres: SearchFunction = async (db: Knex, terms, scope, limit): Promise<SearchHit[]> => {
  // Terms are letters and digits only (see queryTerms), so they are safe as tsquery lexemes.
  const query = terms.join(' | ');
  const result = await db.raw(
    `SELECT p.document_id, d.original_filename, p.position, p.content,
            ts_headline('english', p.content, q, 'StartSel="", StopSel="", MaxWords=40, MinWords=20, MaxFragments=1') AS snippet
       FROM passages p
       JOIN documents d ON d.id = p.document_id,
            to_tsquery('english', ?) q
      WHERE p.search @@ q AND (d.agent_id = ? OR d.topic_id = ANY(?::int[]))
      ORDER BY ts_rank(p.search, q) DESC, p.document_id, p.position
      LIMIT ?`,
    [query, scope.agentId, scope.topicIds, limit],
  );
  return result.rows.map(toHit);
};
