// Passage search on SQLite: the FTS5 index, ranked with bm25.
import type { PassageRow, PassageSearch } from './index.js';

export const matchingPassagesSqlite: PassageSearch = (sql, forms, documentIds, limit) => {
  // Each word quoted: FTS5 reads it as a string, never as an operator or a column filter.
  const match = forms.map((form) => `"${form.replaceAll('"', '""')}"`).join(' OR ');
  return sql.all<PassageRow>(
    `SELECT p.document_id, p.position, p.content
       FROM passages_fts
       JOIN passages p ON p.id = passages_fts.rowid
      WHERE passages_fts MATCH ? AND p.document_id IN (${documentIds.map(() => '?').join(', ')})
      ORDER BY bm25(passages_fts), p.document_id, p.position
      LIMIT ?`,
    [match, ...documentIds, limit],
  );
};
