// One search over everything a user wrote or uploaded: document passages (the index chat
// answers from) and messages (their own index, migration 007), merged best first. Both
// are ranked by the same function on a backend (bm25 on SQLite, ts_rank on PostgreSQL),
// so their scores compare.
import { validateText } from '../validation.js';
import { SearchQuerySchema, type SearchQuery, type SearchResult } from '../schemas.js';
import { queryTerms, snippetOf } from '../search/passages.js';
import { scopeClause } from '../search/index.js';
import { TABLES } from '../db/tables.js';
import { scopeOf } from '../chat/service.js';
import { readById, type ServiceDeps } from './support.js';

interface Hit {
  document_id: number | null;
  conversation_id: number | null;
  message_id: number | null;
  title: string;
  content: string;
  rank: number | string;
}

// A document has many passages; a few per wanted result leave room to keep the best per document.
const PASSAGES_PER_RESULT = 4;

export class SearchService {
  constructor(private readonly deps: ServiceDeps) {}

  async search(query: Record<string, unknown>): Promise<SearchResult[]> {
    const { q, kind, agent_id: agentId, limit } = validateText<SearchQuery>(SearchQuerySchema, query);
    const scope = agentId === undefined ? undefined : scopeOf(await readById(this.deps.sql, TABLES.agents, agentId));
    const terms = queryTerms(q);
    if (!terms.length) return [];
    const results: SearchResult[] = [];
    if (kind !== 'messages') {
      const seen = new Set<number>();
      for (const hit of await this.passages(terms, scope, limit * PASSAGES_PER_RESULT)) {
        if (seen.has(Number(hit.document_id))) continue;
        seen.add(Number(hit.document_id));
        results.push(this.result('document', hit, terms));
      }
    }
    if (kind !== 'documents') {
      for (const hit of await this.messages(terms, agentId, limit)) results.push(this.result('message', hit, terms));
    }
    // Ties (equal scores) keep documents before messages, then ids in order: the same on every run.
    return results.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  private result(kind: 'document' | 'message', hit: Hit, terms: string[]): SearchResult {
    const rank = Number(hit.rank);
    return {
      kind,
      document_id: hit.document_id === null ? null : Number(hit.document_id),
      conversation_id: hit.conversation_id === null ? null : Number(hit.conversation_id),
      message_id: hit.message_id === null ? null : Number(hit.message_id),
      title: hit.title,
      snippet: snippetOf(hit.content, terms),
      // bm25 is lower for better matches, ts_rank higher: higher is better here on both.
      score: Math.round((this.deps.sql.dialect === 'postgres' ? rank : -rank) * 1e6) / 1e6,
    };
  }

  /** Passages holding every term, best first, within an agent's documents when asked. */
  private passages(terms: string[], scope: ReturnType<typeof scopeOf> | undefined, limit: number): Promise<Hit[]> {
    const { sql } = this.deps;
    const { where, values } = scope ? scopeClause(scope, 'd') : { where: 'TRUE', values: [] };
    if (sql.dialect === 'postgres') {
      return sql.all<Hit>(
        `SELECT p.document_id, NULL AS conversation_id, NULL AS message_id, d.original_filename AS title, p.content, ts_rank(p.search, q) AS rank
           FROM passages p JOIN documents d ON d.id = p.document_id, to_tsquery('english', ?) q
          WHERE p.search @@ q AND ${where}
          ORDER BY rank DESC, p.document_id, p.position LIMIT ?`,
        [tsQuery(terms), ...values, limit],
      );
    }
    return sql.all<Hit>(
      `SELECT p.document_id, NULL AS conversation_id, NULL AS message_id, d.original_filename AS title, p.content, bm25(passages_fts) AS rank
         FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid JOIN documents d ON d.id = p.document_id
        WHERE passages_fts MATCH ? AND ${where}
        ORDER BY rank, p.document_id, p.position LIMIT ?`,
      [ftsQuery(terms), ...values, limit],
    );
  }

  /** Messages holding every term, best first, in an agent's conversations when asked. */
  private messages(terms: string[], agentId: number | undefined, limit: number): Promise<Hit[]> {
    const { sql } = this.deps;
    const where = agentId === undefined ? 'TRUE' : 'c.agent_id = ?';
    const values = agentId === undefined ? [] : [agentId];
    if (sql.dialect === 'postgres') {
      return sql.all<Hit>(
        `SELECT NULL AS document_id, m.conversation_id, m.id AS message_id, c.title, m.content, ts_rank(m.search, q) AS rank
           FROM messages m JOIN conversations c ON c.id = m.conversation_id, to_tsquery('english', ?) q
          WHERE m.search @@ q AND ${where}
          ORDER BY rank DESC, m.id LIMIT ?`,
        [tsQuery(terms), ...values, limit],
      );
    }
    return sql.all<Hit>(
      `SELECT NULL AS document_id, m.conversation_id, m.id AS message_id, c.title, m.content, bm25(messages_fts) AS rank
         FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id
        WHERE messages_fts MATCH ? AND ${where}
        ORDER BY rank, m.id LIMIT ?`,
      [ftsQuery(terms), ...values, limit],
    );
  }
}

/** Every term, each quoted: FTS5 reads it as a string, never as an operator or a column filter. */
function ftsQuery(terms: string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' AND ');
}

/** Terms are letters and digits only (see queryTerms), so they are safe as tsquery lexemes. */
function tsQuery(terms: string[]): string {
  return terms.join(' & ');
}
