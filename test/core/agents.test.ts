import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { NotFoundError, ValidationError } from '../../src/core/errors.js';

describe('agents service', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  describe('create', () => {
    it('stores the name trimmed and the config exactly', async () => {
      const config = { model: 'x', nested: { list: [1, 'é', null, { deep: true }] }, neg: -3.5e-7 };
      const agent = await ctx.services.agents.create({ name: '  Researcher  ', description: 'd', config });
      expect(agent).to.include({ name: 'Researcher', description: 'd' });
      expect(agent.config).to.deep.equal(config);
      expect(await ctx.services.agents.get(agent.id)).to.deep.equal(agent);
    });

    it('returns ISO UTC timestamps ending in Z', async () => {
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      expect(agent.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(agent.updated_at).to.equal(agent.created_at);
    });

    it('refuses wrong types, unknown fields and blank names with body locations', async () => {
      const error = await ctx.services.agents.create({ name: '   ', description: 5, config: [], colour: 'red' }).catch((e) => e);
      expect(error).to.be.instanceOf(ValidationError);
      const locs = (error as ValidationError).issues.map((issue) => issue.loc.join('.'));
      expect(locs).to.have.members(['body.name', 'body.description', 'body.config', 'body.colour']);
    });

    it('counts the 200-character limit after trimming', async () => {
      await ctx.services.agents.create({ name: `  ${'m'.repeat(200)}  `, description: '', config: {} });
      const error = await ctx.services.agents.create({ name: 'n'.repeat(201), description: '', config: {} }).catch((e) => e);
      expect(error).to.be.instanceOf(ValidationError);
    });
  });

  describe('update', () => {
    it('changes only the given fields and advances updated_at', async () => {
      const agent = await ctx.services.agents.create({ name: 'a', description: 'keep', config: { a: 1 } });
      const updated = await ctx.services.agents.update(agent.id, { config: { b: [2] } });
      expect(updated).to.include({ name: 'a', description: 'keep', created_at: agent.created_at });
      expect(updated.config).to.deep.equal({ b: [2] });
      expect(Date.parse(updated.updated_at)).to.be.greaterThan(Date.parse(agent.updated_at));
    });

    it('needs at least one field', async () => {
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      expect(await ctx.services.agents.update(agent.id, {}).catch((e) => e)).to.be.instanceOf(ValidationError);
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.agents.update(999, { name: 'x' }).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Agent not found');
    });
  });

  describe('delete', () => {
    it('keeps the agent\'s conversations, detached', async () => {
      const agent = await ctx.services.agents.create({ name: 'a', description: '', config: {} });
      const conversation = await ctx.services.conversations.create({ title: 't', agent_id: agent.id });
      expect(await ctx.services.agents.delete(agent.id)).to.deep.equal({ message: 'Agent deleted successfully' });
      expect((await ctx.services.conversations.get(conversation.id)).agent_id).to.equal(null);
      expect(await ctx.services.agents.get(agent.id).catch((e) => e)).to.be.instanceOf(NotFoundError);
    });
  });

  describe('list', () => {
    it('pages in ascending id order with the total before paging', async () => {
      for (const name of ['a', 'b', 'c']) await ctx.services.agents.create({ name, description: '', config: {} });
      const page = await ctx.services.agents.list({ skip: '1', limit: '1' });
      expect(page.total).to.equal(3);
      expect(page.items.map((agent) => agent.name)).to.deep.equal(['b']);
      expect((await ctx.services.agents.list({ skip: 10 })).items).to.deep.equal([]);
    });

    it('refuses out-of-range paging with query locations', async () => {
      for (const query of [{ limit: 0 }, { limit: 1001 }, { skip: -1 }, { limit: 'abc' }, { limit: '1.5' }]) {
        const error = await ctx.services.agents.list(query).catch((e) => e);
        expect(error, JSON.stringify(query)).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).issues[0].loc[0]).to.equal('query');
      }
    });
  });
});
