// /api/providers: read-only. Providers are managed from the CLI only (`dana providers`),
// because a provider decides where an API key is sent.
import type { Services } from '../../core/context.js';
import { ListQuerySchema, ProviderSchema } from '../../core/schemas.js';
import type { Route } from './route.js';

export function providerRoutes({ providers }: Services): Route[] {
  return [
    {
      methods: ['get'], path: '/providers/', tag: 'providers', summary: 'List model providers',
      description: 'The built-in "local" and "openai" first, then those added with `dana providers add`. `has_key` says whether the '
        + "key variable is set in the server's environment; keys themselves are never shown.",
      query: ListQuerySchema, response: { kind: 'page', schema: ProviderSchema },
      handle: ({ query }) => providers.list(query),
    },
  ];
}
