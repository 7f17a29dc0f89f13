// Cutting a document's text into passages at the boundaries a reader sees (paragraphs,
// headings, CSV rows), counting the words of a document for document-level ranking, and
// turning a user's words into query terms that can never be read as search syntax.

/** A passage grows paragraph by paragraph up to about this many words. */
export const PASSAGE_WORDS = 200;
/** A heading starts a new passage once the one being built has this many words. */
const HEADING_CUT_WORDS = 40;

/**
 * Bump when the way text is cut or counted changes: documents indexed by an older version
 * are re-cut (a migration marks them pending; see db/migrations.ts).
 */
export const PASSAGE_VERSION = 2;

export interface Passage {
  position: number;
  content: string;
}

/** A batch of passages is handed over at this many passages or characters, whichever comes first. */
const BATCH_CHARS = 256 * 1024;

/** How a text's lines are grouped into passages. */
export type TextShape = 'prose' | 'csv';

/**
 * Passages of text that arrives in pieces, in batches of `batchSize` (or ~256 KB of text).
 * Prose is cut at blank lines and before headings, a paragraph longer than a passage at
 * sentence ends; a CSV gives a passage per row, quoted under its header line. Only the
 * current line and passage are held besides the batch.
 */
export async function* passagesOf(pieces: AsyncIterable<string> | Iterable<string>, batchSize = 100, shape: TextShape = 'prose'): AsyncGenerator<Passage[]> {
  let batch: Passage[] = [];
  let batchChars = 0;
  let position = 0;
  const cutter = shape === 'csv' ? new CsvCutter() : new ProseCutter();
  const take = (contents: string[]) => {
    for (const content of contents) {
      batch.push({ position: position++, content });
      batchChars += content.length;
    }
  };
  let partial = '';
  for await (const piece of pieces) {
    const lines = (partial + piece).split(/\r\n|\r|\n/);
    partial = lines.pop() ?? '';
    for (const line of lines) {
      take(cutter.line(line));
      if (batch.length >= batchSize || batchChars >= BATCH_CHARS) {
        yield batch;
        batch = [];
        batchChars = 0;
      }
    }
  }
  if (partial) take(cutter.line(partial));
  take(cutter.end());
  if (batch.length) yield batch;
}

/** Words separated by white space, counted without splitting (cutting is on the indexing path). */
function wordCount(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const space = code === 32 || (code >= 9 && code <= 13) || code === 160 || (code > 255 && /\s/.test(text[i]));
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

class ProseCutter {
  private paragraphs: string[] = [];
  private words = 0;
  private paragraph: string[] = [];
  private paragraphWords = 0;

  line(raw: string): string[] {
    const line = raw.replace(/\s+/g, ' ').trim();
    const out: string[] = [];
    if (!line) {
      this.closeParagraph(out);
      return out;
    }
    // A heading opens a passage of its own (unless the current one is still short), so a
    // section is quoted with its title.
    if (/^(#{1,6}\s|[A-Z0-9][^.!?]{0,80}:$)/.test(line) || /^(=+|-+)$/.test(line)) {
      this.closeParagraph(out);
      if (this.words >= HEADING_CUT_WORDS) this.flush(out);
    }
    const words = wordCount(line);
    this.paragraph.push(line);
    this.paragraphWords += words;
    if (this.paragraphWords >= PASSAGE_WORDS) this.closeParagraph(out);
    return out;
  }

  end(): string[] {
    const out: string[] = [];
    this.closeParagraph(out);
    this.flush(out);
    return out;
  }

  private closeParagraph(out: string[]): void {
    if (!this.paragraph.length) return;
    const text = this.paragraph.join('\n');
    const words = this.paragraphWords;
    this.paragraph = [];
    this.paragraphWords = 0;
    if (this.words && this.words + words > PASSAGE_WORDS) this.flush(out);
    if (words <= PASSAGE_WORDS) {
      this.paragraphs.push(text);
      this.words += words;
      return;
    }
    // A paragraph longer than a passage: cut at sentence ends, or between words when a
    // "sentence" is itself too long.
    for (const sentence of sentencesOf(text)) {
      const sentenceWords = sentence.split(/\s+/).filter(Boolean);
      for (let start = 0; start < sentenceWords.length; start += PASSAGE_WORDS) {
        const part = sentenceWords.slice(start, start + PASSAGE_WORDS);
        if (this.words && this.words + part.length > PASSAGE_WORDS) this.flush(out);
        this.paragraphs.push(part.join(' '));
        this.words += part.length;
      }
    }
  }

  private flush(out: string[]): void {
    if (this.paragraphs.length) out.push(this.paragraphs.join('\n\n'));
    this.paragraphs = [];
    this.words = 0;
  }
}

/** Rows of a CSV, each under the header line; a quoted field may hold line breaks. */
class CsvCutter {
  private header?: string;
  private row: string[] = [];
  private quotes = 0;

  line(raw: string): string[] {
    this.row.push(raw);
    this.quotes += (raw.match(/"/g) ?? []).length;
    // An odd count of quotes so far: a quoted field goes on past this line break.
    if (this.quotes % 2 === 1) return [];
    return this.endRow();
  }

  end(): string[] {
    return this.endRow();
  }

  private endRow(): string[] {
    const row = this.row.join('\n');
    this.row = [];
    this.quotes = 0;
    if (!row.trim()) return [];
    if (this.header === undefined) {
      this.header = row;
      return [];
    }
    return [`${this.header}\n${row}`];
  }
}

/** Whether a passage is a CSV row under its header (see CsvCutter). */
function isCsvRow(content: string): boolean {
  const lines = content.split('\n');
  return lines.length >= 2 && lines[0].includes(',') && !/[.!?]\s/.test(lines[0]);
}

// Function words only: too common to say anything about what a question is after. Verbs a
// question may be about ("find", "show", "explain") are content words.
const STOPWORDS = new Set(
  ('a about above after again against all am an and any are as at be because been before being below between both but by can could did do does ' +
    'doing down during each few for from further had has have having he her here hers herself him himself his how i if in into is it its ' +
    'itself just me more most my myself no nor not now of off on once only or other our ours ourselves out over own same she should so some ' +
    'such than that the their theirs them themselves then there these they this those through to too under until up very was we were what ' +
    'when where which while who whom why will with would you your yours yourself yourselves')
    .split(' '),
);

const MAX_QUERY_TERMS = 24;
/** Longest term kept, in characters (longer words are cut to this). */
const MAX_TERM_CHARS = 64;

/** Lower-cased words of a text, letters and digits only. */
export function wordsOf(text: string): string[] {
  // ASCII text (most of it) needs no Unicode normalisation and matches the same words with
  // a plain character class, several times faster.
  if (ASCII.test(text)) return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * The indexing form of a word: lower-case, and a plural "s" folded ("parsers" → "parser",
 * not "class" or "this"). Fuller stemming (Porter) matched "fairness" with "fair" and cost
 * recall in the eval (eval/retrieval.mjs); folding plurals gained it.
 */
export function termOf(word: string): string {
  const term = word.length > MAX_TERM_CHARS ? word.slice(0, MAX_TERM_CHARS) : word;
  if (term.length > 3 && term.endsWith('s') && !/(ss|us|is)$/.test(term)) return term.slice(0, -1);
  return term;
}

/** Whether a word counts for search (not a function word, not a lone letter). */
export function isContentWord(word: string): boolean {
  return (word.length >= 2 || /\d/.test(word)) && !STOPWORDS.has(word);
}

/** The distinct meaningful terms of a message, in order of appearance. */
export function queryTerms(message: string): string[] {
  const terms: string[] = [];
  for (const word of wordsOf(message)) {
    if (!isContentWord(word)) continue;
    const term = termOf(word);
    if (terms.includes(term)) continue;
    terms.push(term);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return terms;
}

/** How often each content term occurs in a text, and how many words it has in all. */
export function countTerms(text: string, into: Map<string, number> = new Map()): { counts: Map<string, number>; words: number } {
  const words = wordsOf(text);
  for (const word of words) {
    if (!isContentWord(word)) continue;
    const term = termOf(word);
    into.set(term, (into.get(term) ?? 0) + 1);
  }
  return { counts: into, words: words.length };
}

/** The words a full-text index should look for to find a term: the word and its plural. */
export function searchFormsOf(term: string): string[] {
  return term.length > 2 && !/\d$/.test(term) ? [term, `${term}s`] : [term];
}

const SNIPPET_WORDS = 60;

/** Sentences of a passage: cut after . ! ? and at line breaks. */
function sentencesOf(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(\[])|\n+/u).map((part) => part.trim()).filter(Boolean);
}

/**
 * The part of a passage worth quoting: for a CSV row, the header and the row; otherwise the
 * sentences that match the query (in order, "…" where some were left out), at most about
 * 60 words, or the passage's start when none does.
 */
export function snippetOf(content: string, terms: string[]): string {
  if (isCsvRow(content)) return content;
  const wanted = new Set(terms);
  const sentences = sentencesOf(content);
  const matching = sentences.map((sentence) => wordsOf(sentence).some((word) => wanted.has(termOf(word))));
  const parts: string[] = [];
  let words = 0;
  let previous = -1;
  for (const [i, sentence] of sentences.entries()) {
    if (!matching[i]) continue;
    const length = wordCount(sentence);
    if (words && words + length > SNIPPET_WORDS) break;
    if (i > previous + 1) parts.push('…');
    parts.push(length > SNIPPET_WORDS ? clip(sentence, SNIPPET_WORDS, terms) : sentence);
    words += Math.min(length, SNIPPET_WORDS);
    previous = i;
  }
  if (!parts.length) return clip(content, SNIPPET_WORDS / 1.5, []);
  if (previous < sentences.length - 1) parts.push('…');
  return parts.join(' ');
}

/** About `size` words of a long text, starting a little before its first matching word. */
function clip(text: string, size: number, terms: string[]): string {
  const words = text.split(/\s+/).filter(Boolean);
  const first = terms.length ? words.findIndex((word) => wordsOf(word).some((part) => terms.includes(termOf(part)))) : 0;
  const start = Math.max(0, Math.min(first <= 0 ? 0 : first - 8, words.length - size));
  const end = Math.min(words.length, start + Math.round(size));
  return `${start > 0 ? '…' : ''}${words.slice(start, end).join(' ')}${end < words.length ? '…' : ''}`;
}
