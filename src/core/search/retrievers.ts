// The retrievers Dana knows, the default first. A new one (a semantic retriever, say) is
// a module exporting a RetrieverDefinition (see retriever.ts) and one line here.
import { fullTextRetriever } from './full-text.js';
import type { RetrieverDefinition } from './retriever.js';

export const RETRIEVERS: readonly RetrieverDefinition[] = [
  fullTextRetriever,
];
