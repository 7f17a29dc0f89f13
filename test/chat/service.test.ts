// The rules of a chat turn, whatever runner answers: who may talk in which conversation,
// what is stored, and which requests are refused.
import { expect } from 'chai';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { createAgent, rejectionOf, storedCounts, upload, waitFor } from '../helpers/chat.js';

const RESPONSE_KEYS = ['success', 'message', 'conversation_id', 'message_id', 'agent_response', 'context', 'error', 'runner', 'sources'];

describe('chat turns', () => {
  let ctx: TestContext;
  let agent: Agent;
  const send = (body: Record<string, unknown>) => ctx.services.chat.send({ agent_id: agent.id, ...body });

  beforeEach(async () => {
    ctx = await openTestContext();
    agent = await createAgent(ctx);
    await upload(ctx, 'notes.txt', 'Quokkas live on Rottnest Island.', { agent_id: agent.id });
  });
  afterEach(() => ctx.close());

  describe('who may talk where', () => {
    it('refuses an unknown agent with NotFoundError "Agent 999 not found"', async () => {
      const error = await rejectionOf(ctx.services.chat.send({ message: 'hi', agent_id: 999 }));
      expect(error).to.be.instanceOf(NotFoundError);
      expect(error.message).to.equal('Agent 999 not found');
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 0, messages: 0 });
    });

    it('refuses an unknown conversation with NotFoundError naming its id', async () => {
      const existing = await send({ message: 'hello' });
      const missing = existing.conversation_id + 4;
      const error = await rejectionOf(send({ message: 'hi', conversation_id: missing }));
      expect(error).to.be.instanceOf(NotFoundError);
      expect(error.message).to.equal(`Conversation ${missing} not found`);
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 1, messages: 2 });
    });

    it("refuses another agent's conversation with ConflictError and stores nothing", async () => {
      const other = await createAgent(ctx, {}, 'Other');
      const theirs = await ctx.services.conversations.create({ title: 'Theirs', agent_id: other.id });
      const error = await rejectionOf(send({ message: 'hi', conversation_id: theirs.id }));
      expect(error).to.be.instanceOf(ConflictError);
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 1, messages: 0 });
      expect((await ctx.services.conversations.get(theirs.id)).agent_id).to.equal(other.id);
    });

    it('takes over a conversation that has no agent', async () => {
      const orphan = await ctx.services.conversations.create({ title: 'Orphan' });
      expect(orphan.agent_id).to.equal(null);
      const response = await send({ message: 'Quokkas?', conversation_id: orphan.id });
      expect(response.conversation_id).to.equal(orphan.id);
      const conversation = await ctx.services.conversations.get(orphan.id);
      expect(conversation.agent_id).to.equal(agent.id);
      expect(conversation.title).to.equal('Orphan');
    });

    it("continues the agent's own conversation", async () => {
      const first = await send({ message: 'Where do quokkas live?' });
      const second = await send({ message: 'And what else?', conversation_id: first.conversation_id });
      expect(second.conversation_id).to.equal(first.conversation_id);
      const { messages } = await ctx.services.conversations.get(first.conversation_id);
      expect(messages.map((m) => [m.sender, m.content])).to.deep.equal([
        ['user', 'Where do quokkas live?'],
        ['agent', first.agent_response],
        ['user', 'And what else?'],
        ['agent', second.agent_response],
      ]);
    });
  });

  describe('a new conversation', () => {
    it('belongs to the agent and is titled with the first line of the message', async () => {
      const response = await send({ message: 'Where do quokkas live?\nAnd what do they eat?' });
      const conversation = await ctx.services.conversations.get(response.conversation_id);
      expect(conversation).to.include({ agent_id: agent.id, title: 'Where do quokkas live?' });
    });

    it('is titled with the first non-empty line, trimmed', async () => {
      const response = await send({ message: '\n   \n\t  Quokkas on Rottnest   \r\nsecond line' });
      expect((await ctx.services.conversations.get(response.conversation_id)).title).to.equal('Quokkas on Rottnest');
    });

    it('cuts a first line over 60 characters to 59 characters and "…"', async () => {
      const line = 'Q'.repeat(30) + ' ' + 'r'.repeat(40);
      const response = await send({ message: `${line}\nmore` });
      const { title } = await ctx.services.conversations.get(response.conversation_id);
      expect(title).to.equal(`${line.slice(0, 59)}…`);
      expect([...title]).to.have.length(60);
    });

    it('counts characters, not UTF-16 units: 40 emoji stay whole', async () => {
      const line = '🌋'.repeat(40);
      const response = await send({ message: line });
      expect((await ctx.services.conversations.get(response.conversation_id)).title).to.equal(line);
    });

    it('never cuts a character in half when shortening', async () => {
      const line = '🌋'.repeat(70);
      const response = await send({ message: line });
      const { title } = await ctx.services.conversations.get(response.conversation_id);
      expect(title).to.equal(`${'🌋'.repeat(59)}…`);
    });

    it('keeps a first line of exactly 60 characters whole', async () => {
      const line = 'x'.repeat(60);
      const response = await send({ message: line });
      expect((await ctx.services.conversations.get(response.conversation_id)).title).to.equal(line);
    });
  });

  describe('what a turn stores and answers', () => {
    it('answers the documented shape', async () => {
      const response = await send({ message: 'Quokkas?' });
      expect(response).to.have.all.keys(...RESPONSE_KEYS);
      expect(response).to.include({ success: true, message: 'Quokkas?', error: null, runner: 'local' });
    });

    it('stores the user message, then the reply, and answers with the reply\'s id', async () => {
      const response = await send({ message: 'Where do quokkas live?' });
      const { messages } = await ctx.services.conversations.get(response.conversation_id);
      expect(messages).to.have.length(2);
      expect(messages[0]).to.include({ sender: 'user', content: 'Where do quokkas live?', conversation_id: response.conversation_id });
      expect(messages[1]).to.include({ sender: 'agent', content: response.agent_response, conversation_id: response.conversation_id });
      expect(messages[1].id).to.be.greaterThan(messages[0].id);
      expect(response.message_id).to.equal(messages[1].id);
    });

    it('echoes the context it was given', async () => {
      const context = { page: 'home', nested: { ids: [1, 2] }, flag: true };
      expect((await send({ message: 'hi', context })).context).to.deep.equal(context);
    });

    it('answers context null when none was given, or null was', async () => {
      expect((await send({ message: 'hi' })).context).to.equal(null);
      expect((await send({ message: 'hi', context: null })).context).to.equal(null);
    });

    it("advances the conversation's updated_at", async () => {
      const conversation = await ctx.services.conversations.create({ title: 'Mine', agent_id: agent.id });
      // The clock moves past the creation time, so the next write's timestamp is later.
      await waitFor(() => Date.now() > Date.parse(conversation.updated_at), 5000, 'the clock to move on');
      await send({ message: 'Quokkas?', conversation_id: conversation.id });
      const after = await ctx.services.conversations.get(conversation.id);
      expect(Date.parse(after.updated_at)).to.be.greaterThan(Date.parse(conversation.updated_at));
      expect(after.created_at).to.equal(conversation.created_at);
    });
  });

  describe('validation', () => {
    async function expectInvalid(body: Record<string, unknown>, loc: Array<string | number>) {
      const error = await rejectionOf(ctx.services.chat.send(body));
      expect(error, JSON.stringify(body)).to.be.instanceOf(ValidationError);
      const locs = (error as unknown as ValidationError).issues.map((issue) => issue.loc);
      expect(locs, JSON.stringify(body)).to.deep.include(loc);
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 0, messages: 0 });
    }

    it('refuses a missing message at ["body","message"]', () => expectInvalid({ agent_id: agent.id }, ['body', 'message']));
    it('refuses an empty message', () => expectInvalid({ agent_id: agent.id, message: '' }, ['body', 'message']));
    it('refuses a message of only spaces', () => expectInvalid({ agent_id: agent.id, message: '  \t\n ' }, ['body', 'message']));
    it('refuses a number as the message', () => expectInvalid({ agent_id: agent.id, message: 123 }, ['body', 'message']));

    it('refuses an unknown field', async () => {
      const error = await rejectionOf(ctx.services.chat.send({ agent_id: agent.id, message: 'hi', temperature: 2 }));
      expect(error).to.be.instanceOf(ValidationError);
      expect(JSON.stringify((error as unknown as ValidationError).issues)).to.include('temperature');
    });

    for (const context of ['text', 5, [1, 2], true]) {
      it(`refuses a context that is not an object (${JSON.stringify(context)})`, () =>
        expectInvalid({ agent_id: agent.id, message: 'hi', context }, ['body', 'context']));
    }

    it('refuses a missing agent_id', () => expectInvalid({ message: 'hi' }, ['body', 'agent_id']));
    it('refuses a non-integer agent_id', () => expectInvalid({ message: 'hi', agent_id: '1' }, ['body', 'agent_id']));
  });
});
