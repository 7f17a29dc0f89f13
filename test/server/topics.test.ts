import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import {
  bodyOf, ISO_UTC, createTopic, expectCreated, expectError, expectLocs, isLater, uploadDocument,
} from '../helpers/api.js';

const TOPIC_KEYS = ['id', 'name', 'description', 'created_at', 'updated_at'];

describe('REST topics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  describe('creating a topic', () => {
    it('answers 201 with exactly the Topic keys and a Location that answers 200', async () => {
      const res = await server.api('/api/topics/', json('POST', { name: 'Physics', description: 'forces' }));
      const topic = await expectCreated(server, res);
      expect(topic).to.have.all.keys(...TOPIC_KEYS);
      expect(res.headers.get('location')).to.equal(`/api/topics/${topic.id}`);
      expect(topic).to.include({ name: 'Physics', description: 'forces' });
      expect(topic.created_at).to.match(ISO_UTC);
      expect(topic.updated_at).to.equal(topic.created_at);
    });

    it('stores the name trimmed', async () => {
      const topic = await createTopic(server, { name: '  Trimmed topic  ' });
      expect(topic.name).to.equal('Trimmed topic');
    });

    it('answers 409 "Topic \'X\' already exists" for a duplicate name, trimmed or not', async () => {
      await createTopic(server, { name: 'Unique' });
      await expectError(await server.api('/api/topics/', json('POST', { name: 'Unique', description: '' })), 409, "Topic 'Unique' already exists");
      await expectError(await server.api('/api/topics/', json('POST', { name: ' Unique ', description: '' })), 409, "Topic 'Unique' already exists");
    });

    it('refuses each missing field with its location', async () => {
      await expectLocs(await server.api('/api/topics/', json('POST', { description: '' })), ['body', 'name']);
      await expectLocs(await server.api('/api/topics/', json('POST', { name: 'no description' })), ['body', 'description']);
    });

    it('refuses wrong types, unknown fields, blank and over-long names', async () => {
      await expectLocs(await server.api('/api/topics/', json('POST', { name: 5, description: '' })), ['body', 'name']);
      await expectLocs(await server.api('/api/topics/', json('POST', { name: 'x', description: null })), ['body', 'description']);
      await expectLocs(await server.api('/api/topics/', json('POST', { name: 'x', description: '', colour: 1 })), ['body', 'colour']);
      await expectLocs(await server.api('/api/topics/', json('POST', { name: ' ', description: '' })), ['body', 'name']);
      await expectLocs(await server.api('/api/topics/', json('POST', { name: 't'.repeat(201), description: '' })), ['body', 'name']);
      expect((await createTopic(server, { name: 't'.repeat(200) })).name).to.have.length(200);
    });
  });

  describe('reading a topic', () => {
    it('answers 200 with the topic', async () => {
      const topic = await createTopic(server);
      const res = await server.api(`/api/topics/${topic.id}`);
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal(topic);
    });

    it('answers 404 "Topic not found" on every route of an unknown id', async () => {
      await expectError(await server.api('/api/topics/99999'), 404, 'Topic not found');
      await expectError(await server.api('/api/topics/99999', json('PUT', { name: 'x' })), 404, 'Topic not found');
      await expectError(await server.api('/api/topics/99999', json('PATCH', { name: 'x' })), 404, 'Topic not found');
      await expectError(await server.api('/api/topics/99999', { method: 'DELETE' }), 404, 'Topic not found');
    });
  });

  describe('updating a topic', () => {
    for (const method of ['PUT', 'PATCH']) {
      it(`${method} changes only the fields given and advances updated_at`, async () => {
        const topic = await createTopic(server, { description: 'keep' });
        const res = await server.api(`/api/topics/${topic.id}`, json(method, { name: `  ${method} renamed  ` }));
        expect(res.status).to.equal(200);
        const updated = await bodyOf(res);
        expect(updated).to.have.all.keys(...TOPIC_KEYS);
        expect(updated).to.include({ id: topic.id, name: `${method} renamed`, description: 'keep', created_at: topic.created_at });
        expect(isLater(updated.updated_at, topic.updated_at)).to.equal(true);
      });
    }

    it('answers 409 when renamed to the name of another topic, and changes nothing', async () => {
      await createTopic(server, { name: 'Taken' });
      const topic = await createTopic(server, { name: 'Free' });
      await expectError(await server.api(`/api/topics/${topic.id}`, json('PUT', { name: 'Taken' })), 409, "Topic 'Taken' already exists");
      await expectError(await server.api(`/api/topics/${topic.id}`, json('PATCH', { name: '  Taken ' })), 409, "Topic 'Taken' already exists");
      expect(await bodyOf(await server.api(`/api/topics/${topic.id}`))).to.deep.equal(topic);
    });

    it('may keep its own name', async () => {
      const topic = await createTopic(server, { name: 'Mine' });
      const res = await server.api(`/api/topics/${topic.id}`, json('PATCH', { name: 'Mine', description: 'changed' }));
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.include({ name: 'Mine', description: 'changed' });
    });

    it('refuses an empty body {}, wrong types and unknown fields', async () => {
      const topic = await createTopic(server);
      await expectLocs(await server.api(`/api/topics/${topic.id}`, json('PUT', {})), ['body']);
      await expectLocs(await server.api(`/api/topics/${topic.id}`, json('PATCH', { description: 3 })), ['body', 'description']);
      await expectLocs(await server.api(`/api/topics/${topic.id}`, json('PATCH', { created_at: 'now' })), ['body', 'created_at']);
    });
  });

  describe('deleting a topic', () => {
    it('answers {"message": "Topic deleted successfully"} and the topic is gone', async () => {
      const topic = await createTopic(server);
      const res = await server.api(`/api/topics/${topic.id}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal({ message: 'Topic deleted successfully' });
      await expectError(await server.api(`/api/topics/${topic.id}`), 404, 'Topic not found');
    });

    it('keeps its documents with topic_id set to null', async () => {
      const topic = await createTopic(server);
      const document = await uploadDocument(server, 'in-topic.md', '# kept', { topic_id: String(topic.id) });
      expect(document.topic_id).to.equal(topic.id);
      await server.api(`/api/topics/${topic.id}`, { method: 'DELETE' });
      const kept = await bodyOf(await server.api(`/api/documents/${document.id}`));
      expect(kept.topic_id).to.equal(null);
    });

    it('frees the name for a new topic', async () => {
      const topic = await createTopic(server, { name: 'Recycled' });
      await server.api(`/api/topics/${topic.id}`, { method: 'DELETE' });
      expect((await createTopic(server, { name: 'Recycled' })).name).to.equal('Recycled');
    });
  });

  describe('listing topics', () => {
    let list: TestServer;
    before(async () => {
      list = await startTestServer();
      for (const name of ['a', 'b', 'c', 'd']) await list.context.services.topics.create({ name, description: '' });
    });
    after(async () => {
      await list.close();
    });

    it('answers every topic in ascending id order with X-Total-Count', async () => {
      const res = await list.api('/api/topics/');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('4');
      const topics = await bodyOf(res);
      expect(topics.map((topic: { name: string }) => topic.name)).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(topics[0]).to.have.all.keys(...TOPIC_KEYS);
    });

    it('pages with skip and limit', async () => {
      const res = await list.api('/api/topics/?skip=1&limit=2');
      expect(res.headers.get('x-total-count')).to.equal('4');
      expect((await bodyOf(res)).map((topic: { name: string }) => topic.name)).to.deep.equal(['b', 'c']);
    });

    it('refuses out-of-range paging with query locations', async () => {
      await expectLocs(await list.api('/api/topics/?limit=0'), ['query', 'limit']);
      await expectLocs(await list.api('/api/topics/?limit=1001'), ['query', 'limit']);
      await expectLocs(await list.api('/api/topics/?skip=-1'), ['query', 'skip']);
      await expectLocs(await list.api('/api/topics/?limit=1.5'), ['query', 'limit']);
    });
  });
});
