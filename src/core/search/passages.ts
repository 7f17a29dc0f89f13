// Cutting a document's text into overlapping passages, and a user's words into a query
// that can never be read as search syntax.

/** Words per passage, and words shared by neighbouring passages so no sentence is lost at a cut. */
export const PASSAGE_WORDS = 200;
export const PASSAGE_OVERLAP = 40;

export interface Passage {
  position: number;
  content: string;
}

/** A batch of passages is handed over at this many passages or characters, whichever comes first. */
const BATCH_CHARS = 256 * 1024;

/**
 * Passages of text that arrives in pieces, in batches of `batchSize` (or ~256 KB of text):
 * a word cut between two pieces is joined again, and only the passage being built is held
 * besides the batch.
 */
export async function* passagesOf(pieces: AsyncIterable<string> | Iterable<string>, batchSize = 100): AsyncGenerator<Passage[]> {
  let words: string[] = [];
  let partial = '';
  let position = 0;
  let batch: Passage[] = [];
  let batchChars = 0;
  const emit = () => {
    const content = words.join(' ');
    batch.push({ position: position++, content });
    batchChars += content.length;
    words = words.slice(PASSAGE_WORDS - PASSAGE_OVERLAP);
  };
  for await (const piece of pieces) {
    const parts = (partial + piece).split(/\s+/);
    partial = parts.pop() ?? '';
    for (const word of parts) {
      if (!word) continue;
      words.push(word);
      if (words.length === PASSAGE_WORDS) emit();
      if (batch.length === batchSize || batchChars >= BATCH_CHARS) {
        yield batch;
        batch = [];
        batchChars = 0;
      }
    }
  }
  if (partial) words.push(partial);
  // The last passage, unless it would only repeat the overlap of the one before.
  if (words.length > (position ? PASSAGE_OVERLAP : 0)) emit();
  if (batch.length) yield batch;
}

// Words too common to say anything about what a question is after.
const STOPWORDS = new Set(
  ('a about above after again all am an and any are as at be because been before being below between both but by can could did do does ' +
    'doing down during each few for from further had has have having he her here hers herself him himself his how i if in into is it its ' +
    'itself just me more most my myself no nor not now of off on once only or other our ours ourselves out over own same she should so some ' +
    'such than that the their theirs them themselves then there these they this those through to too under until up very was we were what ' +
    'when where which while who whom why will with would you your yours yourself yourselves tell please know explain say says said give ' +
    'find show me can could')
    .split(' '),
);

const MAX_QUERY_TERMS = 24;

/** The distinct meaningful words of a message, lower-cased, in order of appearance. */
export function queryTerms(message: string): string[] {
  const words = message.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms: string[] = [];
  for (const word of words) {
    if ((word.length < 2 && !/\d/.test(word)) || STOPWORDS.has(word) || terms.includes(word)) continue;
    terms.push(word);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return terms;
}

const SNIPPET_WORDS = 40;

/**
 * The part of a passage worth quoting: about 40 words from just before the first word that
 * matches the query (prefix match, to meet the search's stemming halfway), with "…" where
 * the passage goes on.
 */
export function snippetOf(content: string, terms: string[]): string {
  const words = content.split(/\s+/).filter(Boolean);
  const stems = terms.map((term) => term.slice(0, Math.max(4, term.length - 2)));
  const first = words.findIndex((word) => {
    const bare = word.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
    return bare.length > 0 && stems.some((stem) => bare.startsWith(stem) || stem.startsWith(bare) && bare.length >= 4);
  });
  const start = Math.max(0, Math.min(first === -1 ? 0 : first - 8, words.length - SNIPPET_WORDS));
  const end = Math.min(words.length, start + SNIPPET_WORDS);
  return `${start > 0 ? '…' : ''}${words.slice(start, end).join(' ')}${end < words.length ? '…' : ''}`;
}
