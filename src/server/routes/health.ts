// /health and /api/health: up, and able to query its database. Polled often (during uploads
// too), so the check is one trivial query with a short deadline.
import type { Services } from '../../core/context.js';
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
const CHECK_TIMEOUT_MS = 3_000;

export function healthRoutes({ database }: Services): Route[] {
  return [
    {
      methods: ['get'], path: '/health', tag: 'health', summary: 'Is the server up and its database answering?',
      description: 'Answers 503 `{"status": "unhealthy", "detail": …}` when the database cannot be queried.',
      response: { kind: 'json', schema: HealthSchema },
      errors: [503],
      async handle({ ctx }) {
        const problem = await databaseProblem(() => database.ping());
        if (!problem) return HEALTH;
        ctx.status = 503;
        return { status: 'unhealthy', detail: problem };
      },
    },
  ];
}

/** Why the database check failed, or undefined when it passed in time. */
async function databaseProblem(check: () => Promise<void>): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`The database did not answer within ${CHECK_TIMEOUT_MS / 1000} s`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check().then(() => undefined, (error: Error & { code?: string }) => `The database check failed${error.code ? ` (${error.code})` : ''}`),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
