// Passage search on PostgreSQL: the generated tsvector column.
import type { PassageRow, PassageSearch } from './index.js';

export const matchingPassagesPostgres: PassageSearch = (sql, forms, document, limit) =>
  // Words are letters and digits only (see queryTerms), so they are safe as tsquery lexemes.
  sql.all<PassageRow>(
    `SELECT p.document_id, p.position, p.content
       FROM passages p
      WHERE p.document_id = ? AND p.search @@ to_tsquery('english', ?)
      ORDER BY p.position
      LIMIT ?`,
    [document.id, forms.join(' | '), limit],
  );
