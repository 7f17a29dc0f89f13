import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import {
  bodyOf, ISO_UTC, createConversation, createMessage, expectCreated, expectError, expectLocs, isLater,
} from '../helpers/api.js';

const MESSAGE_KEYS = ['id', 'conversation_id', 'sender', 'content', 'sources', 'created_at', 'updated_at'];

describe('REST messages', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  const messagesOf = (conversationId: number) => `/api/conversations/${conversationId}/messages/`;

  describe('adding a message', () => {
    it('answers 201 with exactly the Message keys and a Location that answers 200', async () => {
      const conversation = await createConversation(server);
      const res = await server.api(messagesOf(conversation.id), json('POST', { sender: 'user', content: 'Hello there' }));
      const message = await expectCreated(server, res);
      expect(message).to.have.all.keys(...MESSAGE_KEYS);
      expect(res.headers.get('location')).to.equal(`/api/conversations/${conversation.id}/messages/${message.id}`);
      expect(message).to.include({ conversation_id: conversation.id, sender: 'user', content: 'Hello there' });
      expect(message.created_at).to.match(ISO_UTC);
      expect(message.updated_at).to.equal(message.created_at);
    });

    it('bumps the conversation\'s updated_at', async () => {
      const conversation = await createConversation(server);
      await createMessage(server, conversation.id);
      const bumped = await bodyOf(await server.api(`/api/conversations/${conversation.id}`));
      expect(isLater(bumped.updated_at, conversation.updated_at), `${bumped.updated_at} > ${conversation.updated_at}`).to.equal(true);
      expect(bumped.created_at).to.equal(conversation.created_at);
    });

    it('keeps content exactly, empty content included', async () => {
      const conversation = await createConversation(server);
      const content = '  line one\nline two ✓ \u{1F600}\t';
      expect((await createMessage(server, conversation.id, { content })).content).to.equal(content);
      expect((await createMessage(server, conversation.id, { content: '' })).content).to.equal('');
    });

    it('accepts any sender of 1 to 50 characters and refuses an empty or 51-character one', async () => {
      const conversation = await createConversation(server);
      expect((await createMessage(server, conversation.id, { sender: 's'.repeat(50) })).sender).to.have.length(50);
      expect((await createMessage(server, conversation.id, { sender: 'system' })).sender).to.equal('system');
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { sender: '', content: 'x' })), ['body', 'sender']);
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { sender: 's'.repeat(51), content: 'x' })), ['body', 'sender']);
    });

    it('refuses missing fields, wrong types and unknown fields, storing nothing', async () => {
      const conversation = await createConversation(server);
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { content: 'x' })), ['body', 'sender']);
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { sender: 'user' })), ['body', 'content']);
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { sender: 'user', content: 123 })), ['body', 'content']);
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { sender: 1, content: 'x' })), ['body', 'sender']);
      await expectLocs(await server.api(messagesOf(conversation.id), json('POST', { sender: 'user', content: 'x', conversation_id: 1 })), ['body', 'conversation_id']);
      expect((await server.api(messagesOf(conversation.id))).headers.get('x-total-count')).to.equal('0');
    });
  });

  describe('reading messages', () => {
    it('lists only the conversation\'s messages in ascending id order with X-Total-Count', async () => {
      const conversation = await createConversation(server);
      const other = await createConversation(server);
      const first = await createMessage(server, conversation.id, { content: '1' });
      await createMessage(server, other.id, { content: 'elsewhere' });
      const second = await createMessage(server, conversation.id, { content: '2' });
      const res = await server.api(messagesOf(conversation.id));
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('2');
      expect(await bodyOf(res)).to.deep.equal([first, second]);
    });

    it('pages with skip and limit', async () => {
      const conversation = await createConversation(server);
      for (const content of ['a', 'b', 'c']) await createMessage(server, conversation.id, { content });
      const res = await server.api(`${messagesOf(conversation.id)}?skip=1&limit=1`);
      expect(res.headers.get('x-total-count')).to.equal('3');
      expect((await bodyOf(res)).map((m: { content: string }) => m.content)).to.deep.equal(['b']);
      await expectLocs(await server.api(`${messagesOf(conversation.id)}?limit=0`), ['query', 'limit']);
    });

    it('answers one message by id', async () => {
      const conversation = await createConversation(server);
      const message = await createMessage(server, conversation.id);
      const res = await server.api(`${messagesOf(conversation.id)}${message.id}`);
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal(message);
    });
  });

  describe('updating a message', () => {
    for (const method of ['PUT', 'PATCH']) {
      it(`${method} changes only the fields given and advances updated_at`, async () => {
        const conversation = await createConversation(server);
        const message = await createMessage(server, conversation.id, { sender: 'user', content: 'before' });
        const res = await server.api(`${messagesOf(conversation.id)}${message.id}`, json(method, { content: 'after' }));
        expect(res.status).to.equal(200);
        const updated = await bodyOf(res);
        expect(updated).to.have.all.keys(...MESSAGE_KEYS);
        expect(updated).to.include({ id: message.id, conversation_id: conversation.id, sender: 'user', content: 'after', created_at: message.created_at });
        expect(isLater(updated.updated_at, message.updated_at)).to.equal(true);
      });
    }

    it('refuses an empty body {}, wrong types and unknown fields', async () => {
      const conversation = await createConversation(server);
      const message = await createMessage(server, conversation.id);
      const url = `${messagesOf(conversation.id)}${message.id}`;
      await expectLocs(await server.api(url, json('PUT', {})), ['body']);
      await expectLocs(await server.api(url, json('PATCH', {})), ['body']);
      await expectLocs(await server.api(url, json('PATCH', { content: 123 })), ['body', 'content']);
      await expectLocs(await server.api(url, json('PATCH', { sender: '' })), ['body', 'sender']);
      await expectLocs(await server.api(url, json('PATCH', { conversation_id: conversation.id })), ['body', 'conversation_id']);
      expect(await bodyOf(await server.api(url))).to.deep.equal(message);
    });
  });

  describe('deleting a message', () => {
    it('answers {"message": "Message deleted successfully"} and the message is gone', async () => {
      const conversation = await createConversation(server);
      const message = await createMessage(server, conversation.id);
      const kept = await createMessage(server, conversation.id);
      const res = await server.api(`${messagesOf(conversation.id)}${message.id}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal({ message: 'Message deleted successfully' });
      await expectError(await server.api(`${messagesOf(conversation.id)}${message.id}`), 404, 'Message not found');
      expect(await bodyOf(await server.api(messagesOf(conversation.id)))).to.deep.equal([kept]);
    });
  });

  describe('messages are reached only through their conversation', () => {
    it('answers 404 "Message not found" for a message of another conversation on every route', async () => {
      const owner = await createConversation(server);
      const stranger = await createConversation(server);
      const message = await createMessage(server, owner.id);
      const url = `${messagesOf(stranger.id)}${message.id}`;
      await expectError(await server.api(url), 404, 'Message not found');
      await expectError(await server.api(url, json('PUT', { content: 'hijack' })), 404, 'Message not found');
      await expectError(await server.api(url, json('PATCH', { content: 'hijack' })), 404, 'Message not found');
      await expectError(await server.api(url, { method: 'DELETE' }), 404, 'Message not found');
      expect(await bodyOf(await server.api(`${messagesOf(owner.id)}${message.id}`))).to.deep.equal(message);
    });

    it('answers 404 "Message not found" for an unknown message id', async () => {
      const conversation = await createConversation(server);
      await expectError(await server.api(`${messagesOf(conversation.id)}99999`), 404, 'Message not found');
      await expectError(await server.api(`${messagesOf(conversation.id)}99999`, json('PATCH', { content: 'x' })), 404, 'Message not found');
      await expectError(await server.api(`${messagesOf(conversation.id)}99999`, { method: 'DELETE' }), 404, 'Message not found');
    });

    it('answers 404 "Conversation not found" on every message route of a missing conversation', async () => {
      const conversation = await createConversation(server);
      const message = await createMessage(server, conversation.id);
      const base = messagesOf(99999);
      await expectError(await server.api(base), 404, 'Conversation not found');
      await expectError(await server.api(base, json('POST', { sender: 'user', content: 'x' })), 404, 'Conversation not found');
      // A message id that exists elsewhere does not change the answer.
      for (const id of [message.id, 99999]) {
        await expectError(await server.api(`${base}${id}`), 404, 'Conversation not found');
        await expectError(await server.api(`${base}${id}`, json('PUT', { content: 'x' })), 404, 'Conversation not found');
        await expectError(await server.api(`${base}${id}`, json('PATCH', { content: 'x' })), 404, 'Conversation not found');
        await expectError(await server.api(`${base}${id}`, { method: 'DELETE' }), 404, 'Conversation not found');
      }
    });
  });
});
