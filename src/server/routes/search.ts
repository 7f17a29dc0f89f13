// /api/search
import type { Services } from '../../core/context.js';
import { SearchQuerySchema, SearchResultsSchema } from '../../core/schemas.js';
import type { Route } from './route.js';

export function searchRoutes({ search }: Services): Route[] {
  return [
    {
      methods: ['get'], path: '/search', tag: 'search', summary: 'Search document passages and messages',
      description: 'Results best first: a document (its best passage) or a message, with the ids that apply (others null) and a snippet of the match.',
      query: SearchQuerySchema, response: { kind: 'json', schema: SearchResultsSchema },
      handle: ({ query }) => search.search(query),
    },
  ];
}
