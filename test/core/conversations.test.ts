import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { NotFoundError, ValidationError } from '../../src/core/errors.js';

function locsOf(error: unknown): string[] {
  expect(error).to.be.instanceOf(ValidationError);
  return (error as ValidationError).issues.map((issue) => issue.loc.join('.'));
}

describe('conversations service', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  const newAgent = (name = 'a') => ctx.services.agents.create({ name, description: '', config: {} });

  describe('create', () => {
    it('returns the Conversation shape, with agent_id null when none is given', async () => {
      const conversation = await ctx.services.conversations.create({ title: 'Planning' });
      expect(conversation).to.have.all.keys('id', 'title', 'agent_id', 'created_at', 'updated_at');
      expect(conversation).to.include({ title: 'Planning', agent_id: null });
      expect(conversation.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('links the agent given', async () => {
      const agent = await newAgent();
      expect(await ctx.services.conversations.create({ title: 't', agent_id: agent.id })).to.include({ agent_id: agent.id });
      expect(await ctx.services.conversations.create({ title: 't', agent_id: null })).to.include({ agent_id: null });
    });

    it('takes titles of 1 to 200 characters', async () => {
      expect((await ctx.services.conversations.create({ title: 't'.repeat(200) })).title).to.have.length(200);
      expect(locsOf(await ctx.services.conversations.create({ title: '' }).catch((e) => e))).to.deep.equal(['body.title']);
      expect(locsOf(await ctx.services.conversations.create({ title: 't'.repeat(201) }).catch((e) => e))).to.deep.equal(['body.title']);
    });

    it('refuses a missing or mistyped title and unknown fields', async () => {
      expect(locsOf(await ctx.services.conversations.create({}).catch((e) => e))).to.deep.equal(['body.title']);
      expect(locsOf(await ctx.services.conversations.create({ title: 5 }).catch((e) => e))).to.deep.equal(['body.title']);
      expect(locsOf(await ctx.services.conversations.create({ title: 't', topic: 1 }).catch((e) => e))).to.deep.equal(['body.topic']);
    });

    it('refuses an agent_id that names no agent, on body.agent_id', async () => {
      expect(locsOf(await ctx.services.conversations.create({ title: 't', agent_id: 999 }).catch((e) => e))).to.deep.equal(['body.agent_id']);
      expect((await ctx.services.conversations.list()).total).to.equal(0);
    });

    it('refuses an agent_id that is not a positive integer, without converting text', async () => {
      const agent = await newAgent();
      for (const agent_id of [String(agent.id), 0, -1, 1.5]) {
        expect(locsOf(await ctx.services.conversations.create({ title: 't', agent_id }).catch((e) => e)), String(agent_id)).to.deep.equal(['body.agent_id']);
      }
    });
  });

  describe('get', () => {
    it('includes the messages in ascending id order', async () => {
      const conversation = await ctx.services.conversations.create({ title: 't' });
      const sent = [];
      for (const content of ['first', 'second', 'third']) sent.push(await ctx.services.messages.create(conversation.id, { sender: 'user', content }));
      const found = await ctx.services.conversations.get(conversation.id);
      expect(found).to.have.all.keys('id', 'title', 'agent_id', 'created_at', 'updated_at', 'messages');
      expect(found.messages).to.deep.equal(sent);
      expect(found.messages.map((message) => message.id)).to.deep.equal([...sent.map((message) => message.id)].sort((a, b) => a - b));
    });

    it('has an empty message list for a new conversation', async () => {
      const conversation = await ctx.services.conversations.create({ title: 't' });
      expect(await ctx.services.conversations.get(conversation.id)).to.deep.equal({ ...conversation, messages: [] });
    });

    it('shows only its own messages', async () => {
      const mine = await ctx.services.conversations.create({ title: 'mine' });
      const other = await ctx.services.conversations.create({ title: 'other' });
      await ctx.services.messages.create(other.id, { sender: 'user', content: 'not mine' });
      const message = await ctx.services.messages.create(mine.id, { sender: 'user', content: 'mine' });
      expect((await ctx.services.conversations.get(mine.id)).messages).to.deep.equal([message]);
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.conversations.get(999).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Conversation not found');
    });
  });

  describe('list', () => {
    it('returns conversations in ascending id order, filtered by agent_id, with totals', async () => {
      const agent = await newAgent();
      const first = await ctx.services.conversations.create({ title: '1', agent_id: agent.id });
      const second = await ctx.services.conversations.create({ title: '2' });
      const third = await ctx.services.conversations.create({ title: '3', agent_id: agent.id });
      const all = await ctx.services.conversations.list();
      expect(all.total).to.equal(3);
      expect(all.items).to.deep.equal([first, second, third]);
      const ofAgent = await ctx.services.conversations.list({ agent_id: String(agent.id) });
      expect(ofAgent.total).to.equal(2);
      expect(ofAgent.items.map((conversation) => conversation.id)).to.deep.equal([first.id, third.id]);
      expect(await ctx.services.conversations.list({ agent_id: agent.id, skip: 1 })).to.deep.equal({ total: 2, items: [third] });
    });

    it('lists conversations without their messages', async () => {
      const conversation = await ctx.services.conversations.create({ title: 't' });
      await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'hi' });
      const [listed] = (await ctx.services.conversations.list()).items;
      expect(listed).to.have.all.keys('id', 'title', 'agent_id', 'created_at', 'updated_at');
    });
  });

  describe('update', () => {
    it('changes only the title when only the title is given, advancing updated_at', async () => {
      const agent = await newAgent();
      const conversation = await ctx.services.conversations.create({ title: 'old', agent_id: agent.id });
      const updated = await ctx.services.conversations.update(conversation.id, { title: 'new' });
      expect(updated).to.include({ id: conversation.id, title: 'new', agent_id: agent.id, created_at: conversation.created_at });
      expect(Date.parse(updated.updated_at)).to.be.greaterThan(Date.parse(conversation.updated_at));
    });

    it('moves the conversation to another agent, or detaches it with null', async () => {
      const first = await newAgent('first');
      const second = await newAgent('second');
      const conversation = await ctx.services.conversations.create({ title: 't', agent_id: first.id });
      expect(await ctx.services.conversations.update(conversation.id, { agent_id: second.id })).to.include({ agent_id: second.id, title: 't' });
      expect(await ctx.services.conversations.update(conversation.id, { agent_id: null })).to.include({ agent_id: null, title: 't' });
    });

    it('refuses an agent_id that names no agent and changes nothing', async () => {
      const conversation = await ctx.services.conversations.create({ title: 't' });
      const error = await ctx.services.conversations.update(conversation.id, { title: 'changed', agent_id: 999 }).catch((e) => e);
      expect(locsOf(error)).to.deep.equal(['body.agent_id']);
      expect(await ctx.services.conversations.get(conversation.id)).to.deep.equal({ ...conversation, messages: [] });
    });

    it('refuses an empty body, unknown fields and a blank title', async () => {
      const conversation = await ctx.services.conversations.create({ title: 't' });
      expect(await ctx.services.conversations.update(conversation.id, {}).catch((e) => e)).to.be.instanceOf(ValidationError);
      expect(locsOf(await ctx.services.conversations.update(conversation.id, { messages: [] }).catch((e) => e))).to.deep.equal(['body.messages']);
      expect(locsOf(await ctx.services.conversations.update(conversation.id, { title: '' }).catch((e) => e))).to.deep.equal(['body.title']);
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.conversations.update(999, { title: 'x' }).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Conversation not found');
    });
  });

  describe('delete', () => {
    it('removes the conversation and its messages, and nothing else', async () => {
      const conversation = await ctx.services.conversations.create({ title: 't' });
      const other = await ctx.services.conversations.create({ title: 'other' });
      for (const content of ['a', 'b']) await ctx.services.messages.create(conversation.id, { sender: 'user', content });
      const kept = await ctx.services.messages.create(other.id, { sender: 'user', content: 'kept' });
      expect(await ctx.services.conversations.delete(conversation.id)).to.deep.equal({ message: 'Conversation deleted successfully' });
      expect(await ctx.services.conversations.get(conversation.id).catch((e) => e)).to.be.instanceOf(NotFoundError);
      const [{ n }] = await ctx.knex('messages').where('conversation_id', conversation.id).count({ n: '*' });
      expect(Number(n)).to.equal(0);
      expect((await ctx.services.conversations.get(other.id)).messages).to.deep.equal([kept]);
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.conversations.delete(999).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Conversation not found');
    });
  });
});
