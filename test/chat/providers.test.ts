// Which provider answers a chat, where its key goes (and where it never goes), the
// deadline and size bound of a reply, the key masked in everything shown or stored, and
// the sources stored with the reply.
import { expect } from 'chai';
import { RunnerError } from '../../src/core/errors.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { echoes, startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { NOTHING_STORED, createAgent, fixture, rejectionOf, storedCounts, timed, upload } from '../helpers/chat.js';

const REPLY = 'The fake model answers.';
const KEY = 'sk-Test/Key+"quote"&=0123456789abcdef';

describe('chat through model providers', () => {
  let model: FakeOpenAi;
  /** A second server that must never hear from Dana. */
  let elsewhere: FakeOpenAi;
  let ctx: TestContext;

  before(async () => {
    model = await startFakeOpenAi(REPLY);
    elsewhere = await startFakeOpenAi('stolen');
  });
  after(async () => {
    await model.close();
    await elsewhere.close();
  });
  beforeEach(() => {
    model.requests.length = 0;
    elsewhere.requests.length = 0;
  });
  afterEach(() => ctx?.close());

  async function open(env: Record<string, string> = {}): Promise<TestContext> {
    ctx = await openTestContext(env);
    return ctx;
  }

  /** A provider on the fake model server, with the key in MODEL_KEY. */
  async function withProvider(env: Record<string, string> = { MODEL_KEY: KEY }, extra: Record<string, unknown> = {}): Promise<void> {
    await open(env);
    await ctx.services.providers.add({ name: 'fake', base_url: model.baseUrl, api_key_env: 'MODEL_KEY', model: 'fake', ...extra });
  }

  const send = (agent: Agent, message = 'hi') => ctx.services.chat.send({ message, agent_id: agent.id });

  describe('which provider answers', () => {
    it('answers offline with config {} even when OPENAI_API_KEY is set (never inferred from the environment)', async () => {
      await open({ OPENAI_API_KEY: KEY });
      const response = await send(await createAgent(ctx, {}));
      expect(response.runner).to.equal('local');
    });

    it('uses the provider the config names, and reports its name as the runner', async () => {
      await withProvider();
      const response = await send(await createAgent(ctx, { provider: 'fake' }));
      expect(response).to.include({ runner: 'fake', agent_response: REPLY });
      expect(model.requests).to.have.length(1);
    });

    it('uses the provider marked default when the config names none', async () => {
      await withProvider(undefined, { is_default: true });
      const response = await send(await createAgent(ctx, {}));
      expect(response.runner).to.equal('fake');
    });

    it('sees a provider changed after the agent was made, at the next chat', async () => {
      await withProvider();
      const agent = await createAgent(ctx, { provider: 'fake' });
      await send(agent);
      await ctx.services.providers.update('fake', { model: 'another-model' });
      await ctx.services.agents.update(agent.id, { config: { provider: 'fake' } });
      await send(agent);
      expect(model.requests.map((request) => request.body.model)).to.deep.equal(['fake', 'another-model']);
    });

    it('fails with "<VAR> is not set" when the key variable is missing, storing nothing', async () => {
      await withProvider({});
      const error = await rejectionOf(send(await createAgent(ctx, { provider: 'fake' })));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.equal('Agent runner failed: MODEL_KEY is not set');
      expect(model.requests).to.have.length(0);
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('fails with "OPENAI_API_KEY is not set" for the built-in openai without its key', async () => {
      await open();
      const error = await rejectionOf(send(await createAgent(ctx, { provider: 'openai' })));
      expect(error.message).to.equal('Agent runner failed: OPENAI_API_KEY is not set');
    });

    it('fails (502) for an agent whose provider was removed, until it is re-pointed', async () => {
      await withProvider();
      const agent = await createAgent(ctx, { provider: 'fake' });
      await ctx.services.providers.remove('fake');
      const error = await rejectionOf(send(agent));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.match(/provider "fake" does not exist/);
      await ctx.services.agents.update(agent.id, { config: { provider: 'local' } });
      expect((await send(agent)).runner).to.equal('local');
    });
  });

  describe('where the key goes', () => {
    it("sends the provider's key as a Bearer token to its own URL", async () => {
      await withProvider();
      await send(await createAgent(ctx, { provider: 'fake' }));
      expect(model.requests[0].headers.authorization).to.equal(`Bearer ${KEY}`);
    });

    it('sends no real key to a provider without a key variable, whatever the environment holds', async () => {
      await open({ OPENAI_API_KEY: KEY, MODEL_KEY: KEY });
      await ctx.services.providers.add({ name: 'keyless', base_url: model.baseUrl, model: 'fake' });
      await send(await createAgent(ctx, { provider: 'keyless' }));
      expect(JSON.stringify(model.requests[0].headers)).to.not.include(KEY);
    });

    it('does not follow a redirect: the server redirected to never receives the key', async () => {
      await withProvider();
      elsewhere.requests.length = 0;
      model.redirectTo = `${elsewhere.baseUrl}/chat/completions`;
      const error = await rejectionOf(send(await createAgent(ctx, { provider: 'fake', model: 'redirect' })));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.match(/redirect \(HTTP 307\)/);
      expect(elsewhere.requests).to.have.length(0);
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });
  });

  describe('bounds on a reply', () => {
    it('fails a stream that never ends at the deadline (timeout 1 s), storing nothing', async () => {
      await withProvider();
      const agent = await createAgent(ctx, { provider: 'fake', model: 'endless', timeout: 1 });
      const { ms, error } = await timed(() => send(agent));
      expect(error).to.be.instanceOf(RunnerError);
      expect((error as Error).message).to.match(/did not finish its reply within 1 s/);
      expect(ms).to.be.lessThan(5000);
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('fails a reply over 200,000 characters, storing nothing', async () => {
      await withProvider();
      const error = await rejectionOf(send(await createAgent(ctx, { provider: 'fake', model: 'huge' })));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.include('200,000 characters');
      expect(await storedCounts(ctx)).to.deep.equal(NOTHING_STORED);
    });

    it('asks for 4,096 tokens at most when the agent sets no max_tokens', async () => {
      await withProvider();
      await send(await createAgent(ctx, { provider: 'fake' }));
      expect(model.requests[0].body.max_tokens).to.equal(4096);
    });
  });

  describe('the key echoed back by a model', () => {
    it('is masked in every spelling in the reply, its deltas and the stored message', async () => {
      await withProvider();
      const agent = await createAgent(ctx, { provider: 'fake', model: 'echo-key' });
      const prepared = await ctx.services.chat.prepare({ message: 'hi', agent_id: agent.id });
      const deltas: string[] = [];
      let reply = '';
      for await (const event of ctx.services.chat.stream(prepared)) {
        if (event.type === 'delta') deltas.push(event.text);
        else reply = event.response.agent_response;
      }
      const stored = await ctx.knex('messages').where({ sender: 'agent' }).first();
      expect(reply).to.include('raw ***').and.to.include('done.');
      for (const text of [reply, deltas.join(''), stored.content]) expect(revealsKey(text), text).to.equal(false);
      expect(deltas.join('')).to.equal(reply);
      expect(revealsKey(echoes(KEY)), 'the check itself').to.equal(true);
    });

    it('is masked in the error detail of a failing provider', async () => {
      await withProvider();
      const error = await rejectionOf(send(await createAgent(ctx, { provider: 'fake', model: 'fail-echo-key' })));
      expect(error).to.be.instanceOf(RunnerError);
      expect(error.message).to.include('bad key ***').and.not.include(KEY);
    });
  });

  describe('sources', () => {
    it("stores the reply with the response's sources; the user message keeps null", async () => {
      await open();
      const agent = await createAgent(ctx, {});
      const pdf = await upload(ctx, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: agent.id });
      const response = await send(agent, 'What does chlorophyll absorb?');
      expect(response.sources.map((source) => source.document_id)).to.deep.equal([pdf.id]);
      const { messages } = await ctx.services.conversations.get(response.conversation_id);
      expect(messages.map((message) => message.sources)).to.deep.equal([null, response.sources]);
    });
  });
});

/** Whether a text still shows the key in a spelling a reader could undo. */
function revealsKey(text: string): boolean {
  const lower = text.toLowerCase();
  const core = KEY.slice(3, -3);
  if ([core, encodeURIComponent(core), JSON.stringify(core).slice(1, -1)].some((spelling) => lower.includes(spelling.toLowerCase()))) return true;
  return [...text.matchAll(/[A-Za-z0-9+/=_-]{8,}/g)].some(([run]) => Buffer.from(run, 'base64').toString('latin1').includes(core));
}
