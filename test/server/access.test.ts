// Who may use the API: the Host header, CORS, cross-site writes and bearer tokens, through
// a real server on 127.0.0.1.
import fs from 'node:fs';
import { expect } from 'chai';
import { createContext } from '../../src/core/context.js';
import { startTestServer, json, type TestServer } from '../helpers/server.js';
import { multipartBody, sendRequest, type StreamedResponse } from '../helpers/http.js';
import { bodyOf, expectError } from '../helpers/api.js';
import { filesUnder, tempDir } from '../helpers/temp.js';
import type { AppOptions } from '../../src/server/app.js';

const EVIL = 'http://evil.example';

function expectRefused(res: StreamedResponse, status: number, detail: string): void {
  expect(res.status, res.text).to.equal(status);
  expect(res.json).to.deep.equal({ detail });
}

describe('access control', () => {
  const servers: TestServer[] = [];
  async function serverWith(options: AppOptions = {}): Promise<TestServer> {
    const server = await startTestServer({}, options);
    servers.push(server);
    return server;
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  describe('the Host header is checked (DNS rebinding)', () => {
    it('refuses a request whose Host is another name, /health included', async () => {
      const server = await serverWith();
      for (const path of ['/api/agents/', '/health', '/']) {
        expectRefused(await sendRequest(server.url, { path, headers: { host: 'evil.example' } }), 403, 'Host not allowed');
      }
      expectRefused(await sendRequest(server.url, { path: '/api/agents/', headers: { host: `evil.example:${server.port}` } }), 403, 'Host not allowed');
    });

    it('accepts localhost, 127.0.0.1 and [::1] on any port', async () => {
      const server = await serverWith();
      for (const host of ['localhost', `localhost:${server.port}`, '127.0.0.1:1', '[::1]:8080', 'LOCALHOST']) {
        expect((await sendRequest(server.url, { path: '/api/agents/', headers: { host } })).status, host).to.equal(200);
      }
    });

    it('accepts the names given with --allowed-host, and any name with *', async () => {
      const named = await serverWith({ access: { allowedHosts: ['dana.lan', 'Files.Example.com'] } });
      expect((await sendRequest(named.url, { path: '/api/agents/', headers: { host: 'dana.lan:8080' } })).status).to.equal(200);
      expect((await sendRequest(named.url, { path: '/api/agents/', headers: { host: 'files.example.com' } })).status).to.equal(200);
      expect((await sendRequest(named.url, { path: '/api/agents/', headers: { host: 'other.lan' } })).status).to.equal(403);
      const any = await serverWith({ access: { allowedHosts: ['*'] } });
      expect((await sendRequest(any.url, { path: '/api/agents/', headers: { host: 'whatever.example' } })).status).to.equal(200);
    });

    it('accepts the --host address, but not a wildcard one', async () => {
      const lan = await serverWith({ access: { listenHost: '192.168.1.5' } });
      expect((await sendRequest(lan.url, { path: '/api/agents/', headers: { host: '192.168.1.5:8080' } })).status).to.equal(200);
      const wildcard = await serverWith({ access: { listenHost: '0.0.0.0' } });
      expect((await sendRequest(wildcard.url, { path: '/api/agents/', headers: { host: '0.0.0.0:8080' } })).status).to.equal(403);
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) => ({
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'content-type, authorization' },
    });

    it('sends no CORS headers by default, on requests and preflights', async () => {
      const server = await serverWith();
      const res = await server.api('/api/agents/', { headers: { origin: 'http://example.test' } });
      expect(res.status).to.equal(200);
      expect([...res.headers.keys()].filter((name) => name.startsWith('access-control-'))).to.deep.equal([]);
      const options = await server.api('/api/agents/1', preflight('http://example.test'));
      expect(options.headers.get('access-control-allow-origin')).to.equal(null);
    });

    it('reflects exactly the origins given with --cors-origin, and exposes X-Total-Count and Location', async () => {
      const server = await serverWith({ access: { corsOrigins: ['http://allowed.test', 'http://second.test:3000'] } });
      for (const origin of ['http://allowed.test', 'http://second.test:3000']) {
        const res = await server.api('/api/agents/', { headers: { origin } });
        expect(res.headers.get('access-control-allow-origin')).to.equal(origin);
        expect(res.headers.get('access-control-allow-credentials')).to.equal(null);
        const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
        expect(exposed).to.include.members(['x-total-count', 'location']);
      }
      const other = await server.api('/api/agents/', { headers: { origin: 'http://evil.test' } });
      expect(other.headers.get('access-control-allow-origin')).to.equal(null);
    });

    it('answers a preflight from an allowed origin with 204, the methods and the requested headers (Authorization too)', async () => {
      const server = await serverWith({ access: { corsOrigins: ['http://allowed.test'] } });
      const res = await server.api('/api/agents/1', preflight('http://allowed.test'));
      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal('http://allowed.test');
      expect((res.headers.get('access-control-allow-methods') ?? '').split(/\s*,\s*/)).to.include.members(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
      expect((res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/)).to.include.members(['content-type', 'authorization']);
      const refused = await server.api('/api/agents/1', preflight('http://evil.test'));
      expect(refused.headers.get('access-control-allow-origin')).to.equal(null);
    });

    it('allows any origin only when * is named, without credentials, and never the origin null', async () => {
      const server = await serverWith({ access: { corsOrigins: ['*'] } });
      const res = await server.api('/api/agents/', { headers: { origin: 'http://anywhere.test' } });
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      expect(res.headers.get('access-control-allow-credentials')).to.equal(null);
      const sandboxed = await sendRequest(server.url, { path: '/api/agents/', headers: { origin: 'null' } });
      expect(sandboxed.headers['access-control-allow-origin']).to.equal(undefined);
    });
  });

  describe('cross-site writes are refused', () => {
    it('refuses an HTML form upload from another site before reading it, storing nothing', async () => {
      const server = await serverWith();
      const form = multipartBody([{ name: 'file', filename: 'planted.txt', contentType: 'text/plain', data: 'planted by a web page' }]);
      const res = await sendRequest(server.url, {
        method: 'POST', path: '/api/documents/upload', body: form.body,
        headers: { 'content-type': form.contentType, origin: EVIL, host: `127.0.0.1:${server.port}` },
      });
      expectRefused(res, 403, 'Cross-site request refused');
      expect(await bodyOf(await server.api('/api/documents/'))).to.deep.equal([]);
      expect(filesUnder(server.context.config.uploadDir)).to.deep.equal([]);
    });

    it('refuses an urlencoded form post and a cross-site DELETE, changing nothing', async () => {
      const server = await serverWith();
      const agent = await bodyOf(await server.api('/api/agents/', json('POST', { name: 'Kept', description: '', config: {} })));
      const form = await sendRequest(server.url, {
        method: 'POST', path: '/api/agents/', body: 'name=x&description=y',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL },
      });
      expectRefused(form, 403, 'Cross-site request refused');
      const del = await sendRequest(server.url, { method: 'DELETE', path: `/api/agents/${agent.id}`, headers: { origin: EVIL } });
      expectRefused(del, 403, 'Cross-site request refused');
      expect((await bodyOf(await server.api('/api/agents/'))).map((a: { name: string }) => a.name)).to.deep.equal(['Kept']);
    });

    it('refuses writes from the origin null and from a browser that says cross-site without an Origin', async () => {
      const server = await serverWith({ access: { corsOrigins: ['*'] } });
      const body = JSON.stringify({ name: 'x', description: '', config: {} });
      const headers = { 'content-type': 'application/json' };
      expectRefused(await sendRequest(server.url, { method: 'POST', path: '/api/topics/', body, headers: { ...headers, origin: 'null' } }), 403, 'Cross-site request refused');
      expectRefused(await sendRequest(server.url, { method: 'POST', path: '/api/topics/', body, headers: { ...headers, 'sec-fetch-site': 'cross-site' } }), 403, 'Cross-site request refused');
      expect(await bodyOf(await server.api('/api/topics/'))).to.deep.equal([]);
    });

    it('accepts writes from the server\'s own origin, from an allowed origin, and without an Origin', async () => {
      const server = await serverWith({ access: { corsOrigins: ['http://allowed.test'] } });
      const post = (name: string, headers: Record<string, string>) => sendRequest(server.url, {
        method: 'POST', path: '/api/topics/', body: JSON.stringify({ name, description: '' }),
        headers: { 'content-type': 'application/json', ...headers },
      });
      expect((await post('own', { origin: `http://127.0.0.1:${server.port}`, 'sec-fetch-site': 'same-origin' })).status).to.equal(201);
      expect((await post('own-localhost', { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` })).status).to.equal(201);
      expect((await post('allowed', { origin: 'http://allowed.test' })).status).to.equal(201);
      expect((await post('curl', {})).status).to.equal(201);
      expect((await post('other-port', { origin: 'http://127.0.0.1:1' })).status).to.equal(403);
    });
  });

  describe('bearer tokens', () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    it('when required, refuses every route but /health without a token: 401 with WWW-Authenticate: Bearer', async () => {
      const server = await serverWith({ access: { requireToken: true } });
      for (const path of ['/api/agents/', '/agents/', '/openapi.json', '/docs', '/', '/static/app.js', '/api/nowhere']) {
        const res = await server.api(path);
        await expectError(res, 401, 'Not authenticated');
        expect(res.headers.get('www-authenticate'), path).to.equal('Bearer');
      }
      await expectError(await server.api('/api/agents/', json('POST', { name: 'x', description: '', config: {} })), 401, 'Not authenticated');
      for (const path of ['/health', '/api/health']) expect((await server.api(path)).status, path).to.equal(200);
    });

    it('when required, serves a valid token and refuses an unknown or malformed one', async () => {
      const server = await serverWith({ access: { requireToken: true } });
      const { token } = await server.context.services.tokens.create({ name: 'laptop' });
      expect((await server.api('/api/agents/', { headers: bearer(token) })).status).to.equal(200);
      expect((await server.api('/openapi.json', { headers: bearer(token) })).status).to.equal(200);
      const created = await server.api('/api/agents/', { ...json('POST', { name: 'x', description: '', config: {} }), headers: { 'content-type': 'application/json', ...bearer(token) } });
      expect(created.status).to.equal(201);
      for (const header of [`Bearer ${token}x`, 'Bearer dana_unknown', `Basic ${token}`, 'Bearer']) {
        await expectError(await server.api('/api/agents/', { headers: { authorization: header } }), 401, 'Not authenticated');
      }
    });

    it('gives a read-only token reads, and 403 on writes and on chat', async () => {
      const server = await serverWith({ access: { requireToken: true } });
      const { token } = await server.context.services.tokens.create({ name: 'dashboard', readOnly: true });
      const agent = await server.context.services.agents.create({ name: 'Ada', description: '', config: {} });
      expect((await server.api('/api/agents/', { headers: bearer(token) })).status).to.equal(200);
      const write = (method: string, path: string, body: unknown) =>
        server.api(path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...bearer(token) } });
      await expectError(await write('POST', '/api/topics/', { name: 't', description: '' }), 403, 'This token is read-only');
      await expectError(await write('PATCH', `/api/agents/${agent.id}`, { name: 'Eve' }), 403, 'This token is read-only');
      await expectError(await server.api(`/api/agents/${agent.id}`, { method: 'DELETE', headers: bearer(token) }), 403, 'This token is read-only');
      await expectError(await write('POST', '/api/chat/', { message: 'hi', agent_id: agent.id }), 403, 'This token is read-only');
      expect((await server.context.services.agents.get(agent.id)).name).to.equal('Ada');
      expect((await server.context.services.conversations.list()).total).to.equal(0);
    });

    it('honours a token revoked by another process at once', async () => {
      const server = await serverWith({ access: { requireToken: true } });
      const { token } = await server.context.services.tokens.create({ name: 'laptop' });
      expect((await server.api('/api/agents/', { headers: bearer(token) })).status).to.equal(200);
      const cli = await createContext(server.context.config);
      try {
        await cli.services.tokens.revoke('laptop');
      } finally {
        await cli.close();
      }
      await expectError(await server.api('/api/agents/', { headers: bearer(token) }), 401, 'Not authenticated');
    });

    it('records when a token was last used', async () => {
      const server = await serverWith({ access: { requireToken: true } });
      const { token } = await server.context.services.tokens.create({ name: 'laptop' });
      expect((await server.context.services.tokens.list())[0].last_used_at).to.equal(null);
      const before = Date.now();
      await server.api('/api/agents/', { headers: bearer(token) });
      const [listed] = await server.context.services.tokens.list();
      expect(Date.parse(listed.last_used_at as string)).to.be.within(before - 1000, Date.now() + 1000);
    });

    it('on loopback, tokens are optional, but one that is sent is checked', async () => {
      const server = await serverWith();
      expect((await server.api('/api/agents/')).status).to.equal(200);
      await expectError(await server.api('/api/agents/', { headers: bearer('dana_not-a-real-token-at-all-000000000') }), 401, 'Not authenticated');
      const { token } = await server.context.services.tokens.create({ name: 'ro', readOnly: true });
      await expectError(await server.api('/api/topics/', { ...json('POST', { name: 't', description: '' }), headers: { 'content-type': 'application/json', ...bearer(token) } }), 403, 'This token is read-only');
    });
  });

  describe('the OpenAPI document', () => {
    it('declares the bearer scheme, required by every route but health, with 401 and 403', async () => {
      const server = await serverWith();
      const doc = await bodyOf(await server.api('/openapi.json'));
      expect(doc.components.securitySchemes.bearer).to.include({ type: 'http', scheme: 'bearer' });
      const agents = doc.paths['/api/agents/'].get;
      expect(agents.security).to.deep.equal([{ bearer: [] }]);
      expect(agents.responses).to.include.keys('401', '403');
      const health = doc.paths['/api/health'].get;
      expect(health.security).to.deep.equal([]);
      expect(health.responses).to.not.have.any.keys('401', '403');
      expect(health.responses).to.include.keys('503');
    });
  });

  describe('/health checks the database', () => {
    it('answers 503 {"status": "unhealthy"} when the SQLite file is corrupted', async () => {
      const server = await startTestServer({ DANA_DATABASE_URL: `sqlite:///${tempDir()}/local.db` });
      servers.push(server);
      expect((await server.api('/health')).status).to.equal(200);
      const { filename } = server.context.config.database as { filename: string };
      const file = fs.openSync(filename, 'r+');
      fs.writeSync(file, Buffer.alloc(100, 0x5a), 0, 100, 0);
      fs.closeSync(file);
      for (const path of ['/health', '/api/health']) {
        const res = await server.api(path);
        expect(res.status, path).to.equal(503);
        const body = await bodyOf(res);
        expect(body.status).to.equal('unhealthy');
        expect(body.detail).to.be.a('string').and.not.equal('');
      }
    });
  });
});
