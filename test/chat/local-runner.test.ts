// The offline runner: an agent without a model answers by quoting its own documents.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Agent, ChatResponse, Document } from '../../src/core/schemas.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { createAgent, fixture, upload } from '../helpers/chat.js';
import { storedFiles } from '../helpers/temp.js';

/** One document of each type, the words a question quotes, and what the reply must quote back. */
const LIBRARY = [
  { name: 'lighthouse.txt', bytes: 'The keeper of Skerryvore polished the brass lantern every evening before dusk.', ask: 'Who polished the brass lantern at Skerryvore?', quote: 'polished the brass lantern' },
  { name: 'sourdough.md', bytes: '# Sourdough\n\nFeed the **starter** with rye flour and wait until it doubles in size.\n', ask: 'How do I feed the sourdough starter rye flour?', quote: 'rye flour' },
  { name: 'harvest.csv', bytes: 'fruit,orchard,tonnes\nquince,Valldemossa,12\npersimmon,Alcudia,7\n', ask: 'How many tonnes of quince came from Valldemossa?', quote: 'quince,Valldemossa,12' },
  { name: 'telescope.json', bytes: '{"telescope": "Hubble", "mirror_diameter_m": 2.4, "orbit": "low Earth orbit"}', ask: 'Hubble telescope mirror diameter', quote: '"mirror_diameter_m": 2.4' },
  { name: 'photosynthesis.pdf', bytes: fixture('photosynthesis.pdf'), ask: 'Why does chlorophyll absorb sunlight?', quote: 'Chlorophyll absorbs sunlight' },
  { name: 'volcanoes.docx', bytes: fixture('volcanoes.docx'), ask: 'When was Eyjafjallajokull erupting?', quote: 'Eyjafjallajokull erupted in 2010' },
];

const FTS5_SYNTAX = [
  '"', '""', '"unterminated quote', "'", '*', 'chlorophyll*', 'NEAR(', 'NEAR(chlorophyll sunlight, 2)', 'NEAR', 'AND', 'OR', 'NOT',
  'chlorophyll AND', 'OR glucose', 'AND OR NOT', '-oxygen', 'glucose - oxygen', 'content:sunlight', ':', 'passages_fts:glucose',
  '^chlorophyll', '^', '(', ')', '(glucose', 'glucose)', '((()))', '{content}: glucose', 'col + "a" * b', '"chlorophyll* NEAR(sunlight',
  "'; DROP TABLE passages; --", 'sunlight" OR "1"="1',
];

function sourceIds(response: ChatResponse): number[] {
  return response.sources.map((source) => source.document_id);
}

describe('chat with the local runner', () => {
  let ctx: TestContext;
  let agent: Agent;
  const send = (message: string, agentId = agent.id) => ctx.services.chat.send({ message, agent_id: agentId });

  beforeEach(async () => {
    ctx = await openTestContext();
    agent = await createAgent(ctx);
  });
  afterEach(() => ctx.close());

  describe('answers by quoting the one document a question is about', () => {
    let documents: Document[];
    beforeEach(async () => {
      documents = [];
      for (const entry of LIBRARY) documents.push(await upload(ctx, entry.name, entry.bytes, { agent_id: agent.id }));
    });

    for (const [i, entry] of LIBRARY.entries()) {
      it(`quotes a ${entry.name.split('.').pop()} document and names it as the only source`, async () => {
        const response = await send(entry.ask);
        expect(response.runner).to.equal('local');
        expect(response.agent_response).to.include(entry.quote);
        expect(response.sources).to.have.length(1);
        const [source] = response.sources;
        expect(source).to.have.all.keys('document_id', 'original_filename', 'snippet');
        expect(source).to.include({ document_id: documents[i].id, original_filename: entry.name });
        expect(source.snippet.trim()).to.not.equal('');
        expect(source.snippet).to.include(entry.quote);
      });
    }

    it('gives the same reply and sources to the same question asked twice', async () => {
      const first = await send('Tell me about chlorophyll, glucose and the Mid-Atlantic Ridge');
      const second = await send('Tell me about chlorophyll, glucose and the Mid-Atlantic Ridge');
      expect(second.conversation_id).to.not.equal(first.conversation_id);
      expect(second.agent_response).to.equal(first.agent_response);
      expect(second.sources).to.deep.equal(first.sources);
      expect(sourceIds(first)).to.have.members([documents[4].id, documents[5].id]);
    });

    it('says it found nothing, with no sources, when no document matches', async () => {
      const response = await send('zeppelin xylophone quasar');
      expect(response.runner).to.equal('local');
      expect(response.sources).to.deep.equal([]);
      expect(response.agent_response).to.match(/(couldn't|could not|can't|cannot) find|nothing/i);
      expect(response.agent_response).to.not.include('Skerryvore');
    });
  });

  describe('uses only the documents that belong to the agent', () => {
    it("never quotes another agent's documents, even when they match better", async () => {
      const other = await createAgent(ctx, {}, 'Other');
      const mine = await upload(ctx, 'mine.txt', 'Glucose is a sugar.', { agent_id: agent.id });
      await upload(ctx, 'theirs.txt', 'Chlorophyll chlorophyll glucose sunlight: the private notes of another agent.', { agent_id: other.id });
      const response = await send('chlorophyll glucose sunlight private notes');
      expect(sourceIds(response)).to.deep.equal([mine.id]);
      expect(response.agent_response).to.not.include('private notes');
      expect(response.agent_response).to.not.include('theirs.txt');
    });

    it("finds nothing in another agent's documents for a question only they could answer", async () => {
      const other = await createAgent(ctx, {}, 'Other');
      await upload(ctx, 'mine.txt', 'Glucose is a sugar.', { agent_id: agent.id });
      await upload(ctx, 'theirs.txt', 'The Antikythera mechanism predicted eclipses.', { agent_id: other.id });
      const response = await send('Antikythera mechanism eclipses');
      expect(response.sources).to.deep.equal([]);
      expect(response.agent_response).to.not.include('Antikythera mechanism predicted');
    });

    it("uses the documents of the topics listed in the agent's config.topic_ids", async () => {
      const topic = await ctx.services.topics.create({ name: 'History', description: '' });
      const inTopic = await upload(ctx, 'gears.txt', 'The Antikythera mechanism predicted eclipses.', { topic_id: topic.id });
      const reader = await createAgent(ctx, { topic_ids: [topic.id] }, 'Historian');
      const response = await send('Antikythera mechanism eclipses', reader.id);
      expect(sourceIds(response)).to.deep.equal([inTopic.id]);
      expect(response.agent_response).to.include('Antikythera mechanism predicted eclipses');
    });

    it('ignores the documents of a topic the agent does not list', async () => {
      const topic = await ctx.services.topics.create({ name: 'History', description: '' });
      await upload(ctx, 'gears.txt', 'The Antikythera mechanism predicted eclipses.', { topic_id: topic.id });
      const response = await send('Antikythera mechanism eclipses');
      expect(response.sources).to.deep.equal([]);
      expect(response.agent_response).to.not.include('predicted eclipses');
    });
  });

  describe('treats search syntax in a message as plain words', () => {
    beforeEach(async () => {
      await upload(ctx, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: agent.id });
    });

    it('answers every message full of FTS5 syntax without throwing', async () => {
      for (const message of FTS5_SYNTAX) {
        const response = await send(message).catch((error: Error) => {
          throw new Error(`${JSON.stringify(message)} threw: ${error.message}`);
        });
        expect(response.runner, message).to.equal('local');
        expect(response.agent_response, message).to.be.a('string').and.not.equal('');
      }
    });

    it('still finds the words around the syntax', async () => {
      const response = await send('"chlorophyll* NEAR(sunlight AND -glucose) ^oxygen:');
      expect(response.sources.map((source) => source.original_filename)).to.deep.equal(['photosynthesis.pdf']);
    });
  });

  describe('an agent with no documents', () => {
    it('explains how to upload documents or configure a model, with no sources', async () => {
      const response = await send('What is photosynthesis?');
      expect(response.runner).to.equal('local');
      expect(response.sources).to.deep.equal([]);
      expect(response.agent_response).to.include('dana docs upload');
      expect(response.agent_response).to.match(/model/i);
      expect(response.agent_response).to.match(/"provider"|OPENAI_API_KEY/);
    });
  });

  describe('a file that cannot be parsed', () => {
    it('is stored all the same, and chat keeps answering from the other documents', async () => {
      const garbage = randomBytes(4096);
      const broken = await upload(ctx, 'x.pdf', garbage, { agent_id: agent.id });
      expect(broken).to.include({ original_filename: 'x.pdf', file_size: 4096, mime_type: 'application/pdf', agent_id: agent.id });
      expect(storedFiles(ctx.config.uploadDir)).to.have.length(1);
      const download = await ctx.services.documents.download(broken.id);
      download.stream.destroy();
      expect(download.size).to.equal(4096);

      const good = await upload(ctx, 'volcanoes.docx', fixture('volcanoes.docx'), { agent_id: agent.id });
      const response = await send('Eyjafjallajokull ash cloud');
      expect(sourceIds(response)).to.deep.equal([good.id]);
      const nothing = await send('zeppelin xylophone');
      expect(nothing.sources).to.deep.equal([]);
    });
  });

  describe('deleting a document', () => {
    it('removes it from later answers', async () => {
      const doomed = await upload(ctx, 'lighthouse.txt', 'The keeper of Skerryvore polished the brass lantern.', { agent_id: agent.id });
      const kept = await upload(ctx, 'sourdough.md', 'Feed the starter with rye flour.', { agent_id: agent.id });
      expect(sourceIds(await send('Skerryvore lantern'))).to.deep.equal([doomed.id]);

      await ctx.services.documents.delete(doomed.id);
      const after = await send('Skerryvore lantern');
      expect(after.sources).to.deep.equal([]);
      expect(after.agent_response).to.not.include('Skerryvore polished');
      expect(after.agent_response).to.not.include('lighthouse.txt');
      expect(sourceIds(await send('rye flour starter'))).to.deep.equal([kept.id]);
    });
  });

  describe('reindexing (dana docs reindex)', () => {
    it("rebuilds the passages of every document from the stored files' text", async () => {
      const pdf = await upload(ctx, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: agent.id });
      const txt = await upload(ctx, 'lighthouse.txt', 'The keeper of Skerryvore polished the brass lantern.', { agent_id: agent.id });
      await ctx.knex('passages').delete();
      expect((await send('chlorophyll sunlight')).sources).to.deep.equal([]);

      const results = await ctx.services.documents.reindex();
      expect(results).to.deep.equal([
        { id: pdf.id, original_filename: 'photosynthesis.pdf', status: 'indexed', error: null, passages: 1 },
        { id: txt.id, original_filename: 'lighthouse.txt', status: 'indexed', error: null, passages: 1 },
      ]);
      expect(sourceIds(await send('chlorophyll sunlight'))).to.deep.equal([pdf.id]);
      expect(sourceIds(await send('Skerryvore lantern'))).to.deep.equal([txt.id]);
    });

    it('reads a changed file again when reindexing only that document', async () => {
      const txt = await upload(ctx, 'notes.txt', 'Old words about marmalade.', { agent_id: agent.id });
      const other = await upload(ctx, 'other.txt', 'Quokkas live on Rottnest.', { agent_id: agent.id });
      const row = await ctx.knex('documents').where('id', txt.id).first();
      fs.writeFileSync(`${ctx.config.uploadDir}/${row.file_path}`, 'New words about tamarind chutney.');

      const results = await ctx.services.documents.reindex([txt.id]);
      expect(results.map((result) => result.id)).to.deep.equal([txt.id]);
      expect((await send('marmalade')).sources).to.deep.equal([]);
      expect(sourceIds(await send('tamarind chutney'))).to.deep.equal([txt.id]);
      expect(sourceIds(await send('quokkas Rottnest'))).to.deep.equal([other.id]);
    });

    it('reports a file that cannot be parsed as failed without stopping', async () => {
      const broken = await upload(ctx, 'x.pdf', randomBytes(2048), { agent_id: agent.id });
      const txt = await upload(ctx, 'notes.txt', 'Quokkas live on Rottnest.', { agent_id: agent.id });
      const results = await ctx.services.documents.reindex();
      expect(results.map(({ id, status, passages }) => ({ id, status, passages }))).to.deep.equal([
        { id: broken.id, status: 'failed', passages: 0 },
        { id: txt.id, status: 'indexed', passages: 1 },
      ]);
      expect(results[0].error).to.be.a('string').and.not.equal('');
    });

    it('never parses files during a chat: a pending document stays pending', async () => {
      const txt = await upload(ctx, 'notes.txt', 'Quokkas live on Rottnest.', { agent_id: agent.id });
      await ctx.knex('passages').delete();
      await ctx.knex('documents').update({ text_status: 'pending' });
      expect(sourceIds(await send('quokkas Rottnest'))).to.deep.equal([]);
      expect((await ctx.services.documents.get(txt.id)).text_status).to.equal('pending');
    });
  });
});
