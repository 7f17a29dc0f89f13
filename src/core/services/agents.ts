// Agents: a name, a description and a free-form JSON config that chooses how they answer.
import { NotFoundError } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import {
  AgentCreateSchema, AgentUpdateSchema, ListQuerySchema,
  type Agent, type AgentCreate, type AgentUpdate, type Deleted, type ListQuery, type Page,
} from '../schemas.js';
import { deleted, findOr404, insertRow, readById, readPage, trimFields, type ServiceDeps } from './support.js';
import { nextTimestamp, toAgent } from '../db/rows.js';

export class AgentService {
  constructor(private readonly deps: ServiceDeps) {}


  async list(query: Record<string, unknown> = {}): Promise<Page<Agent>> {
    const paging = validateText<ListQuery>(ListQuerySchema, query);
    return readPage(this.deps.sql, 'agents', {}, paging, toAgent);
  }

  async get(id: number): Promise<Agent> {
    return readById(this.deps.sql, 'agents', id, 'Agent', toAgent);
  }

  async create(input: unknown): Promise<Agent> {
    const data = validateBody<AgentCreate>(AgentCreateSchema, trimFields(input, ['name']));
    const now = nextTimestamp();
    const values = { name: data.name, description: data.description, config: JSON.stringify(data.config), created_at: now, updated_at: now };
    return toAgent(await insertRow(this.deps.sql, 'agents', values));
  }

  async update(id: number, input: unknown): Promise<Agent> {
    const changes = validateBody<AgentUpdate>(AgentUpdateSchema, trimFields(input, ['name']));
    return this.deps.knex.transaction(async (trx) => {
      const agent = await findOr404(this.deps.models.Agent.query(trx).findById(id), 'Agent');
      return (await agent.$query(trx).patchAndFetch(changes)).toApi();
    });
  }

  /** Its documents and conversations stay, detached (agent_id becomes null). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Agent.query().deleteById(id);
    if (!count) throw new NotFoundError('Agent not found');
    return deleted('Agent');
  }
}
