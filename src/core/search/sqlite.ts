// Passage search on SQLite: the FTS5 index, ranked with bm25.
import type { PassageRow, PassageSearch } from './index.js';

export const matchingPassagesSqlite: PassageSearch = (sql, forms, document, limit) => {
  // Each word quoted: FTS5 reads it as a string, never as an operator or a column filter.
  const match = forms.map((form) => `"${form.replaceAll('"', '""')}"`).join(' OR ');
  // A document's passages are written together, so their ids are (nearly always) one
  // range: FTS5 seeks to it instead of reading every match in the index.
  return sql.all<PassageRow>(
    `SELECT p.document_id, p.position, p.content
       FROM passages_fts
       JOIN passages p ON p.id = passages_fts.rowid
      WHERE passages_fts MATCH ? AND passages_fts.rowid BETWEEN ? AND ? AND p.document_id = ?
      ORDER BY bm25(passages_fts), p.position
      LIMIT ?`,
    [match, document.firstId, document.lastId, document.id, limit],
  );
};
