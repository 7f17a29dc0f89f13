// Passage search on PostgreSQL: the generated tsvector column and its GIN index, ranked
// with ts_rank.
import type { PassageRow, PassageSearch } from './index.js';

export const matchingPassagesPostgres: PassageSearch = (sql, forms, document, limit) =>
  // Words are letters and digits only (see queryTerms), so they are safe as tsquery lexemes.
  sql.all<PassageRow>(
    `SELECT p.document_id, p.position, p.content
       FROM passages p, to_tsquery('english', ?) q
      WHERE p.document_id = ? AND p.search @@ q
      ORDER BY ts_rank(p.search, q) DESC, p.position
      LIMIT ?`,
    [forms.join(' | '), document.id, limit],
  );
