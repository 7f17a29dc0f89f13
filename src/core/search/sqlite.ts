// Passage search on SQLite: the FTS5 index.
import type { PassageRow, PassageSearch } from './index.js';

export const matchingPassagesSqlite: PassageSearch = (sql, forms, document, limit) => {
  // Each word quoted: FTS5 reads it as a string, never as an operator or a column filter.
  const match = [...new Set(forms.map(porterPluralOf))].map((form) => `"${form.replaceAll('"', '""')}"`).join(' OR ');
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

/** Longest token FTS5's porter tokenizer stems (FTS5_PORTER_MAX_TOKEN); longer ones are indexed as they are. */
const PORTER_MAX_TOKEN = 64;

/**
 * A plural the index holds under its singular's token, as that singular: FTS5's porter
 * step 1a drops a final "s" ("codes" → "code", "rates" → "rate"), so searching for both
 * would read the same postings twice. Not after "s", "ie" or "sse" ("glasses", "ties"),
 * which step 1a cuts differently, and not past the longest token it stems.
 */
function porterPluralOf(form: string): string {
  const singular = form.slice(0, -1);
  if (!form.endsWith('s') || singular.length < 3 || form.length > PORTER_MAX_TOKEN) return form;
  return /(s|ie|sse)$/.test(singular) ? form : singular;
}
