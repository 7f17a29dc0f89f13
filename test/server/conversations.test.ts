import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import {
  bodyOf, ISO_UTC, createAgent, createConversation, createMessage, expectCreated, expectError, expectLocs, isLater,
} from '../helpers/api.js';

const CONVERSATION_KEYS = ['id', 'title', 'agent_id', 'created_at', 'updated_at'];

describe('REST conversations', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  const total = async (path = '/api/conversations/') => Number((await server.api(path)).headers.get('x-total-count'));

  describe('creating a conversation', () => {
    it('answers 201 with exactly the Conversation keys and a Location that answers 200', async () => {
      const agent = await createAgent(server);
      const res = await server.api('/api/conversations/', json('POST', { title: 'Planning', agent_id: agent.id }));
      const conversation = await expectCreated(server, res);
      expect(conversation).to.have.all.keys(...CONVERSATION_KEYS);
      expect(res.headers.get('location')).to.equal(`/api/conversations/${conversation.id}`);
      expect(conversation).to.include({ title: 'Planning', agent_id: agent.id });
      expect(conversation.created_at).to.match(ISO_UTC);
      expect(conversation.updated_at).to.equal(conversation.created_at);
    });

    it('leaves agent_id null when it is not given or given as null', async () => {
      expect((await createConversation(server)).agent_id).to.equal(null);
      expect((await createConversation(server, { agent_id: null })).agent_id).to.equal(null);
    });

    it('answers 422 naming agent_id for an agent that does not exist, and creates nothing', async () => {
      const before = await total();
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: 'x', agent_id: 99999 })), ['body', 'agent_id']);
      expect(await total()).to.equal(before);
    });

    it('accepts a 200-character title and refuses an empty or 201-character one', async () => {
      expect((await createConversation(server, { title: 't'.repeat(200) })).title).to.have.length(200);
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: '' })), ['body', 'title']);
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: 't'.repeat(201) })), ['body', 'title']);
    });

    it('refuses a missing title, wrong types and unknown fields', async () => {
      await expectLocs(await server.api('/api/conversations/', json('POST', {})), ['body', 'title']);
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: 7 })), ['body', 'title']);
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: 'x', agent_id: '1' })), ['body', 'agent_id']);
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: 'x', agent_id: 0 })), ['body', 'agent_id']);
      await expectLocs(await server.api('/api/conversations/', json('POST', { title: 'x', topic: 1 })), ['body', 'topic']);
    });
  });

  describe('reading a conversation', () => {
    it('answers the conversation with its messages in ascending id order', async () => {
      const conversation = await createConversation(server);
      const first = await createMessage(server, conversation.id, { sender: 'user', content: 'one' });
      const second = await createMessage(server, conversation.id, { sender: 'agent', content: 'two' });
      const res = await server.api(`/api/conversations/${conversation.id}`);
      expect(res.status).to.equal(200);
      const body = await bodyOf(res);
      expect(body).to.have.all.keys(...CONVERSATION_KEYS, 'messages');
      expect(body.messages).to.deep.equal([first, second]);
    });

    it('answers an empty messages array for a conversation without messages', async () => {
      const conversation = await createConversation(server);
      expect((await bodyOf(await server.api(`/api/conversations/${conversation.id}`))).messages).to.deep.equal([]);
    });

    it('answers 404 "Conversation not found" on every route of an unknown id', async () => {
      await expectError(await server.api('/api/conversations/99999'), 404, 'Conversation not found');
      await expectError(await server.api('/api/conversations/99999', json('PUT', { title: 'x' })), 404, 'Conversation not found');
      await expectError(await server.api('/api/conversations/99999', json('PATCH', { title: 'x' })), 404, 'Conversation not found');
      await expectError(await server.api('/api/conversations/99999', { method: 'DELETE' }), 404, 'Conversation not found');
    });
  });

  describe('updating a conversation', () => {
    for (const method of ['PUT', 'PATCH']) {
      it(`${method} changes only the fields given and advances updated_at`, async () => {
        const agent = await createAgent(server);
        const conversation = await createConversation(server, { title: 'Old', agent_id: agent.id });
        const res = await server.api(`/api/conversations/${conversation.id}`, json(method, { title: 'New' }));
        expect(res.status).to.equal(200);
        const updated = await bodyOf(res);
        expect(updated).to.have.all.keys(...CONVERSATION_KEYS);
        expect(updated).to.include({ id: conversation.id, title: 'New', agent_id: agent.id, created_at: conversation.created_at });
        expect(isLater(updated.updated_at, conversation.updated_at)).to.equal(true);
      });
    }

    it('attaches an agent and detaches it with null', async () => {
      const agent = await createAgent(server);
      const conversation = await createConversation(server, { title: 'Keep title' });
      const attached = await bodyOf(await server.api(`/api/conversations/${conversation.id}`, json('PATCH', { agent_id: agent.id })));
      expect(attached).to.include({ agent_id: agent.id, title: 'Keep title' });
      const detached = await bodyOf(await server.api(`/api/conversations/${conversation.id}`, json('PATCH', { agent_id: null })));
      expect(detached).to.include({ agent_id: null, title: 'Keep title' });
    });

    it('answers 422 naming agent_id for an agent that does not exist, and changes nothing', async () => {
      const conversation = await createConversation(server);
      await expectLocs(await server.api(`/api/conversations/${conversation.id}`, json('PUT', { agent_id: 99999 })), ['body', 'agent_id']);
      expect(await bodyOf(await server.api(`/api/conversations/${conversation.id}`))).to.deep.include(conversation);
    });

    it('refuses an empty body {}, wrong types and unknown fields', async () => {
      const conversation = await createConversation(server);
      await expectLocs(await server.api(`/api/conversations/${conversation.id}`, json('PUT', {})), ['body']);
      await expectLocs(await server.api(`/api/conversations/${conversation.id}`, json('PATCH', { title: 7 })), ['body', 'title']);
      await expectLocs(await server.api(`/api/conversations/${conversation.id}`, json('PATCH', { title: '' })), ['body', 'title']);
      await expectLocs(await server.api(`/api/conversations/${conversation.id}`, json('PATCH', { messages: [] })), ['body', 'messages']);
    });
  });

  describe('deleting a conversation', () => {
    it('answers {"message": "Conversation deleted successfully"} and deletes its messages too', async () => {
      const conversation = await createConversation(server);
      await createMessage(server, conversation.id);
      await createMessage(server, conversation.id);
      const res = await server.api(`/api/conversations/${conversation.id}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal({ message: 'Conversation deleted successfully' });
      await expectError(await server.api(`/api/conversations/${conversation.id}`), 404, 'Conversation not found');
      await expectError(await server.api(`/api/conversations/${conversation.id}/messages/`), 404, 'Conversation not found');
      const rows = await server.context.knex('messages').where('conversation_id', conversation.id);
      expect(rows).to.deep.equal([]);
    });

    it('keeps the agent', async () => {
      const agent = await createAgent(server);
      const conversation = await createConversation(server, { agent_id: agent.id });
      await server.api(`/api/conversations/${conversation.id}`, { method: 'DELETE' });
      expect((await server.api(`/api/agents/${agent.id}`)).status).to.equal(200);
    });
  });

  describe('listing conversations', () => {
    let list: TestServer;
    let agents: Array<{ id: number }>;
    before(async () => {
      list = await startTestServer();
      agents = [await createAgent(list), await createAgent(list)];
      for (const [title, agent] of [['a', 0], ['b', 1], ['c', 0], ['d', -1], ['e', 0]] as const) {
        await createConversation(list, { title, agent_id: agent < 0 ? null : agents[agent].id });
      }
    });
    after(async () => {
      await list.close();
    });

    it('answers every conversation in ascending id order with X-Total-Count', async () => {
      const res = await list.api('/api/conversations/');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('5');
      const conversations = await bodyOf(res);
      expect(conversations.map((c: { title: string }) => c.title)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
      expect(conversations[0]).to.have.all.keys(...CONVERSATION_KEYS);
    });

    it('filters by agent_id, the total counting only matches', async () => {
      const res = await list.api(`/api/conversations/?agent_id=${agents[0].id}`);
      expect(res.headers.get('x-total-count')).to.equal('3');
      expect((await bodyOf(res)).map((c: { title: string }) => c.title)).to.deep.equal(['a', 'c', 'e']);
    });

    it('pages the filtered list', async () => {
      const res = await list.api(`/api/conversations/?agent_id=${agents[0].id}&skip=1&limit=1`);
      expect(res.headers.get('x-total-count')).to.equal('3');
      expect((await bodyOf(res)).map((c: { title: string }) => c.title)).to.deep.equal(['c']);
    });

    it('answers an empty list for an agent without conversations', async () => {
      const res = await list.api('/api/conversations/?agent_id=99999');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('0');
      expect(await bodyOf(res)).to.deep.equal([]);
    });

    it('refuses a non-integer agent_id and out-of-range paging with query locations', async () => {
      await expectLocs(await list.api('/api/conversations/?agent_id=abc'), ['query', 'agent_id']);
      await expectLocs(await list.api('/api/conversations/?agent_id=0'), ['query', 'agent_id']);
      await expectLocs(await list.api('/api/conversations/?limit=1001'), ['query', 'limit']);
      await expectLocs(await list.api('/api/conversations/?skip=-1'), ['query', 'skip']);
    });
  });
});
