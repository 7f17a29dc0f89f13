import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { NotFoundError, ValidationError } from '../../src/core/errors.js';
import type { Conversation } from '../../src/core/schemas.js';

function locsOf(error: unknown): string[] {
  expect(error).to.be.instanceOf(ValidationError);
  return (error as ValidationError).issues.map((issue) => issue.loc.join('.'));
}

describe('messages service', () => {
  let ctx: TestContext;
  let conversation: Conversation;
  beforeEach(async () => {
    ctx = await openTestContext();
    conversation = await ctx.services.conversations.create({ title: 't' });
  });
  afterEach(async () => {
    await ctx.close();
  });

  describe('create', () => {
    it('returns the Message shape, in its conversation', async () => {
      const message = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'hi' });
      expect(message).to.have.all.keys('id', 'conversation_id', 'sender', 'content', 'sources', 'created_at', 'updated_at');
      expect(message).to.include({ conversation_id: conversation.id, sender: 'user', content: 'hi' });
      expect(message.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(await ctx.services.messages.get(conversation.id, message.id)).to.deep.equal(message);
    });

    it('advances the conversation\'s updated_at and keeps its created_at', async () => {
      const message = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'hi' });
      const after = await ctx.services.conversations.get(conversation.id);
      expect(after.created_at).to.equal(conversation.created_at);
      expect(Date.parse(after.updated_at)).to.be.greaterThan(Date.parse(conversation.updated_at));
      expect(Date.parse(after.updated_at)).to.be.at.least(Date.parse(message.created_at));
      await ctx.services.messages.create(conversation.id, { sender: 'agent', content: 'hello' });
      const later = await ctx.services.conversations.get(conversation.id);
      expect(Date.parse(later.updated_at)).to.be.greaterThan(Date.parse(after.updated_at));
    });

    it('takes senders of 1 to 50 characters', async () => {
      expect((await ctx.services.messages.create(conversation.id, { sender: 's'.repeat(50), content: 'x' })).sender).to.have.length(50);
      expect(locsOf(await ctx.services.messages.create(conversation.id, { sender: '', content: 'x' }).catch((e) => e))).to.deep.equal(['body.sender']);
      expect(locsOf(await ctx.services.messages.create(conversation.id, { sender: 's'.repeat(51), content: 'x' }).catch((e) => e))).to.deep.equal(['body.sender']);
    });

    it('counts the sender\'s length in characters, not UTF-16 units', async () => {
      expect((await ctx.services.messages.create(conversation.id, { sender: '🚀'.repeat(50), content: 'x' })).sender).to.equal('🚀'.repeat(50));
    });

    it('takes any string as content, the empty string included', async () => {
      const text = 'line 1\nline 2 — ünïcödé 🚀 "quoted" \\ back';
      expect((await ctx.services.messages.create(conversation.id, { sender: 'user', content: text })).content).to.equal(text);
      expect((await ctx.services.messages.create(conversation.id, { sender: 'user', content: '' })).content).to.equal('');
    });

    it('refuses content that is not a string', async () => {
      for (const content of [123, null, ['a'], { text: 'a' }]) {
        expect(locsOf(await ctx.services.messages.create(conversation.id, { sender: 'user', content }).catch((e) => e)), JSON.stringify(content)).to.deep.equal(['body.content']);
      }
    });

    it('refuses missing fields and unknown fields', async () => {
      expect(locsOf(await ctx.services.messages.create(conversation.id, {}).catch((e) => e))).to.have.members(['body.sender', 'body.content']);
      const error = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'x', conversation_id: 2 }).catch((e) => e);
      expect(locsOf(error)).to.deep.equal(['body.conversation_id']);
      expect((await ctx.services.messages.list(conversation.id)).total).to.equal(0);
    });

    it('is "Conversation not found" for a conversation that does not exist', async () => {
      const error = await ctx.services.messages.create(999, { sender: 'user', content: 'x' }).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Conversation not found');
    });
  });

  describe('list', () => {
    it('returns the conversation\'s messages in ascending id order with the total', async () => {
      const other = await ctx.services.conversations.create({ title: 'other' });
      const sent = [];
      for (const content of ['a', 'b', 'c']) {
        sent.push(await ctx.services.messages.create(conversation.id, { sender: 'user', content }));
        await ctx.services.messages.create(other.id, { sender: 'user', content: `other ${content}` });
      }
      expect(await ctx.services.messages.list(conversation.id)).to.deep.equal({ total: 3, items: sent });
      expect(await ctx.services.messages.list(conversation.id, { skip: '1', limit: '1' })).to.deep.equal({ total: 3, items: [sent[1]] });
    });

    it('is "Conversation not found" for a conversation that does not exist', async () => {
      const error = await ctx.services.messages.list(999).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Conversation not found');
    });
  });

  describe('messages are reached only through their own conversation', () => {
    it('is "Message not found" for a message of another conversation, which stays unchanged', async () => {
      const other = await ctx.services.conversations.create({ title: 'other' });
      const message = await ctx.services.messages.create(other.id, { sender: 'user', content: 'theirs' });
      for (const attempt of [
        () => ctx.services.messages.get(conversation.id, message.id),
        () => ctx.services.messages.update(conversation.id, message.id, { content: 'changed' }),
        () => ctx.services.messages.delete(conversation.id, message.id),
      ]) {
        const error = await attempt().catch((e) => e);
        expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Message not found');
      }
      expect(await ctx.services.messages.get(other.id, message.id)).to.deep.equal(message);
    });

    it('is "Message not found" for an unknown message id', async () => {
      for (const attempt of [
        () => ctx.services.messages.get(conversation.id, 999),
        () => ctx.services.messages.update(conversation.id, 999, { content: 'x' }),
        () => ctx.services.messages.delete(conversation.id, 999),
      ]) {
        expect(await attempt().catch((e) => e)).to.be.instanceOf(NotFoundError).with.property('message', 'Message not found');
      }
    });

    it('is "Conversation not found" when the conversation does not exist, even for an existing message', async () => {
      const message = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'x' });
      for (const attempt of [
        () => ctx.services.messages.get(999, message.id),
        () => ctx.services.messages.update(999, message.id, { content: 'y' }),
        () => ctx.services.messages.delete(999, message.id),
      ]) {
        expect(await attempt().catch((e) => e)).to.be.instanceOf(NotFoundError).with.property('message', 'Conversation not found');
      }
    });
  });

  describe('update', () => {
    it('changes only the fields given and advances updated_at', async () => {
      const message = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'old' });
      const updated = await ctx.services.messages.update(conversation.id, message.id, { content: 'new' });
      expect(updated).to.include({ id: message.id, conversation_id: conversation.id, sender: 'user', content: 'new', created_at: message.created_at });
      expect(Date.parse(updated.updated_at)).to.be.greaterThan(Date.parse(message.updated_at));
      expect(await ctx.services.messages.update(conversation.id, message.id, { sender: 'agent' })).to.include({ sender: 'agent', content: 'new' });
    });

    it('refuses an empty body, unknown fields and invalid values', async () => {
      const message = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'x' });
      expect(await ctx.services.messages.update(conversation.id, message.id, {}).catch((e) => e)).to.be.instanceOf(ValidationError);
      expect(locsOf(await ctx.services.messages.update(conversation.id, message.id, { conversation_id: 2 }).catch((e) => e))).to.deep.equal(['body.conversation_id']);
      expect(locsOf(await ctx.services.messages.update(conversation.id, message.id, { content: 5 }).catch((e) => e))).to.deep.equal(['body.content']);
      expect(locsOf(await ctx.services.messages.update(conversation.id, message.id, { sender: '' }).catch((e) => e))).to.deep.equal(['body.sender']);
      expect(await ctx.services.messages.get(conversation.id, message.id)).to.deep.equal(message);
    });
  });

  describe('delete', () => {
    it('removes the message and keeps the others', async () => {
      const gone = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'gone' });
      const kept = await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'kept' });
      expect(await ctx.services.messages.delete(conversation.id, gone.id)).to.deep.equal({ message: 'Message deleted successfully' });
      expect(await ctx.services.messages.get(conversation.id, gone.id).catch((e) => e)).to.be.instanceOf(NotFoundError);
      expect((await ctx.services.conversations.get(conversation.id)).messages).to.deep.equal([kept]);
    });
  });
});
