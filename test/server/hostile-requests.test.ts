// What the robustness suite (npm run test:robust) found, kept here as regression tests.
import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { rawExchange, requestHead } from '../helpers/http.js';
import net from 'node:net';
import { filesUnder, storedFiles } from '../helpers/temp.js';
import { waitFor } from '../helpers/chat.js';
import { createLogger } from '../../src/server/logger.js';
import { attachmentHeader } from '../../src/server/attachment.js';

function parseResponse(raw: Buffer): { status: number; headers: string; body: string } {
  const text = raw.toString('utf8');
  const [head, ...rest] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: rest.join('\r\n\r\n') };
}

describe('hostile requests', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => server.close());

  describe('a multipart body cut short inside the file', () => {
    it('is refused with 400 as the first upload the server sees, and the server stays up', async () => {
      const body = '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello, cut sh';
      const raw = await rawExchange(server.port, Buffer.concat([
        requestHead('POST', '/api/documents/upload', { 'Content-Type': 'multipart/form-data; boundary=XX', 'Content-Length': Buffer.byteLength(body) }),
        Buffer.from(body),
      ]));
      const response = parseResponse(raw);
      expect(response.status).to.equal(400);
      expect(JSON.parse(response.body)).to.deep.equal({ detail: 'Malformed multipart body' });
      expect((await server.api('/health')).status).to.equal(200);
      expect(storedFiles(server.context.config.uploadDir)).to.deep.equal([]);
    });
  });

  describe('JSON that only looks harmless', () => {
    it('refuses a key given twice with 422 naming it', async () => {
      const res = await server.api('/api/agents/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name": "a", "name": "b", "description": "", "config": {}}',
      });
      expect(res.status).to.equal(422);
      expect(((await res.json()) as any).detail[0]).to.include({ type: 'duplicate_key' }).and.have.deep.property('loc', ['body', 'name']);
      expect(Number((await server.api('/api/agents/')).headers.get('x-total-count'))).to.equal(0);
    });

    it('refuses nesting deeper than 64 levels with 422, also in a chat context, and stores nothing', async () => {
      // Built as text: JSON.stringify itself runs out of stack on such values.
      const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
      const post = (route: string, body: string) => server.api(route, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const agent = await post('/api/agents/', `{"name": "deep", "description": "", "config": ${deep(3000)}}`);
      expect(agent.status).to.equal(422);
      expect(((await agent.json()) as any).detail[0].type).to.equal('too_deep');
      const created = (await (await server.api("/api/agents/", json("POST", { name: "ok", description: "", config: {} }))).json()) as { id: number };
      const chat = await post('/api/chat/', `{"message": "hi", "agent_id": ${created.id}, "context": ${deep(5000)}}`);
      expect(chat.status).to.equal(422);
      expect(Number((await server.api('/api/conversations/')).headers.get('x-total-count'))).to.equal(0);
    });

    it('refuses numbers too large to be numbers (1e999) in bodies and query strings with 422', async () => {
      const body = await server.api('/api/conversations/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"title": "t", "agent_id": 1e999}',
      });
      expect(body.status).to.equal(422);
      for (const query of ['limit=1e999', 'skip=-1e999', 'skip=1e999', 'limit=0x10']) {
        const res = await server.api(`/api/agents/?${query}`);
        expect(res.status, query).to.equal(422);
        expect(((await res.json()) as any).detail[0].loc[0], query).to.equal('query');
      }
      expect((await server.api('/api/documents/?agent_id=1e999')).status).to.equal(422);
    });
  });

  describe('requests the HTTP parser refuses', () => {
    it('answer with the JSON error shape: 431 for huge headers, 400 for a missing Host', async () => {
      const huge = parseResponse(await rawExchange(server.port, Buffer.from(`GET /api/agents/?${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`)));
      expect(huge.status).to.equal(431);
      expect(JSON.parse(huge.body)).to.have.property('detail');
      const hostless = parseResponse(await rawExchange(server.port, Buffer.from('GET /api/agents/ HTTP/1.1\r\n\r\n')));
      expect(hostless.status).to.equal(400);
      expect(hostless.headers).to.contain('application/json');
      expect(JSON.parse(hostless.body)).to.deep.equal({ detail: 'Missing Host header' });
    });
  });
});

describe('a client that leaves in the middle of an upload', () => {
  it('leaves nothing behind and is not logged as a server error', async () => {
    const lines: string[] = [];
    const server = await startTestServer({}, { logger: createLogger('info', (line) => lines.push(line)) });
    try {
      const head = requestHead('POST', '/api/documents/upload', { 'Content-Type': 'multipart/form-data; boundary=XX', 'Content-Length': 1_000_000 });
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const part = Buffer.concat([head, Buffer.from('--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'), Buffer.alloc(64 * 1024, 97)]);
      socket.write(part);
      // The upload is under way once its bytes reach the upload folder; the client leaves then.
      await waitFor(() => filesUnder(server.context.config.uploadDir).length > 0, 15_000, 'the upload to start');
      socket.destroy();
      await waitFor(() => filesUnder(server.context.config.uploadDir).length === 0, 15_000, 'the partial upload to be removed');
      expect(lines.filter((line) => line.includes(' ERROR '))).to.deep.equal([]);
      expect(filesUnder(server.context.config.uploadDir)).to.deep.equal([]);
      expect((await server.api('/health')).status).to.equal(200);
    } finally {
      await server.close();
    }
  });
});

describe('download names', () => {
  it('never put a path in the ASCII fallback, even from fullwidth slashes', () => {
    const header = attachmentHeader('..／..／etc／passwd.txt');
    const fallback = /filename="([^"]*)"/.exec(header)?.[1] ?? '';
    expect(fallback).not.to.contain('/');
    expect(fallback).not.to.contain('\\');
    expect(header).to.contain("filename*=UTF-8''");
  });
});
