// Migration 005: agent configs written before providers existed held `base_url` and
// `api_key_env`; each becomes a provider of its own, named after the agent.
import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';

const MIGRATION = '005_agent_endpoints_to_providers';

describe('legacy agent endpoints move to providers', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(() => ctx.close());

  /** An agent row as an older Dana stored it, bypassing today's checks. */
  async function legacyAgent(name: string, config: Record<string, unknown>): Promise<number> {
    const now = new Date().toISOString();
    const [row] = await ctx.knex('agents').insert({ name, description: '', config: JSON.stringify(config), created_at: now, updated_at: now }).returning('id');
    return Number(typeof row === 'object' ? row.id : row);
  }

  /** The database as it was before migration 005, with these agents in it; then `dana db migrate`. */
  async function migrateFromBefore005(agents: Array<[string, Record<string, unknown>]>) {
    await ctx.knex('knex_migrations').where({ name: MIGRATION }).delete();
    const ids = [];
    for (const [name, config] of agents) ids.push(await legacyAgent(name, config));
    const outcome = await ctx.services.database.migrate();
    const configs = await Promise.all(ids.map(async (id) => (await ctx.services.agents.get(id)).config));
    return { ids, outcome, configs };
  }

  it('makes a provider per endpoint, points the agent at it, and drops the two keys', async () => {
    const { ids, outcome, configs } = await migrateFromBefore005([
      ['Llama', { provider: 'openai', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2', temperature: 0.3 }],
      ['Plain', { model: 'x', colour: 'red' }],
    ]);
    expect(outcome.applied).to.deep.equal([MIGRATION]);
    expect(outcome.changes).to.deep.equal([`agent ${ids[0]} "Llama": endpoint moved to provider "llama" (http://127.0.0.1:11434/v1)`]);
    expect(configs).to.deep.equal([{ provider: 'llama', model: 'llama3.2', temperature: 0.3 }, { model: 'x', colour: 'red' }]);
    expect(await ctx.services.providers.get('llama')).to.deep.equal({
      name: 'llama', base_url: 'http://127.0.0.1:11434/v1', api_key_env: null, has_key: false, model: null, embedding_model: null, is_default: false,
    });
  });

  it('keeps a key variable with the OpenAI URL when only api_key_env was set', async () => {
    const { configs } = await migrateFromBefore005([['Writer', { api_key_env: 'WRITER_KEY', model: 'gpt-4o' }]]);
    expect(configs).to.deep.equal([{ model: 'gpt-4o', provider: 'writer' }]);
    expect(await ctx.services.providers.get('writer')).to.include({ base_url: 'https://api.openai.com/v1', api_key_env: 'WRITER_KEY' });
  });

  it('makes names that follow the rules and are unique', async () => {
    await ctx.services.providers.add({ name: 'llama', base_url: 'http://127.0.0.1:1/v1' });
    const url = 'http://127.0.0.1:2/v1';
    const { ids, configs } = await migrateFromBefore005([
      ['Llama', { base_url: url }], ['llama', { base_url: url }], ['Ünïcode Agent!!', { base_url: url }], ['!!!', { base_url: url }], ['OpenAI', { base_url: url }],
    ]);
    expect(configs.map((config) => config.provider)).to.deep.equal(['llama-2', 'llama-3', 'unicode-agent', `agent-${ids[3]}`, 'openai-2']);
  });

  it('leaves an agent that answered offline on "local", keeping its endpoint as a provider', async () => {
    const { outcome, configs } = await migrateFromBefore005([['Quiet', { provider: 'local', base_url: 'http://127.0.0.1:3/v1' }]]);
    expect(configs).to.deep.equal([{ provider: 'local' }]);
    expect(outcome.changes[0]).to.match(/still answers with "local"/);
    expect((await ctx.services.providers.get('quiet')).base_url).to.equal('http://127.0.0.1:3/v1');
  });
});
