// /health and /api/health
import { VERSION } from '../../core/version.js';
import type { Route } from './route.js';

export const HealthSchema = {
  $id: 'Health',
  type: 'object',
  properties: {
    status: { type: 'string', const: 'healthy' },
    service: { type: 'string', const: 'Dana API' },
    version: { type: 'string' },
  },
  required: ['status', 'service', 'version'],
} as const;

const HEALTH = { status: 'healthy', service: 'Dana API', version: VERSION } as const;

export function healthRoutes(): Route[] {
  return [
    {
      methods: ['get'], path: '/health', tag: 'health', summary: 'Is the server up?',
      response: { kind: 'json', schema: HealthSchema },
      handle: async () => HEALTH,
    },
  ];
}
