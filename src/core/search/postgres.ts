// Passage search on PostgreSQL: the generated tsvector column and its GIN index, ranked
// with ts_rank.
import type { PassageRow, SearchFunction } from './index.js';
import { scopeClause } from './index.js';

export const searchPostgres: SearchFunction = (sql, terms, scope, limit) => {
  // Terms are letters and digits only (see queryTerms), so they are safe as tsquery lexemes.
  const { where, values } = scopeClause(scope, 'd');
  return sql.all<PassageRow>(
    `SELECT p.document_id, d.original_filename, p.position, p.content
       FROM passages p
       JOIN documents d ON d.id = p.document_id,
            to_tsquery('english', ?) q
      WHERE p.search @@ q AND ${where}
      ORDER BY ts_rank(p.search, q) DESC, p.document_id, p.position
      LIMIT ?`,
    [terms.join(' | '), ...values, limit],
  );
};
