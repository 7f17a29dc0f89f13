// The full-text retriever: the passages table searched with the database's own full-text
// search, FTS5 ranked by bm25 on SQLite, a tsvector ranked by ts_rank on PostgreSQL. Both
// indexes follow the passages table by themselves (triggers, a generated column).
import { queryTerms, snippetOf } from './passages.js';
import type { RetrieverDefinition } from './retriever.js';
import { searchPostgres } from './postgres.js';
import { searchSqlite } from './sqlite.js';

export const fullTextRetriever: RetrieverDefinition = {
  kind: 'full-text',
  create({ dialect, sql }) {
    const searchIn = dialect === 'postgres' ? searchPostgres : searchSqlite;
    return {
      /**
       * Only the message's words are searched, each as a plain term: search syntax in a
       * message ("NEAR(", "*", quotes) is just text.
       */
      async search(message, scope, limit) {
        const terms = queryTerms(message);
        if (!terms.length) return [];
        const rows = await searchIn(sql, terms, scope, limit);
        return rows.map((row) => ({
          documentId: Number(row.document_id),
          originalFilename: row.original_filename,
          position: Number(row.position),
          snippet: snippetOf(row.content, terms),
          content: row.content,
        }));
      },
    };
  },
};
