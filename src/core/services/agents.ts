// Agents: a name, a description and a JSON config that chooses how they answer. The keys
// Dana reads are checked on every write (their types and ranges come from the registered
// runners and retrievers, see chat/registry.ts; the references are checked here); other
// keys are stored as given.
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, NotFoundError, ValidationError, type ValidationIssue } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import {
  AgentListQuerySchema,
  type Agent, type AgentCreate, type AgentUpdate, type Deleted, type FilteredListQuery, type Page,
} from '../schemas.js';
import { deleted, findOr404, readById, readPage, trimFields, type ServiceDeps } from './support.js';
import type { ProviderService } from './providers.js';
import type { ChatRegistry } from '../chat/registry.js';
import { TABLES } from '../db/tables.js';

/** Keys that would let whoever writes a config choose where a key is sent. */
const ENDPOINT_KEYS = ['base_url', 'api_key_env'];

export class AgentService {
  constructor(private readonly deps: ServiceDeps & { providers: ProviderService; registry: ChatRegistry }) {}

  async list(query: Record<string, unknown> = {}): Promise<Page<Agent>> {
    return readPage(this.deps.sql, TABLES.agents, {}, validateText<FilteredListQuery>(AgentListQuerySchema, query));
  }

  async get(id: number): Promise<Agent> {
    return readById(this.deps.sql, TABLES.agents, id);
  }

  async create(input: unknown): Promise<Agent> {
    const data = validateBody<AgentCreate>(this.deps.registry.agentSchemas.create, trimFields(input, ['name']));
    await this.checkConfig(data.config);
    return this.deps.models.Agent.insertRow(data);
  }

  /**
   * A new config is checked like one given on create. Without one, the stored config must
   * still name an existing provider: an agent whose provider was removed is re-pointed first.
   */
  async update(id: number, input: unknown): Promise<Agent> {
    const changes = validateBody<AgentUpdate>(this.deps.registry.agentSchemas.update, trimFields(input, ['name']));
    if (changes.config) await this.checkConfig(changes.config);
    else await this.checkProvider((await this.get(id)).config.provider);
    return this.deps.knex.transaction(async (trx) => {
      const agent = await findOr404(this.deps.models.Agent.query(trx).findById(id), 'Agent');
      return agent.patchRow(changes, trx);
    });
  }

  /**
   * Agents as code: the agent described (`{name, description, config}`) is created, or the
   * one with that name updated, or left alone when it already says exactly that. The
   * description (default "") and config (default {}) are the whole desired state.
   */
  async apply(input: unknown): Promise<{ agent: Agent; action: 'created' | 'updated' | 'unchanged' }> {
    const body = input && typeof input === 'object' && !Array.isArray(input) ? { description: '', config: {}, ...(input as object) } : input;
    const wanted = validateBody<AgentCreate>(this.deps.registry.agentSchemas.create, trimFields(body, ['name']));
    const named = await this.deps.sql.all<{ id: number }>('SELECT id FROM agents WHERE name = ? ORDER BY id LIMIT 2', [wanted.name]);
    if (named.length > 1) throw new ConflictError(`Several agents are named ${JSON.stringify(wanted.name)}: rename all but one (dana agents update ID --name NEW)`);
    if (!named.length) return { agent: await this.create(wanted), action: 'created' };
    const current = await this.get(Number(named[0].id));
    if (current.description === wanted.description && isDeepStrictEqual(current.config, wanted.config)) {
      // Still checked: a file naming a provider that was since removed is an error, not "unchanged".
      await this.checkConfig(wanted.config);
      return { agent: current, action: 'unchanged' };
    }
    return { agent: await this.update(current.id, { description: wanted.description, config: wanted.config }), action: 'updated' };
  }

  /** Its documents and conversations stay, detached (agent_id becomes null). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Agent.query().deleteById(id);
    if (!count) throw new NotFoundError('Agent not found');
    return deleted('Agent');
  }

  /** What the schema cannot say: no endpoint or key variable, and references that exist. */
  private async checkConfig(config: Record<string, unknown>): Promise<void> {
    const issues: ValidationIssue[] = ENDPOINT_KEYS.filter((key) => key in config).map((key) => ({
      loc: ['body', 'config', key],
      msg: 'Not allowed in an agent config: endpoints and keys are set with `dana providers add NAME --base-url URL [--api-key-env VAR]`, then "provider": "NAME"',
      type: 'forbidden_key',
    }));
    if (issues.length) throw new ValidationError(issues);
    await this.checkProvider(config.provider);
    const topicIds = (config.topic_ids ?? []) as number[];
    if (topicIds.length) {
      const rows = await this.deps.sql.all<{ id: number }>(`SELECT id FROM topics WHERE id IN (${topicIds.map(() => '?').join(', ')})`, topicIds);
      const found = new Set(rows.map((row) => Number(row.id)));
      const missing = topicIds.filter((topicId) => !found.has(topicId));
      if (missing.length) {
        throw ValidationError.field(['body', 'config', 'topic_ids'], `${missing.length === 1 ? 'Topic' : 'Topics'} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} ${missing.length === 1 ? 'does' : 'do'} not exist`, 'foreign_key');
      }
    }
  }

  private async checkProvider(name: unknown): Promise<void> {
    if (name === undefined || name === null || (typeof name === 'string' && (await this.deps.providers.find(name)))) return;
    throw ValidationError.field(['body', 'config', 'provider'], `Provider ${JSON.stringify(name)} does not exist (see dana providers list)`, 'foreign_key');
  }
}
