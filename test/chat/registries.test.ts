// Runners and retrievers are registries: a kind registered beside the built-in ones (here,
// in the test) answers chats, brings its providers and has its config keys checked on
// save, without any other change to Dana.
import { expect } from 'chai';
import { ChatRegistry } from '../../src/core/chat/registry.js';
import { toSource, type RunnerDefinition } from '../../src/core/chat/runner.js';
import { ValidationError } from '../../src/core/errors.js';
import { scopeClause } from '../../src/core/search/index.js';
import type { Passage } from '../../src/core/search/passages.js';
import type { RetrieverDefinition } from '../../src/core/search/retriever.js';
import type { ChatEvent } from '../../src/core/chat/service.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { createAgent, rejectionOf, upload } from '../helpers/chat.js';

/** Says the message back, after its own config key `echo_prefix`, and cites what the retriever found. */
const echoRunner: RunnerDefinition = {
  kind: 'echo',
  settings: { echo_prefix: { type: 'string', maxLength: 10, description: 'Said before the message' } },
  builtInProviders: [{ name: 'echo', base_url: null, api_key_env: null, model: null }],
  create: (config, provider) => ({
    name: provider.name,
    async *run(input) {
      const hits = await input.search(input.message, 3);
      const reply = `${(config.echo_prefix as string | undefined) ?? ''}${input.message} (after ${input.history.length} messages)`;
      for (const text of reply.split(/(?<= )/)) yield { type: 'delta', text };
      yield { type: 'done', reply, sources: hits.map(toSource) };
    },
  }),
  test: async (provider) => ({ model: null, elapsedMs: 0, message: `${provider.name}: says every message back` }),
};

describe('a runner registered beside the built-in ones', () => {
  const registry = new ChatRegistry().with({ runners: [echoRunner] });

  describe('through the services', () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await openTestContext({}, { registry });
    });
    afterEach(() => ctx.close());

    it('answers a chat end to end: streamed deltas, the reply stored, `runner` the provider it brings', async () => {
      const agent = await createAgent(ctx, { provider: 'echo', echo_prefix: '> ' });
      const notes = await upload(ctx, 'notes.txt', 'Quokkas live on Rottnest Island.', { agent_id: agent.id });
      const events: ChatEvent[] = [];
      const prepared = await ctx.services.chat.prepare({ message: 'Where do quokkas live?', agent_id: agent.id });
      for await (const event of ctx.services.chat.stream(prepared)) events.push(event);
      const deltas = events.flatMap((event) => (event.type === 'delta' ? [event.text] : []));
      expect(deltas.join('')).to.equal('> Where do quokkas live? (after 0 messages)');
      const done = events.at(-1);
      if (done?.type !== 'done') throw new Error('no done event');
      expect(done.response).to.include({ runner: 'echo', agent_response: '> Where do quokkas live? (after 0 messages)' });
      expect(done.response.sources.map((source) => source.document_id)).to.deep.equal([notes.id]);

      const next = await ctx.services.chat.send({ message: 'And quokkas?', agent_id: agent.id, conversation_id: done.response.conversation_id });
      expect(next.agent_response).to.equal('> And quokkas? (after 2 messages)');
      const stored = await ctx.services.conversations.get(next.conversation_id);
      expect(stored.messages.map((message) => message.content)).to.deep.equal([
        'Where do quokkas live?', '> Where do quokkas live? (after 0 messages)', 'And quokkas?', '> And quokkas? (after 2 messages)',
      ]);
    });

    it('lists the provider the runner brings as built in, and tests it with the runner', async () => {
      const { items } = await ctx.services.providers.list();
      expect(items.map((provider) => provider.name)).to.deep.equal(['local', 'openai', 'echo']);
      expect((await ctx.services.providers.test('echo')).message).to.equal('echo: says every message back');
      expect((await rejectionOf(ctx.services.providers.remove('echo'))).message).to.include('built in');
    });

    it("checks the runner's own keys on save, beside the built-in runners' keys", async () => {
      const error = await rejectionOf(createAgent(ctx, { echo_prefix: 'x'.repeat(11), temperature: 3 }));
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as unknown as ValidationError).issues).to.deep.equal([
        { loc: ['body', 'config', 'temperature'], msg: 'Input should be less than or equal to 2', type: 'less_than_equal' },
        { loc: ['body', 'config', 'echo_prefix'], msg: 'String should have at most 10 characters', type: 'string_too_long' },
      ]);
    });
  });

  describe('over HTTP', () => {
    let server: TestServer;
    beforeEach(async () => {
      server = await startTestServer({}, {}, { registry });
    });
    afterEach(() => server.close());

    it("refuses a bad value of the runner's key with the contract's 422 body, on create and update", async () => {
      const body = { detail: [{ loc: ['body', 'config', 'echo_prefix'], msg: 'Input should be a valid string', type: 'string_type' }] };
      const created = await server.api('/api/agents/', json('POST', { name: 'Ada', description: '', config: { echo_prefix: 5 } }));
      expect(created.status).to.equal(422);
      expect(await created.json()).to.deep.equal(body);
      const agent = await createAgent(server.context, { provider: 'echo' });
      const updated = await server.api(`/api/agents/${agent.id}`, json('PATCH', { config: { echo_prefix: 5 } }));
      expect(updated.status).to.equal(422);
      expect(await updated.json()).to.deep.equal(body);
      expect((await server.context.services.agents.get(agent.id)).config).to.deep.equal({ provider: 'echo' });
    });

    it('answers POST /api/chat/ with the runner', async () => {
      const agent = await createAgent(server.context, { provider: 'echo' });
      const response = await server.api('/api/chat/', json('POST', { message: 'hello', agent_id: agent.id }));
      expect(response.status).to.equal(200);
      expect(await response.json()).to.include({ runner: 'echo', agent_response: 'hello (after 0 messages)' });
    });
  });

  it('is unknown to contexts that did not register it: its key is stored as given', async () => {
    const ctx = await openTestContext();
    try {
      expect((await createAgent(ctx, { echo_prefix: 5 })).config).to.deep.equal({ echo_prefix: 5 });
      const error = await rejectionOf(createAgent(ctx, { provider: 'echo' }));
      expect((error as unknown as ValidationError).issues.map((issue) => issue.msg)).to.deep.equal(['Provider "echo" does not exist (see dana providers list)']);
    } finally {
      await ctx.close();
    }
  });

  it('may not declare a key another runner declares differently, nor one Dana reads itself', () => {
    const clash: RunnerDefinition = { ...echoRunner, kind: 'clash', settings: { temperature: { type: 'string' } }, builtInProviders: [] };
    expect(() => new ChatRegistry().with({ runners: [clash] })).to.throw('"clash" runner declares config key "temperature" differently');
    const same: RunnerDefinition = { ...clash, settings: { temperature: { type: 'number', minimum: 0, maximum: 2 } } };
    expect(new ChatRegistry().with({ runners: [same] }).runner('clash')).to.equal(same);
    const reserved: RunnerDefinition = { ...clash, settings: { topic_ids: { type: 'string' } } };
    expect(() => new ChatRegistry().with({ runners: [reserved] })).to.throw('config key "topic_ids", which Dana reads itself');
  });
});

/**
 * Finds passages that contain the message as written, from its own copy of the passages
 * (kept through the index hooks), limited to the documents in scope.
 */
function substringRetriever(): RetrieverDefinition & { passages: Map<number, Passage[]>; removed: number[] } {
  const passages = new Map<number, Passage[]>();
  const removed: number[] = [];
  return {
    kind: 'substring',
    passages,
    removed,
    create: ({ sql }) => ({
      async search(query, scope, limit) {
        const { where, values } = scopeClause(scope);
        const documents = await sql.all<{ id: number; original_filename: string }>(`SELECT id, original_filename FROM documents WHERE ${where} ORDER BY id`, values);
        return documents.flatMap((document) =>
          (passages.get(Number(document.id)) ?? [])
            .filter((passage) => passage.content.includes(query))
            .map((passage) => ({
              documentId: Number(document.id), originalFilename: document.original_filename, position: passage.position,
              snippet: passage.content, content: passage.content,
            })),
        ).slice(0, limit);
      },
      async passagesAdded(_db, documentId, batch) {
        passages.set(documentId, [...(passages.get(documentId) ?? []), ...batch]);
      },
      async passagesRemoved(_db, documentId) {
        removed.push(documentId);
        passages.delete(documentId);
      },
    }),
  };
}

describe('a retriever registered beside the full-text one', () => {
  let ctx: TestContext;
  let retriever: ReturnType<typeof substringRetriever>;
  beforeEach(async () => {
    retriever = substringRetriever();
    ctx = await openTestContext({}, { registry: new ChatRegistry().with({ retrievers: [retriever] }) });
  });
  afterEach(() => ctx.close());

  it("answers agents whose config names it, and only them (the default stays full-text)", async () => {
    const chosen = await createAgent(ctx, { retriever: 'substring', topic_ids: [] });
    const plain = await createAgent(ctx, {}, 'Plain');
    const topic = await ctx.services.topics.create({ name: 'Instruments', description: '' });
    await ctx.services.agents.update(chosen.id, { config: { retriever: 'substring', topic_ids: [topic.id] } });
    await ctx.services.agents.update(plain.id, { config: { topic_ids: [topic.id] } });
    const notes = await upload(ctx, 'notes.txt', 'The password is xylophone-7 today.', { topic_id: topic.id });
    // Part of a word: no full-text search finds it, a substring search does.
    const found = await ctx.services.chat.send({ message: 'lophone', agent_id: chosen.id });
    expect(found.sources.map((source) => source.document_id)).to.deep.equal([notes.id]);
    expect(found.agent_response).to.include('xylophone-7');
    const missed = await ctx.services.chat.send({ message: 'lophone', agent_id: plain.id });
    expect(missed.sources).to.deep.equal([]);
    expect((await ctx.services.chat.send({ message: 'xylophone password', agent_id: plain.id })).sources).to.have.length(1);
  });

  it('is told of the passages as a document is indexed and indexed again', async () => {
    const notes = await upload(ctx, 'notes.txt', 'First text of the notes.');
    expect(retriever.passages.get(notes.id)?.map((passage) => passage.content)).to.deep.equal(['First text of the notes.']);
    await ctx.services.documents.reindex([notes.id]);
    expect(retriever.removed.filter((id) => id === notes.id).length).to.be.greaterThan(1);
    expect(retriever.passages.get(notes.id)?.map((passage) => passage.content)).to.deep.equal(['First text of the notes.']);
  });

  it('refuses a config naming a retriever that is not registered, with a 422 on config.retriever', async () => {
    const error = await rejectionOf(createAgent(ctx, { retriever: 'semantic' }));
    expect((error as unknown as ValidationError).issues).to.deep.equal([
      { loc: ['body', 'config', 'retriever'], msg: "Input should be 'full-text' or 'substring'", type: 'enum' },
    ]);
  });
});
