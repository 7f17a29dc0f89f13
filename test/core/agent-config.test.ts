// The agent config keys Dana reads are checked on create and on update (422 naming
// ["body", "config", key]); endpoints and key variables are refused; other keys are kept.
import { expect } from 'chai';
import { ValidationError } from '../../src/core/errors.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { rejectionOf } from '../helpers/chat.js';

describe('agent config checks', () => {
  let ctx: TestContext;
  let existing: Agent;
  let topicIds: number[];

  beforeEach(async () => {
    ctx = await openTestContext();
    existing = await ctx.services.agents.create({ name: 'Existing', description: '', config: {} });
    topicIds = [];
    for (const name of ['a', 'b']) topicIds.push((await ctx.services.topics.create({ name, description: '' })).id);
  });
  afterEach(() => ctx.close());

  const create = (config: unknown) => ctx.services.agents.create({ name: 'Ada', description: '', config });
  const update = (config: unknown) => ctx.services.agents.update(existing.id, { config });

  /** The 422's issues on the config, as [key, msg]. */
  async function refusal(work: Promise<unknown>): Promise<Array<[string, string]>> {
    const error = await rejectionOf(work);
    expect(error).to.be.instanceOf(ValidationError);
    return (error as unknown as ValidationError).issues.map((issue) => {
      expect(issue.loc.slice(0, 2)).to.deep.equal(['body', 'config']);
      return [String(issue.loc[2]), issue.msg];
    });
  }

  const invalid: Array<[string, unknown]> = [
    ['provider', 'skynet'],
    ['provider', 5],
    ['model', 42],
    ['temperature', -0.1],
    ['temperature', 2.5],
    ['temperature', 'hot'],
    ['max_tokens', 0],
    ['max_tokens', 32_769],
    ['max_tokens', 1.5],
    ['system_prompt', 'x'.repeat(20_001)],
    ['system_prompt', ['a']],
    ['timeout', 0.5],
    ['timeout', 601],
    ['topic_ids', 'all'],
    ['topic_ids', [0]],
    ['topic_ids', [999]],
    ['base_url', 'http://attacker.example/v1'],
    ['api_key_env', 'AWS_SECRET_ACCESS_KEY'],
  ];
  for (const [key, value] of invalid) {
    const shown = JSON.stringify(value).slice(0, 30);
    it(`refuses ${key}: ${shown} on create, naming the key`, async () => {
      expect((await refusal(create({ [key]: value }))).map(([where]) => where)).to.deep.equal([key]);
      expect((await ctx.services.agents.list()).total).to.equal(1);
    });
    it(`refuses ${key}: ${shown} on update, leaving the agent as it was`, async () => {
      expect((await refusal(update({ [key]: value }))).map(([where]) => where)).to.deep.equal([key]);
      expect(await ctx.services.agents.get(existing.id)).to.deep.equal(existing);
    });
  }

  it('says that endpoints and keys are set with `dana providers add`', async () => {
    const [[, msg]] = await refusal(create({ base_url: 'http://127.0.0.1:9/v1' }));
    expect(msg).to.include('dana providers add');
  });

  it('refuses repeated topic ids and more than 1,000 of them', async () => {
    expect((await refusal(create({ topic_ids: [topicIds[0], topicIds[0]] })))[0][0]).to.equal('topic_ids');
    const many = Array.from({ length: 1001 }, (_, i) => i + 1);
    expect((await refusal(create({ topic_ids: many })))[0][0]).to.equal('topic_ids');
  });

  it('names the topics that do not exist', async () => {
    const [[, msg]] = await refusal(update({ topic_ids: [topicIds[0], 777] }));
    expect(msg).to.equal('Topic 777 does not exist');
  });

  it('accepts every key at its bounds, and stores unknown keys exactly as given', async () => {
    const config = {
      provider: 'openai', model: 'gpt-4o-mini', temperature: 2, max_tokens: 32_768, system_prompt: 'x'.repeat(20_000),
      timeout: 600, topic_ids: topicIds, colour: 'red', nested: { list: [1, null, 'é'] },
    };
    const agent = await create(config);
    expect(agent.config).to.deep.equal(config);
    expect((await update({ provider: 'local', temperature: 0, max_tokens: 1, timeout: 1, topic_ids: [] })).config).to.deep.equal({
      provider: 'local', temperature: 0, max_tokens: 1, timeout: 1, topic_ids: [],
    });
  });

  it('refuses an update of an agent whose provider was removed until its config names another', async () => {
    await ctx.services.providers.add({ name: 'gone', base_url: 'http://127.0.0.1:9/v1' });
    const agent = await create({ provider: 'gone' });
    await ctx.services.providers.remove('gone');
    const refused = await refusal(ctx.services.agents.update(agent.id, { name: 'Renamed' }));
    expect(refused).to.deep.equal([['provider', 'Provider "gone" does not exist (see dana providers list)']]);
    expect((await refusal(ctx.services.agents.update(agent.id, { config: { provider: 'gone' } })))[0][0]).to.equal('provider');
    const repointed = await ctx.services.agents.update(agent.id, { name: 'Renamed', config: { provider: 'local' } });
    expect(repointed).to.include({ name: 'Renamed' });
  });

  it('reads a stored "provider": null (configs written before they were checked) as no provider', async () => {
    await ctx.knex('agents').where({ id: existing.id }).update({ config: JSON.stringify({ provider: null }) });
    expect(await ctx.services.agents.update(existing.id, { name: 'Renamed' })).to.include({ name: 'Renamed' });
    expect((await ctx.services.chat.send({ message: 'hi', agent_id: existing.id })).runner).to.equal('local');
  });
});
