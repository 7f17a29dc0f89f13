// Passage search on SQLite: the FTS5 index.
import type { PassageRow, PassageSearch } from './index.js';

export const matchingPassagesSqlite: PassageSearch = (sql, forms, document, limit) => {
  // Each word quoted: FTS5 reads it as a string, never as an operator or a column filter.
  const match = forms.map((form) => `"${form.replaceAll('"', '""')}"`).join(' OR ');
  // A document's passages are written together, so their ids are (nearly always) one
  // range: FTS5 seeks to it instead of reading every match in the index. The FTS query
  // stands alone (joined, SQLite would run it once per passage of the document), and
  // unranked: bm25() would first read every match of each word in the whole index.
  return sql.all<PassageRow>(
    `SELECT p.document_id, p.position, p.content
       FROM passages p
      WHERE p.id IN (SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? AND rowid BETWEEN ? AND ?)
        AND p.document_id = ?
      ORDER BY p.position
      LIMIT ?`,
    [match, document.firstId, document.lastId, document.id, limit],
  );
};
