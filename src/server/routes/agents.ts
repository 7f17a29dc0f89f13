// /api/agents
import type { Services } from '../../core/context.js';
import { AgentCreateSchema, AgentSchema, AgentUpdateSchema, DeletedSchema, AgentListQuerySchema } from '../../core/schemas.js';
import type { Route } from './route.js';

const tag = 'agents';

export function agentRoutes({ agents }: Services): Route[] {
  return [
    {
      methods: ['get'], path: '/agents/', tag, summary: 'List agents',
      query: AgentListQuerySchema, response: { kind: 'page', schema: AgentSchema },
      handle: ({ query }) => agents.list(query),
    },
    {
      methods: ['post'], path: '/agents/', tag, summary: 'Create an agent',
      body: AgentCreateSchema, response: { kind: 'created', schema: AgentSchema, location: ({ id }) => `/api/agents/${id}` },
      handle: ({ body }) => agents.create(body),
    },
    {
      methods: ['get'], path: '/agents/{id}', tag, summary: 'Get an agent',
      response: { kind: 'json', schema: AgentSchema },
      handle: ({ params }) => agents.get(params.id),
    },
    {
      methods: ['put', 'patch'], path: '/agents/{id}', tag, summary: 'Update an agent (only the fields given)',
      body: AgentUpdateSchema, response: { kind: 'json', schema: AgentSchema },
      handle: ({ params, body }) => agents.update(params.id, body),
    },
    {
      methods: ['delete'], path: '/agents/{id}', tag, summary: 'Delete an agent (its documents and conversations are kept, detached)',
      response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => agents.delete(params.id),
    },
  ];
}
