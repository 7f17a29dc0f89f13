// Passage embeddings and hybrid retrieval against the fake OpenAI-compatible server's
// /embeddings, on the backend under test: which passages get vectors, in the background
// and resumed after a stop, what chat retrieves with them, and what happens when the
// embeddings endpoint fails or redirects.
import { expect } from 'chai';
import { createContext } from '../../src/core/context.js';
import type { Agent } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { promptOf, startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { addProvider, createAgent, upload, waitFor } from '../helpers/chat.js';

const KEY = 'sk-embedding-secret-0123456789abcdef';
const CARS = 'The automobile needs new tyres and an oil change before winter.';
const GARDEN = 'Tomatoes grow best in full sun with regular watering and rich compost.';

/** A long text: this many passages of distinct words. */
function manyPassages(count: number): string {
  return Array.from({ length: count * 160 }, (_, i) => `word${i}`).join(' ');
}

describe('passage embeddings and hybrid retrieval', () => {
  let fake: FakeOpenAi;
  let other: FakeOpenAi;
  let ctx: TestContext;
  const logged: string[] = [];

  before(async () => {
    fake = await startFakeOpenAi('The fake model answers.');
    other = await startFakeOpenAi('Another server.');
  });
  after(async () => {
    await fake.close();
    await other.close();
  });
  beforeEach(async () => {
    Object.assign(fake.embeddings, { failing: false, redirectTo: '', delayMs: 0, embedded: 0 });
    fake.embeddings.requests.length = 0;
    fake.requests.length = 0;
    other.requests.length = 0;
    other.embeddings.requests.length = 0;
    logged.length = 0;
    ctx = await openTestContext({ EMBED_KEY: KEY }, { log: (level, message) => logged.push(`${level}: ${message}`), embeddings: { batchSize: 2 } });
    // "embedding": chat and embeddings on the fake; "plain": the same server, full text only.
    await addProvider(ctx, 'embedding', fake.baseUrl, { model: 'fake', embedding_model: 'fake-embed', api_key_env: 'EMBED_KEY' });
    await addProvider(ctx, 'plain', fake.baseUrl, { model: 'fake' });
  });
  afterEach(() => ctx.close());

  async function vectorCount(model = 'fake-embed'): Promise<number> {
    const row = await ctx.knex('passage_embeddings').where({ model }).count({ n: '*' }).first();
    return Number(row?.n);
  }

  async function passageCount(documentId: number): Promise<number> {
    const row = await ctx.knex('passages').where({ document_id: documentId }).count({ n: '*' }).first();
    return Number(row?.n);
  }

  async function agentWithDocuments(provider: string): Promise<Agent> {
    const agent = await createAgent(ctx, { provider });
    await upload(ctx, 'cars.txt', CARS, { agent_id: agent.id });
    await upload(ctx, 'garden.txt', GARDEN, { agent_id: agent.id });
    return agent;
  }

  describe('hybrid retrieval', () => {
    it('finds by meaning a passage that full-text search misses (a synonym), and sends it to the model', async () => {
      const agent = await agentWithDocuments('embedding');
      const filled = await ctx.services.embeddings.fill();
      expect(filled).to.include({ embedded: 2, missing: 0 });
      expect(filled.errors).to.deep.equal([]);

      const response = await ctx.services.chat.send({ message: 'car', agent_id: agent.id });
      expect(response.sources[0].original_filename).to.equal('cars.txt');
      expect(promptOf(fake.requests[0])).to.contain('automobile');
    });

    it('answers from full text alone when the provider has no embedding model', async () => {
      const agent = await agentWithDocuments('plain');
      const response = await ctx.services.chat.send({ message: 'car', agent_id: agent.id });
      expect(response.sources).to.deep.equal([]);
      expect(promptOf(fake.requests[0])).not.to.contain('automobile');
      expect(fake.embeddings.requests).to.have.length(0);
    });

    it('keeps the full-text match first when both rankings agree', async () => {
      const agent = await agentWithDocuments('embedding');
      await ctx.services.embeddings.fill();
      const response = await ctx.services.chat.send({ message: 'tomatoes in the sun', agent_id: agent.id });
      expect(response.sources[0].original_filename).to.equal('garden.txt');
    });

    it('still answers, from full text, with a log line, when the embeddings endpoint fails at chat time', async () => {
      const agent = await agentWithDocuments('embedding');
      await ctx.services.embeddings.fill();
      fake.embeddings.failing = true;
      const response = await ctx.services.chat.send({ message: 'tomatoes', agent_id: agent.id });
      expect(response.success).to.equal(true);
      expect(response.agent_response).to.equal('The fake model answers.');
      expect(response.sources.map((source) => source.original_filename)).to.deep.equal(['garden.txt']);
      expect(logged.some((line) => /^warning: embeddings of "fake-embed" unavailable .*full-text search only/.test(line))).to.equal(true);
      expect(logged.join('\n')).not.to.contain(KEY);
    });
  });

  describe('which passages are embedded', () => {
    it('embeds nothing and asks no server while every agent answers offline (the default)', async () => {
      const agent = await createAgent(ctx, {});
      await upload(ctx, 'cars.txt', CARS, { agent_id: agent.id });
      const filled = await ctx.services.embeddings.fill();
      expect(filled).to.deep.equal({ embedded: 0, missing: 0, errors: [], models: [] });
      expect(fake.embeddings.requests).to.have.length(0);
      expect(await vectorCount()).to.equal(0);
    });

    it("embeds the documents of an agent's topics too, once per model, sending the key to its own server only", async () => {
      const topic = await ctx.services.topics.create({ name: 'Cars', description: '' });
      await createAgent(ctx, { provider: 'embedding', topic_ids: [topic.id] });
      await createAgent(ctx, { provider: 'embedding', topic_ids: [topic.id] }, 'Bea');
      await upload(ctx, 'cars.txt', CARS, { topic_id: topic.id });
      await upload(ctx, 'garden.txt', GARDEN);
      expect((await ctx.services.embeddings.fill()).embedded).to.equal(1);
      expect(await vectorCount()).to.equal(1);
      expect(fake.embeddings.requests.map((request) => request.headers.authorization)).to.deep.equal([`Bearer ${KEY}`]);
      expect(fake.embeddings.requests[0].body).to.include({ model: 'fake-embed', encoding_format: 'float' });
    });

    it('keeps one set of vectors per model for a document shared by agents of different models', async () => {
      await addProvider(ctx, 'second', fake.baseUrl, { model: 'fake', embedding_model: 'other-embed' });
      const topic = await ctx.services.topics.create({ name: 'Shared', description: '' });
      await createAgent(ctx, { provider: 'embedding', topic_ids: [topic.id] });
      await createAgent(ctx, { provider: 'second', topic_ids: [topic.id] }, 'Bea');
      await upload(ctx, 'cars.txt', CARS, { topic_id: topic.id });
      const filled = await ctx.services.embeddings.fill();
      expect(filled.models).to.deep.equal(['fake-embed', 'other-embed']);
      expect([await vectorCount('fake-embed'), await vectorCount('other-embed')]).to.deep.equal([1, 1]);
    });

    it('follows a redirect nowhere: the other server hears nothing, and the key is not in the error', async () => {
      await agentWithDocuments('embedding');
      fake.embeddings.redirectTo = `${other.baseUrl}/embeddings`;
      const filled = await ctx.services.embeddings.fill();
      expect(filled.embedded).to.equal(0);
      expect(filled.missing).to.equal(2);
      expect(filled.errors[0]).to.match(/redirect/);
      expect(filled.errors.join(' ')).not.to.contain(KEY);
      expect(other.embeddings.requests).to.have.length(0);
      expect(other.requests).to.have.length(0);
    });

    it('drops the vectors of a document that is reindexed or deleted with its passages', async () => {
      const agent = await agentWithDocuments('embedding');
      await ctx.services.embeddings.fill();
      expect(await vectorCount()).to.equal(2);
      const [cars] = (await ctx.services.documents.list({ agent_id: agent.id })).items;
      await ctx.services.documents.reindex([cars.id]);
      expect(await vectorCount()).to.equal(1);
      await ctx.services.documents.delete(cars.id);
      await ctx.services.embeddings.fill();
      expect(await vectorCount()).to.equal(1);
    });
  });

  describe('embedding in the background', () => {
    it('returns the upload before its passages are embedded, then embeds them', async () => {
      const agent = await createAgent(ctx, { provider: 'embedding' });
      fake.embeddings.delayMs = 300;
      ctx.services.embeddings.start();
      const document = await upload(ctx, 'long.txt', manyPassages(6), { agent_id: agent.id });
      expect(document.text_status).to.equal('indexed');
      expect(await vectorCount()).to.equal(0);
      const passages = await passageCount(document.id);
      await waitFor(async () => (await vectorCount()) === passages, 20_000, 'every passage embedded');
    });

    it('resumes after being stopped mid-way (a crash): a new start fills only what is missing', async function () {
      // Two background phases, each given up to 20 s on a loaded machine.
      this.timeout(60_000);
      const agent = await createAgent(ctx, { provider: 'embedding' });
      const document = await upload(ctx, 'long.txt', manyPassages(12), { agent_id: agent.id });
      const passages = await passageCount(document.id);
      fake.embeddings.delayMs = 100;
      ctx.services.embeddings.start();
      await waitFor(async () => (await vectorCount()) >= 2, 20_000, 'a first batch embedded');
      await ctx.services.embeddings.stop();
      const before = await vectorCount();
      expect(before).to.be.above(0).and.below(passages);

      // Another process starting on the same database, as `dana serve` after a crash.
      fake.embeddings.delayMs = 0;
      const embeddedBefore = fake.embeddings.embedded;
      const restarted = await createContext(ctx.config, { log: () => undefined });
      try {
        restarted.services.embeddings.start();
        await waitFor(async () => (await vectorCount()) === passages, 20_000, 'every passage embedded after the restart');
      } finally {
        await restarted.close();
      }
      // Only the missing passages were asked for again (plus at most the batch cut short).
      expect(fake.embeddings.embedded - embeddedBefore).to.be.at.most(passages - before + 2);
    });

    it('retrieves with the vectors another process stored since the last search', async () => {
      const agent = await agentWithDocuments('embedding');
      await ctx.services.embeddings.fill();
      expect((await ctx.services.chat.send({ message: 'car', agent_id: agent.id })).sources[0].original_filename).to.equal('cars.txt');
      const vehicles = await upload(ctx, 'vans.txt', 'Every vehicle in the fleet is serviced twice a year.', { agent_id: agent.id });
      const writer = await createContext(ctx.config, { log: () => undefined });
      try {
        await writer.services.embeddings.fill();
      } finally {
        await writer.close();
      }
      const sources = (await ctx.services.chat.send({ message: 'car', agent_id: agent.id })).sources.map((source) => source.original_filename);
      expect(sources.slice(0, 2)).to.have.members(['cars.txt', vehicles.original_filename]);
    });
  });
});
