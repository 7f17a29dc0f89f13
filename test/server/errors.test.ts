import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { chunksOf, streamRequest } from '../helpers/http.js';
import {
  bodyOf, createAgent, createConversation, createMessage, createTopic, expectError, expectLocs, uploadDocument,
} from '../helpers/api.js';

const MiB = 1024 * 1024;

/** What no error body may contain: stack frames, source paths, module names. */
function expectNoInternals(text: string): void {
  expect(text).not.to.match(/\n\s+at\s/);
  expect(text).not.to.match(/\bat [^\s]+ \(/);
  expect(text).not.to.match(/node_modules|\.ts:\d|\.js:\d|\/work\/|file:\/\//);
}

describe('REST errors', () => {
  let server: TestServer;
  let ids: { agent: number; topic: number; document: number; conversation: number; message: number };
  before(async () => {
    server = await startTestServer();
    const agent = await createAgent(server);
    const topic = await createTopic(server);
    const document = await uploadDocument(server);
    const conversation = await createConversation(server);
    const message = await createMessage(server, conversation.id);
    ids = { agent: agent.id, topic: topic.id, document: document.id, conversation: conversation.id, message: message.id };
  });
  after(async () => {
    await server.close();
  });

  /** Every JSON route that takes a body, with a valid body for it. */
  const bodyRoutes = () => [
    { method: 'POST', path: '/api/agents/', body: { name: 'n', description: '', config: {} } },
    { method: 'PUT', path: `/api/agents/${ids.agent}`, body: { name: 'n' } },
    { method: 'PATCH', path: `/api/agents/${ids.agent}`, body: { name: 'n' } },
    { method: 'POST', path: '/api/topics/', body: { name: `t${Math.random()}`, description: '' } },
    { method: 'PUT', path: `/api/topics/${ids.topic}`, body: { description: 'd' } },
    { method: 'PATCH', path: `/api/topics/${ids.topic}`, body: { description: 'd' } },
    { method: 'PUT', path: `/api/documents/${ids.document}`, body: { original_filename: 'a.txt' } },
    { method: 'PATCH', path: `/api/documents/${ids.document}`, body: { original_filename: 'a.txt' } },
    { method: 'POST', path: '/api/conversations/', body: { title: 't' } },
    { method: 'PUT', path: `/api/conversations/${ids.conversation}`, body: { title: 't' } },
    { method: 'PATCH', path: `/api/conversations/${ids.conversation}`, body: { title: 't' } },
    { method: 'POST', path: `/api/conversations/${ids.conversation}/messages/`, body: { sender: 'user', content: 'c' } },
    { method: 'PUT', path: `/api/conversations/${ids.conversation}/messages/${ids.message}`, body: { content: 'c' } },
    { method: 'PATCH', path: `/api/conversations/${ids.conversation}/messages/${ids.message}`, body: { content: 'c' } },
  ];

  describe('malformed JSON bodies', () => {
    it('answer 400 {"detail": "Malformed JSON body"} on every POST, PUT and PATCH', async () => {
      for (const route of bodyRoutes()) {
        for (const text of ['{', '{"name": "x",}', 'not json', "{'name': 'x'}"]) {
          const res = await server.api(route.path, { method: route.method, headers: { 'content-type': 'application/json' }, body: text });
          expect(res.status, `${route.method} ${route.path} ${text}`).to.equal(400);
          expect(await bodyOf(res)).to.deep.equal({ detail: 'Malformed JSON body' });
        }
      }
    });

    it('answer 400 for a body that is not valid UTF-8', async () => {
      const bytes = Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xff, 0xfe]), Buffer.from('", "description": "", "config": {}}')]);
      await expectError(await server.api('/api/agents/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes }), 400, 'Malformed JSON body');
    });
  });

  describe('JSON bodies that are not objects', () => {
    it('answer 422 with loc ["body"] for an array, a string, a number and null', async () => {
      for (const route of bodyRoutes()) {
        for (const body of [[], [route.body], 'text', 5, null]) {
          const res = await server.api(route.path, json(route.method, body));
          await expectLocs(res, ['body']);
        }
      }
    });

    it('answer 422 with loc ["body"] for an empty body', async () => {
      const res = await server.api('/api/agents/', { method: 'POST', headers: { 'content-type': 'application/json' } });
      await expectLocs(res, ['body']);
    });
  });

  describe('JSON bodies over 10 MiB', () => {
    const oversized = (bytes: number) => {
      const head = '{"name": "big", "description": "';
      const tail = '", "config": {}}';
      return Buffer.from(head + 'x'.repeat(bytes - head.length - tail.length) + tail);
    };

    it('answer 413 with a detail to a streamed body with a Content-Length, without resetting the connection', async () => {
      const body = oversized(10 * MiB + 1);
      const res = await streamRequest(server.url, {
        path: '/api/agents/',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        chunks: chunksOf(body, 256 * 1024),
      });
      expect(res.status, res.text).to.equal(413);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.json).to.have.all.keys('detail');
      expect(res.json.detail).to.be.a('string').that.matches(/too large/i);
      expect(res.bytesSent).to.equal(body.length);
    });

    it('answer 413 to a chunked body (no Content-Length) that passes 10 MiB', async () => {
      const body = oversized(12 * MiB);
      const res = await streamRequest(server.url, {
        path: '/api/agents/',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        chunks: chunksOf(body, 256 * 1024),
      });
      expect(res.status, res.text).to.equal(413);
      expect(res.json.detail).to.be.a('string').that.matches(/too large/i);
    });

    it('store nothing', async () => {
      const before = (await server.api('/api/agents/')).headers.get('x-total-count');
      const body = oversized(10 * MiB + 1);
      await streamRequest(server.url, { path: '/api/agents/', headers: { 'content-type': 'application/json' }, chunks: [body] });
      expect((await server.api('/api/agents/')).headers.get('x-total-count')).to.equal(before);
    });

    it('leave a body of exactly 10 MiB to the validator', async () => {
      const body = oversized(10 * MiB);
      const res = await server.api('/api/agents/', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).to.equal(201);
      const agent = await bodyOf(res);
      expect(agent.description).to.have.length(body.length - '{"name": "big", "description": "", "config": {}}'.length);
    });
  });

  describe('JSON routes sent another content type', () => {
    it('answer 415 with a detail on every POST, PUT and PATCH', async () => {
      for (const route of bodyRoutes()) {
        const res = await server.api(route.path, { method: route.method, headers: { 'content-type': 'text/plain' }, body: JSON.stringify(route.body) });
        expect(res.status, `${route.method} ${route.path}`).to.equal(415);
        const body = await bodyOf(res);
        expect(body).to.have.all.keys('detail');
        expect(body.detail).to.be.a('string').that.is.not.empty;
      }
    });

    it('answer 415 to form encodings and to a JSON body in another charset', async () => {
      const form = new FormData();
      form.append('name', 'x');
      expect((await server.api('/api/agents/', { method: 'POST', body: form })).status).to.equal(415);
      expect((await server.api('/api/agents/', { method: 'POST', body: new URLSearchParams({ name: 'x' }) })).status).to.equal(415);
      const latin1 = await server.api('/api/agents/', {
        method: 'POST', headers: { 'content-type': 'application/json; charset=latin1' }, body: '{"name":"x","description":"","config":{}}',
      });
      expect(latin1.status).to.equal(415);
    });

    it('accept application/json with charset=utf-8', async () => {
      const res = await server.api('/api/agents/', {
        method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"name":"utf8","description":"","config":{}}',
      });
      expect(res.status).to.equal(201);
    });
  });

  describe('unknown routes', () => {
    it('answer 404 {"detail": "Not Found"} under /api for every method', async () => {
      for (const [method, path] of [['GET', '/api/nothing'], ['GET', '/api/agents/1/extra'], ['POST', '/api/nothing'], ['DELETE', '/api/chat/x'], ['GET', '/api']]) {
        await expectError(await server.api(path, { method }), 404, 'Not Found');
      }
    });

    it('answer 404 JSON without the prefix too', async () => {
      await expectError(await server.api('/nothing-here'), 404, 'Not Found');
    });
  });

  describe('wrong methods', () => {
    it('answer 405 with an Allow header and a JSON detail', async () => {
      for (const [method, path, allowed] of [
        ['DELETE', '/api/agents/', ['GET', 'POST']],
        ['PATCH', '/api/topics/', ['GET', 'POST']],
        ['POST', `/api/agents/${1}`, ['GET', 'PUT', 'PATCH', 'DELETE']],
        ['DELETE', '/api/documents/1/download', ['GET']],
      ] as const) {
        const res = await server.api(path, { method });
        expect(res.status, `${method} ${path}`).to.equal(405);
        const allow = (res.headers.get('allow') ?? '').split(/,\s*/);
        expect(allow, `${method} ${path}`).to.include.members([...allowed]);
        expect(allow).not.to.include(method);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        const body = await bodyOf(res);
        expect(body).to.have.all.keys('detail');
        expect(body.detail).to.be.a('string').that.is.not.empty;
      }
    });
  });

  describe('path ids', () => {
    const BAD_IDS = ['abc', '0', '-1', '1.5', '1e3', '%20', '00', '1a'];

    /** Every route with an {id}, as [method, path template] with a valid body where one is needed. */
    const idRoutes = (): Array<[string, (id: string) => string, unknown?]> => [
      ['GET', (id) => `/api/agents/${id}`],
      ['PUT', (id) => `/api/agents/${id}`, { name: 'x' }],
      ['PATCH', (id) => `/api/agents/${id}`, { name: 'x' }],
      ['DELETE', (id) => `/api/agents/${id}`],
      ['GET', (id) => `/api/topics/${id}`],
      ['PUT', (id) => `/api/topics/${id}`, { name: 'x' }],
      ['PATCH', (id) => `/api/topics/${id}`, { name: 'x' }],
      ['DELETE', (id) => `/api/topics/${id}`],
      ['GET', (id) => `/api/documents/${id}`],
      ['GET', (id) => `/api/documents/${id}/download`],
      ['PUT', (id) => `/api/documents/${id}`, { original_filename: 'x.txt' }],
      ['PATCH', (id) => `/api/documents/${id}`, { original_filename: 'x.txt' }],
      ['DELETE', (id) => `/api/documents/${id}`],
      ['GET', (id) => `/api/conversations/${id}`],
      ['PUT', (id) => `/api/conversations/${id}`, { title: 'x' }],
      ['PATCH', (id) => `/api/conversations/${id}`, { title: 'x' }],
      ['DELETE', (id) => `/api/conversations/${id}`],
      ['GET', (id) => `/api/conversations/${ids.conversation}/messages/${id}`],
      ['PUT', (id) => `/api/conversations/${ids.conversation}/messages/${id}`, { content: 'x' }],
      ['PATCH', (id) => `/api/conversations/${ids.conversation}/messages/${id}`, { content: 'x' }],
      ['DELETE', (id) => `/api/conversations/${ids.conversation}/messages/${id}`],
    ];

    it('answer 422 with loc ["path", "id"] for ids that are not positive integers, on every route', async () => {
      for (const [method, path, body] of idRoutes()) {
        for (const id of BAD_IDS) {
          const init = body === undefined ? { method } : json(method, body);
          const res = await server.api(path(id), init);
          expect(res.status, `${method} ${path(id)}`).to.equal(422);
          const detail = (await bodyOf(res)).detail;
          expect(detail.map((issue: { loc: unknown }) => issue.loc), `${method} ${path(id)}`).to.deep.equal([['path', 'id']]);
        }
      }
    });

    it('answer 422 with loc ["path", "conversation_id"] for a bad conversation id on every message route', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/conversations/{c}/messages/'],
        ['POST', '/api/conversations/{c}/messages/', { sender: 'user', content: 'x' }],
        ['GET', `/api/conversations/{c}/messages/${ids.message}`],
        ['PUT', `/api/conversations/{c}/messages/${ids.message}`, { content: 'x' }],
        ['PATCH', `/api/conversations/{c}/messages/${ids.message}`, { content: 'x' }],
        ['DELETE', `/api/conversations/{c}/messages/${ids.message}`],
      ];
      for (const [method, template, body] of routes) {
        for (const id of BAD_IDS) {
          const path = template.replace('{c}', id);
          const res = await server.api(path, body === undefined ? { method } : json(method, body));
          await expectLocs(res, ['path', 'conversation_id']);
        }
      }
    });

    it('report both a bad conversation id and a bad message id', async () => {
      await expectLocs(await server.api('/api/conversations/x/messages/y'), ['path', 'conversation_id'], ['path', 'id']);
    });

    it('are checked before the body is read', async () => {
      const res = await server.api('/api/agents/abc', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{' });
      await expectLocs(res, ['path', 'id']);
    });
  });

  describe('paths', () => {
    it('answer with or without a trailing slash', async () => {
      for (const path of ['/api/agents', '/api/agents/', `/api/agents/${ids.agent}`, `/api/agents/${ids.agent}/`,
        `/api/conversations/${ids.conversation}/messages`, `/api/conversations/${ids.conversation}/messages/${ids.message}/`,
        `/api/documents/${ids.document}/download/`, '/api/health/']) {
        expect((await server.api(path)).status, path).to.equal(200);
      }
    });

    it('answer the same without the /api prefix', async () => {
      for (const [prefixed, bare] of [
        ['/api/agents/', '/agents/'], ['/api/topics/', '/topics'], ['/api/documents/', '/documents'],
        ['/api/conversations/', '/conversations/'], [`/api/agents/${ids.agent}`, `/agents/${ids.agent}/`],
        [`/api/conversations/${ids.conversation}/messages/`, `/conversations/${ids.conversation}/messages`],
      ]) {
        const [a, b] = await Promise.all([server.api(prefixed), server.api(bare)]);
        expect(b.status, bare).to.equal(200);
        expect(b.headers.get('x-total-count'), bare).to.equal(a.headers.get('x-total-count'));
        expect(await bodyOf(b), bare).to.deep.equal(await bodyOf(a));
      }
    });

    it('write through the unprefixed routes to the same data', async () => {
      const res = await server.api('/agents', json('POST', { name: 'bare', description: '', config: {} }));
      expect(res.status).to.equal(201);
      const agent = await bodyOf(res);
      expect((await server.api(`/api/agents/${agent.id}`)).status).to.equal(200);
      expect((await server.api(`/topics/${ids.topic}`, json('PATCH', { description: 'via bare path' }))).status).to.equal(200);
      expect((await bodyOf(await server.api(`/api/topics/${ids.topic}`))).description).to.equal('via bare path');
    });
  });

  describe('error bodies', () => {
    it('are JSON with a detail and no stack trace, whatever the error', async () => {
      const agentPath = `/api/agents/${ids.agent}`;
      const requests: Array<[string, RequestInit?]> = [
        ['/api/agents/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' }],
        ['/api/agents/', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }],
        ['/api/agents/', json('POST', [])],
        ['/api/agents/', json('POST', { name: 5 })],
        ['/api/agents/', { method: 'DELETE' }],
        ['/api/agents/99999'],
        ['/api/agents/abc'],
        ['/api/agents/?limit=0'],
        [agentPath, json('PATCH', {})],
        ['/api/nowhere'],
        ['/api/documents/upload', json('POST', {})],
        ['/api/conversations/99999/messages/1'],
      ];
      for (const [path, init] of requests) {
        const res = await server.api(path, init);
        const text = await res.text();
        expect(res.status, `${path} ${text}`).to.be.within(400, 599);
        expect(res.headers.get('content-type'), path).to.match(/^application\/json/);
        expect(JSON.parse(text), path).to.have.all.keys('detail');
        expectNoInternals(text);
      }
    });

    it('answer an unexpected failure with 500 {"detail": "Internal Server Error"}', async () => {
      const broken = await startTestServer();
      try {
        // Reads have a connection of their own: a write meets the destroyed pool.
        await broken.context.knex.destroy();
        const res = await broken.api('/api/agents/', json('POST', { name: 'a', description: '', config: {} }));
        const text = await res.text();
        expect(res.status, text).to.equal(500);
        expect(JSON.parse(text)).to.deep.equal({ detail: 'Internal Server Error' });
        expectNoInternals(text);
      } finally {
        await broken.close().catch(() => undefined);
      }
    });
  });
});
