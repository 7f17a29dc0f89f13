// How much of a conversation the OpenAI-compatible runner sends: what fits the model's
// context window (config.context_tokens, ~4 characters a token) after the prompt and the
// reply's max_tokens, oldest turns dropped first; as seen by the fake server.
import { expect } from 'chai';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { addProvider, createAgent } from '../helpers/chat.js';

const TURNS = 12;
const TURN_CHARS = 1_000;

describe('conversation history sent to a model', () => {
  let fake: FakeOpenAi;
  let ctx: TestContext;

  before(async () => {
    fake = await startFakeOpenAi('Noted.');
  });
  after(() => fake.close());
  beforeEach(async () => {
    fake.requests.length = 0;
    ctx = await openTestContext();
    await addProvider(ctx, 'fake', fake.baseUrl, { model: 'fake' });
  });
  afterEach(() => ctx.close());

  /** A conversation of TURNS messages, alternately the user's and the agent's, each TURN_CHARS long and named by its number. */
  async function conversationOf(agent: Agent): Promise<number> {
    const conversation = await ctx.services.conversations.create({ title: 'Long talk', agent_id: agent.id });
    for (let turn = 0; turn < TURNS; turn++) {
      const content = `turn-${turn} ${'x'.repeat(TURN_CHARS - `turn-${turn} `.length)}`;
      await ctx.services.messages.create(conversation.id, { sender: turn % 2 ? 'agent' : 'user', content });
    }
    return conversation.id;
  }

  /** The numbers of the history turns the fake received, in the order sent. */
  function turnsSent(): number[] {
    const messages = fake.requests[0].body.messages ?? [];
    return messages.slice(1, -1).map((message) => Number(/^turn-(\d+)/.exec(message.content)?.[1]));
  }

  it('sends the whole history when it fits the default context window, oldest first, with its roles', async () => {
    const agent = await createAgent(ctx, { provider: 'fake', max_tokens: 100 });
    const conversationId = await conversationOf(agent);
    await ctx.services.chat.send({ message: 'And now?', agent_id: agent.id, conversation_id: conversationId });
    expect(turnsSent()).to.deep.equal([...Array(TURNS).keys()]);
    const messages = fake.requests[0].body.messages ?? [];
    expect(messages.map((message) => message.role).slice(1, 4)).to.deep.equal(['user', 'assistant', 'user']);
    expect(messages.at(-1)).to.deep.equal({ role: 'user', content: 'And now?' });
  });

  it('drops the oldest turns first to stay within a small context window', async () => {
    const agent = await createAgent(ctx, { provider: 'fake', max_tokens: 200, context_tokens: 1_500 });
    const conversationId = await conversationOf(agent);
    await ctx.services.chat.send({ message: 'And now?', agent_id: agent.id, conversation_id: conversationId });
    // 1,500 tokens less 200 for the reply and ~50 for the prompt leave ~1,250: four turns of ~254 tokens.
    expect(turnsSent()).to.deep.equal([8, 9, 10, 11]);
    const estimatedTokens = (fake.requests[0].body.messages ?? []).reduce((sum, message) => sum + Math.ceil(message.content.length / 4) + 4, 0);
    expect(estimatedTokens).to.be.at.most(1_500 - 200);
  });

  it('sends no history when the reply budget takes the whole window', async () => {
    const agent = await createAgent(ctx, { provider: 'fake', max_tokens: 2_000, context_tokens: 2_048 });
    const conversationId = await conversationOf(agent);
    await ctx.services.chat.send({ message: 'And now?', agent_id: agent.id, conversation_id: conversationId });
    expect(turnsSent()).to.deep.equal([]);
    expect(fake.requests[0].body.messages?.at(-1)).to.deep.equal({ role: 'user', content: 'And now?' });
  });

  it('refuses a context window below 512 tokens when the agent is saved (422 naming the key)', async () => {
    let error: unknown;
    try {
      await createAgent(ctx, { provider: 'fake', context_tokens: 100 });
    } catch (caught) {
      error = caught;
    }
    expect(JSON.stringify((error as { detail?: unknown }).detail)).to.contain('context_tokens');
  });
});
