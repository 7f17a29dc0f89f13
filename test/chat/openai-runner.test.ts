// The model runner against a fake OpenAI-compatible server on loopback: what it sends,
// what it answers, which runner a config chooses, and how failures surface.
import { expect } from 'chai';
import type { Agent } from '../../src/core/schemas.js';
import type { TestContext } from '../helpers/context.js';
import { RunnerError } from '../../src/core/errors.js';
import { openTestContext } from '../helpers/context.js';
import { promptOf, startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { NOTHING_STORED, addProvider, createAgent, fixture, rejectionOf, storedCounts, timed, upload } from '../helpers/chat.js';

const REPLY = 'Chlorophyll captures light, says the fake model.';
const SYSTEM_PROMPT = 'You are a careful botanist who cites documents.';
const SECRET = 'sk-top-secret-0123456789abcdef';

describe('chat with the OpenAI-compatible runner', () => {
  let fake: FakeOpenAi;
  let ctx: TestContext;

  before(async () => {
    fake = await startFakeOpenAi(REPLY);
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
  });
  afterEach(() => ctx?.close());

  /** The config of an agent talking to the fake server (provider "fake"). */
  function modelConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { provider: 'fake', model: 'fake', system_prompt: SYSTEM_PROMPT, temperature: 0.2, max_tokens: 50, timeout: 1, ...extra };
  }

  /** An agent on a fresh database where provider "fake" is the fake server (its key in MODEL_KEY, when set). */
  async function agentWith(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<Agent> {
    ctx = await openTestContext(env);
    await addProvider(ctx, 'fake', fake.baseUrl, env.MODEL_KEY ? { api_key_env: 'MODEL_KEY' } : {});
    await addProvider(ctx, 'unreachable', 'http://127.0.0.1:1/v1');
    return createAgent(ctx, config);
  }

  describe('replies', () => {
    it('assembles a streamed reply exactly and names the provider as the runner', async () => {
      const agent = await agentWith(modelConfig());
      const response = await ctx.services.chat.send({ message: 'How do plants eat?', agent_id: agent.id });
      expect(response.agent_response).to.equal(REPLY);
      expect(response.runner).to.equal('fake');
      expect(fake.requests).to.have.length(1);
      expect(fake.requests[0].body.stream).to.equal(true);
    });

    it('streams the reply as several deltas that add up to it', async () => {
      const agent = await agentWith(modelConfig());
      const prepared = await ctx.services.chat.prepare({ message: 'How do plants eat?', agent_id: agent.id });
      const deltas: string[] = [];
      let done;
      for await (const event of ctx.services.chat.stream(prepared)) {
        if (event.type === 'delta') deltas.push(event.text);
        else done = event.response;
      }
      expect(deltas.length).to.be.greaterThan(1);
      expect(deltas.join('')).to.equal(REPLY);
      expect(done).to.include({ agent_response: REPLY, runner: 'fake' });
    });

    it('stores the reply like any other turn', async () => {
      const agent = await agentWith(modelConfig());
      const response = await ctx.services.chat.send({ message: 'How do plants eat?', agent_id: agent.id });
      const { messages } = await ctx.services.conversations.get(response.conversation_id);
      expect(messages.map((m) => [m.sender, m.content])).to.deep.equal([['user', 'How do plants eat?'], ['agent', REPLY]]);
      expect(response.message_id).to.equal(messages[1].id);
    });
  });

  describe('the request the model receives', () => {
    it('forwards model, temperature and max_tokens', async () => {
      const agent = await agentWith(modelConfig());
      await ctx.services.chat.send({ message: 'hi', agent_id: agent.id });
      expect(fake.requests[0].body).to.include({ model: 'fake', temperature: 0.2, max_tokens: 50 });
    });

    it('carries the system prompt and the passages of the matching document, with the message last', async () => {
      const agent = await agentWith(modelConfig());
      const pdf = await upload(ctx, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: agent.id });
      await upload(ctx, 'volcanoes.docx', fixture('volcanoes.docx'), { agent_id: agent.id });
      const response = await ctx.services.chat.send({ message: 'What does chlorophyll do with sunlight?', agent_id: agent.id });

      const messages = fake.requests[0].body.messages ?? [];
      const prompt = promptOf(fake.requests[0]);
      expect(messages[0].role).to.equal('system');
      expect(messages[0].content).to.include(SYSTEM_PROMPT);
      expect(prompt).to.include('Chlorophyll absorbs sunlight and converts carbon dioxide and water into glucose');
      expect(prompt).to.not.include('Eyjafjallajokull');
      expect(messages.at(-1)).to.deep.equal({ role: 'user', content: 'What does chlorophyll do with sunlight?' });
      expect(response.sources.map((source) => source.document_id)).to.deep.equal([pdf.id]);
    });

    it('carries the earlier turns of the conversation, in order, before the new message', async () => {
      const agent = await agentWith(modelConfig());
      const first = await ctx.services.chat.send({ message: 'My name is Ada.', agent_id: agent.id });
      await ctx.services.chat.send({ message: 'What is my name?', agent_id: agent.id, conversation_id: first.conversation_id });

      const turns = (fake.requests[1].body.messages ?? []).filter((message) => message.role !== 'system');
      expect(turns).to.deep.equal([
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: REPLY },
        { role: 'user', content: 'What is my name?' },
      ]);
      expect(fake.requests[1].body.messages?.[0].role).to.equal('system');
    });

    it('does not carry the turns of other conversations', async () => {
      const agent = await agentWith(modelConfig());
      await ctx.services.chat.send({ message: 'A secret about marmalade.', agent_id: agent.id });
      await ctx.services.chat.send({ message: 'Fresh start.', agent_id: agent.id });
      expect(promptOf(fake.requests[1])).to.not.include('marmalade');
    });
  });

  describe('which runner a config chooses', () => {
    it('answers locally with provider "local"', async () => {
      const agent = await agentWith(modelConfig({ provider: 'local' }), { OPENAI_API_KEY: 'sk-test' });
      const response = await ctx.services.chat.send({ message: 'hi', agent_id: agent.id });
      expect(response.runner).to.equal('local');
      expect(fake.requests).to.have.length(0);
    });

    it('answers locally with no provider, even with OPENAI_API_KEY set', async () => {
      const agent = await agentWith({ model: 'fake', temperature: 0.2 }, { OPENAI_API_KEY: 'sk-test' });
      const response = await ctx.services.chat.send({ message: 'hi', agent_id: agent.id });
      expect(response.runner).to.equal('local');
      expect(fake.requests).to.have.length(0);
    });

    it('sends the key from the variable the provider names, not OPENAI_API_KEY', async () => {
      const agent = await agentWith(modelConfig(), { MODEL_KEY: 'sk-mine', OPENAI_API_KEY: 'sk-not-this-one' });
      await ctx.services.chat.send({ message: 'hi', agent_id: agent.id });
      expect(fake.requests[0].headers.authorization).to.equal('Bearer sk-mine');
    });

    it("uses the provider's model when the agent names none", async () => {
      ctx = await openTestContext();
      await addProvider(ctx, 'fake', fake.baseUrl, { model: 'provider-model' });
      const agent = await createAgent(ctx, { provider: 'fake' });
      await ctx.services.chat.send({ message: 'hi', agent_id: agent.id });
      expect(fake.requests[0].body.model).to.equal('provider-model');
    });

    it('fails with RunnerError for a stored setting of the wrong type (configs written before they were checked)', async () => {
      const agent = await agentWith(modelConfig());
      await ctx.knex('agents').where({ id: agent.id }).update({ config: JSON.stringify(modelConfig({ temperature: 'hot' })) });
      const error = await rejectionOf(ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.include('temperature');
      expect(fake.requests).to.have.length(0);
    });
  });

  describe('failures store nothing', () => {
    it('turns an HTTP 500 into a RunnerError naming 500', async () => {
      const agent = await agentWith(modelConfig({ model: 'fail-500' }));
      const error = await rejectionOf(ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.match(/^Agent runner failed: /).and.to.include('500');
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('gives up on a model that never answers at the deadline (1 s), well under 5 s', async () => {
      const agent = await agentWith(modelConfig({ model: 'hang' }));
      const { ms, error } = await timed(() => ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
      expect(error).to.be.instanceOf(RunnerError);
      expect((error as Error).message).to.match(/within 1 s\b/);
      expect(ms).to.be.lessThan(5000);
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('gives up on a model that stalls after its first words, well under 5 s', async () => {
      const agent = await agentWith(modelConfig({ model: 'slow' }));
      const { ms, error } = await timed(() => ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
      expect(error).to.be.instanceOf(RunnerError);
      expect((error as Error).message).to.match(/^Agent runner failed: /);
      expect(ms).to.be.lessThan(5000);
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('reports an unreachable base_url as a RunnerError', async () => {
      const agent = await agentWith(modelConfig({ provider: 'unreachable' }));
      const error = await rejectionOf(ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.match(/^Agent runner failed: .*127\.0\.0\.1:1/);
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('treats an empty reply as a failure', async () => {
      const silent = await startFakeOpenAi('');
      try {
        ctx = await openTestContext();
        await addProvider(ctx, 'silent', silent.baseUrl);
        const agent = await createAgent(ctx, modelConfig({ provider: 'silent' }));
        const error = await rejectionOf(ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
        expect(error).to.be.instanceOf(RunnerError);
        expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
      } finally {
        await silent.close();
      }
    });

    it('adds nothing to an existing conversation when the second turn fails', async () => {
      const agent = await agentWith(modelConfig());
      const first = await ctx.services.chat.send({ message: 'hi', agent_id: agent.id });
      await ctx.services.agents.update(agent.id, { config: modelConfig({ model: 'fail-500' }) });
      const error = await rejectionOf(ctx.services.chat.send({ message: 'again', agent_id: agent.id, conversation_id: first.conversation_id }));
      expect(error).to.be.instanceOf(RunnerError);
      expect(await storedCounts(ctx)).to.deep.equal({ conversations: 1, messages: 2 });
    });
  });

  describe('the API key stays secret', () => {
    for (const [name, extra] of [
      ['an HTTP 500', { model: 'fail-500' }],
      ['an unreachable server', { provider: 'unreachable' }],
      ['a stall', { model: 'hang' }],
    ] as const) {
      it(`never shows it in the error for ${name}`, async () => {
        const config = modelConfig(extra);
        const agent = await agentWith(config, { MODEL_KEY: SECRET, OPENAI_API_KEY: SECRET });
        const error = await rejectionOf(ctx.services.chat.send({ message: 'hi', agent_id: agent.id }));
        expect(error).to.be.instanceOf(RunnerError);
        expect(error.message).to.not.include(SECRET);
        expect(JSON.stringify((error as unknown as InstanceType<typeof RunnerError>).detail)).to.not.include(SECRET);
      });
    }
  });
});
