// The bounds of what the API accepts, alike on SQLite and PostgreSQL (this file runs in both
// passes): ids past 32 bits, NUL and unpaired surrogates, message content past 100,000
// characters, and the 1,000-message cap of a conversation's GET. Never a 500.
import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import {
  bodyOf, createAgent, createConversation, createMessage, createTopic, expectLocs, uploadDocument,
} from '../helpers/api.js';
import { multipartBody } from '../helpers/http.js';
import { isPostgres } from '../helpers/backend.js';

const TOO_BIG = '2147483648';
const LARGEST = '2147483647';

describe(`bounds on ${isPostgres ? 'PostgreSQL' : 'SQLite'}`, () => {
  let server: TestServer;
  let ids: { agent: number; topic: number; conversation: number; message: number; document: number };
  before(async () => {
    server = await startTestServer();
    const agent = await createAgent(server);
    const topic = await createTopic(server);
    const conversation = await createConversation(server);
    const message = await createMessage(server, conversation.id);
    const document = await uploadDocument(server);
    ids = { agent: agent.id, topic: topic.id, conversation: conversation.id, message: message.id, document: document.id };
  });
  after(async () => {
    await server.close();
  });

  const form = (fields: Record<string, string>) => {
    const { body, contentType } = multipartBody([
      ...Object.entries(fields).map(([name, data]) => ({ name, data })),
      { name: 'file', filename: 'notes.txt', data: 'hello' },
    ]);
    return server.api('/api/documents/upload', { method: 'POST', headers: { 'content-type': contentType }, body });
  };

  describe('ids past 2,147,483,647', () => {
    const pathRoutes = (): Array<[string, string, string]> => [
      ['GET', '/api/agents/{id}', 'id'],
      ['DELETE', '/api/agents/{id}', 'id'],
      ['GET', '/api/topics/{id}', 'id'],
      ['GET', '/api/documents/{id}', 'id'],
      ['GET', '/api/documents/{id}/download', 'id'],
      ['DELETE', '/api/documents/{id}', 'id'],
      ['GET', '/api/conversations/{id}', 'id'],
      ['GET', '/api/conversations/{id}/messages/', 'conversation_id'],
      ['GET', `/api/conversations/${ids.conversation}/messages/{id}`, 'id'],
    ];

    it('are a 422 naming the path id, and the largest id a 404, on every route', async () => {
      for (const [method, template, name] of pathRoutes()) {
        const tooBig = await server.api(template.replace('{id}', TOO_BIG), { method });
        await expectLocs(tooBig, ['path', name]);
        const largest = await server.api(template.replace('{id}', LARGEST), { method });
        expect(largest.status, `${method} ${template} ${LARGEST}`).to.equal(404);
      }
    });

    it('are a 422 naming the query parameter, and the largest id an empty list', async () => {
      for (const [path, name] of [['/api/documents/', 'agent_id'], ['/api/documents/', 'topic_id'], ['/api/conversations/', 'agent_id']]) {
        await expectLocs(await server.api(`${path}?${name}=${TOO_BIG}`), ['query', name]);
        const largest = await server.api(`${path}?${name}=${LARGEST}`);
        expect(largest.status, `${path}?${name}=${LARGEST}`).to.equal(200);
        expect(await bodyOf(largest)).to.deep.equal([]);
      }
    });

    it('are a 422 naming the body field, and the largest id a 422 saying it names no row', async () => {
      const bodies: Array<[string, string, string]> = [
        ['POST', '/api/conversations/', 'agent_id'],
        ['PATCH', `/api/conversations/${ids.conversation}`, 'agent_id'],
        ['PATCH', `/api/documents/${ids.document}`, 'agent_id'],
        ['PATCH', `/api/documents/${ids.document}`, 'topic_id'],
      ];
      for (const [method, path, field] of bodies) {
        const extra = method === 'POST' ? { title: 'bounded' } : {};
        await expectLocs(await server.api(path, json(method, { ...extra, [field]: Number(TOO_BIG) })), ['body', field]);
        const issues = await expectLocs(await server.api(path, json(method, { ...extra, [field]: Number(LARGEST) })), ['body', field]);
        expect(issues[0].msg, `${method} ${path} ${field}`).to.match(/not found|does not exist|no /i);
      }
    });

    it('are a 422 in a chat request, and the largest agent id a 404', async () => {
      await expectLocs(await server.api('/api/chat/', json('POST', { message: 'hi', agent_id: Number(TOO_BIG) })), ['body', 'agent_id']);
      const largest = await server.api('/api/chat/', json('POST', { message: 'hi', agent_id: Number(LARGEST) }));
      expect(largest.status).to.equal(404);
      expect(await largest.json()).to.deep.equal({ detail: `Agent ${LARGEST} not found` });
    });

    it('are a 422 naming the form field of an upload, the largest id too (no such row), with nothing stored', async () => {
      const before = (await bodyOf(await server.api('/api/documents/'))).length;
      for (const field of ['topic_id', 'agent_id']) {
        await expectLocs(await form({ [field]: TOO_BIG }), ['form', field]);
        await expectLocs(await form({ [field]: LARGEST }), ['form', field]);
        await expectLocs(await form({ [field]: '1\u0000' }), ['form', field]);
      }
      expect(await bodyOf(await server.api('/api/documents/'))).to.have.length(before);
    });
  });

  describe('text both backends cannot store alike', () => {
    const fields = (): Array<[string, string, string, Record<string, unknown>]> => [
      ['POST', '/api/agents/', 'name', { description: '', config: {} }],
      ['POST', '/api/agents/', 'description', { name: 'a', config: {} }],
      ['PATCH', `/api/agents/${ids.agent}`, 'name', {}],
      ['POST', '/api/topics/', 'name', { description: '' }],
      ['POST', '/api/topics/', 'description', { name: `t${Math.random()}` }],
      ['POST', '/api/conversations/', 'title', {}],
      ['PATCH', `/api/conversations/${ids.conversation}`, 'title', {}],
      ['POST', `/api/conversations/${ids.conversation}/messages/`, 'sender', { content: 'x' }],
      ['POST', `/api/conversations/${ids.conversation}/messages/`, 'content', { sender: 'user' }],
      ['PATCH', `/api/conversations/${ids.conversation}/messages/${ids.message}`, 'content', {}],
      ['PATCH', `/api/documents/${ids.document}`, 'original_filename', {}],
      ['POST', '/api/chat/', 'message', { agent_id: ids.agent }],
    ];

    it('a NUL character is a 422 naming the field', async () => {
      for (const [method, path, field, rest] of fields()) {
        const value = field === 'original_filename' ? 'a\u0000b.txt' : 'a\u0000b';
        const issues = await expectLocs(await server.api(path, json(method, { ...rest, [field]: value })), ['body', field]);
        expect(issues[0].type, `${method} ${path} ${field}`).to.equal('string_nul');
      }
    });

    it('an unpaired surrogate (high or low) is a 422 naming the field', async () => {
      for (const surrogate of ['\ud800', '\udfff']) {
        for (const [method, path, field, rest] of fields()) {
          const value = field === 'original_filename' ? `a${surrogate}.txt` : `a${surrogate}`;
          const issues = await expectLocs(await server.api(path, json(method, { ...rest, [field]: value })), ['body', field]);
          expect(issues[0].type, `${method} ${path} ${field}`).to.equal('string_unicode');
        }
      }
    });

    it('stores other hard text exactly as sent: control characters, pairs, astral and combining characters', async () => {
      const text = 'tab\there \u0001\u001b[2J\u007f\u0085 pair \ud83d\ude00 e\u0301 \u202e \ufeff \uffff end';
      const agent = await createAgent(server, { name: text, description: text });
      expect(await bodyOf(await server.api(`/api/agents/${agent.id}`))).to.include({ name: text, description: text });
      const message = await createMessage(server, ids.conversation, { sender: text.slice(0, 50), content: text });
      const stored = await bodyOf(await server.api(`/api/conversations/${ids.conversation}/messages/${message.id}`));
      expect(stored).to.include({ sender: text.slice(0, 50), content: text });
    });
  });

  describe('message content', () => {
    it('is accepted up to 100,000 characters and refused (422) at 100,001, on create and update', async () => {
      const max = 'x'.repeat(100_000);
      const message = await createMessage(server, ids.conversation, { content: max });
      expect(message.content).to.have.length(100_000);
      const path = `/api/conversations/${ids.conversation}/messages/`;
      await expectLocs(await server.api(path, json('POST', { sender: 'user', content: `${max}x` })), ['body', 'content']);
      await expectLocs(await server.api(`${path}${message.id}`, json('PATCH', { content: `${max}x` })), ['body', 'content']);
    });
  });

  describe("a conversation's GET", () => {
    it('carries its 1,000 most recent messages in ascending order; the messages route pages through all', async () => {
      const conversation = await createConversation(server, { title: 'long' });
      const total = 1_005;
      // Rows in bulk: 1,005 API round trips would make this test slow on a loaded machine.
      const now = new Date().toISOString();
      const rows = Array.from({ length: total }, (_, i) => ({ conversation_id: conversation.id, sender: 'user', content: `message ${i}`, created_at: now, updated_at: now }));
      for (let i = 0; i < rows.length; i += 200) await server.context.knex('messages').insert(rows.slice(i, i + 200));
      const shown = (await bodyOf(await server.api(`/api/conversations/${conversation.id}`))).messages;
      expect(shown).to.have.length(1_000);
      expect(shown[0].content).to.equal('message 5');
      expect(shown.at(-1).content).to.equal(`message ${total - 1}`);
      const shownIds = shown.map((message: { id: number }) => message.id);
      expect(shownIds).to.deep.equal([...shownIds].sort((a, b) => a - b));

      const paged: string[] = [];
      for (let skip = 0; ; skip += 1000) {
        const res = await server.api(`/api/conversations/${conversation.id}/messages/?skip=${skip}&limit=1000`);
        expect(res.headers.get('x-total-count')).to.equal(String(total));
        const page = await bodyOf(res);
        paged.push(...page.map((message: { content: string }) => message.content));
        if (page.length < 1000) break;
      }
      expect(paged).to.have.length(total);
      expect(paged[0]).to.equal('message 0');
    });
  });
});
