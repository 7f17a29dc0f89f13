// Cutting a document's text into overlapping passages, and a user's words into a query
// that can never be read as search syntax.

/** Words per passage, and words shared by neighbouring passages so no sentence is lost at a cut. */
export const PASSAGE_WORDS = 200;
export const PASSAGE_OVERLAP = 40;

export interface Passage {
  position: number;
  content: string;
}

export function splitPassages(text: string): Passage[] {
  const words = text.split(/\s+/).filter(Boolean);
  const passages: Passage[] = [];
  const step = PASSAGE_WORDS - PASSAGE_OVERLAP;
  for (let start = 0; start < words.length; start += step) {
    passages.push({ position: passages.length, content: words.slice(start, start + PASSAGE_WORDS).join(' ') });
    if (start + PASSAGE_WORDS >= words.length) break;
  }
  return passages;
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
