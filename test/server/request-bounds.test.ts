// What a slow or silent client cannot do to the server: hold a request body open forever,
// or keep a streamed chat from showing that it has begun.
import http from 'node:http';
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { multipartBody, silentExchange, streamRequest } from '../helpers/http.js';
import { bodyOf } from '../helpers/api.js';
import { filesUnder } from '../helpers/temp.js';
import { waitFor } from '../helpers/chat.js';
import type { ChatEvent } from '../../src/core/chat/service.js';

const IDLE_MS = 300;

/** The status and JSON body of a raw HTTP/1.1 response. */
function parseResponse(bytes: Buffer): { status: number; json: unknown } {
  const text = bytes.toString('utf8');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status, json: body ? JSON.parse(body) : undefined };
}

describe('request bounds', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({}, { bodyIdleTimeoutMs: IDLE_MS });
  });
  afterEach(async () => {
    await server.close();
  });

  describe('a request body that falls silent gets 408', () => {
    it('a JSON body', async () => {
      const head = 'POST /api/topics/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
      const response = parseResponse(await silentExchange(server.port, Buffer.from(`${head}{"name": "half`)));
      expect(response.status).to.equal(408);
      expect(response.json).to.have.property('detail').that.is.a('string');
      expect(await bodyOf(await server.api('/api/topics/'))).to.deep.equal([]);
    });

    it('an upload, leaving nothing stored', async () => {
      const form = multipartBody([{ name: 'file', filename: 'notes.txt', contentType: 'text/plain', data: 'x'.repeat(1000) }]);
      const head = `POST /api/documents/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\n\r\n`;
      const partial = Buffer.concat([Buffer.from(head), form.body.subarray(0, 400)]);
      const response = parseResponse(await silentExchange(server.port, partial));
      expect(response.status).to.equal(408);
      expect(await bodyOf(await server.api('/api/documents/'))).to.deep.equal([]);
      await waitFor(() => filesUnder(server.context.config.uploadDir).length === 0, 5000, 'the partial upload to be removed');
    });

    it('not a body that keeps arriving, however slowly', async () => {
      const body = Buffer.from(JSON.stringify({ name: 'slow but steady', description: 'x'.repeat(40) }));
      const chunks = Array.from({ length: 6 }, (_, i) => body.subarray(Math.floor((i * body.length) / 6), Math.floor(((i + 1) * body.length) / 6)));
      const res = await streamRequest(server.url, {
        path: '/api/topics/', headers: { 'content-type': 'application/json', 'content-length': body.length }, chunks, pauseMs: IDLE_MS / 2,
      });
      expect(res.status, res.text).to.equal(201);
    });
  });

  it('a streamed chat sends its status and headers before the first token', async () => {
    const agent = await server.context.services.agents.create({ name: 'Ada', description: '', config: {} });
    let release!: () => void;
    const firstToken = new Promise<void>((resolve) => (release = resolve));
    // A model that takes its time over the first token.
    server.context.services.chat.stream = async function* (): AsyncGenerator<ChatEvent> {
      await firstToken;
      yield { type: 'delta', text: 'late' } as ChatEvent;
    };
    const request = http.request(`${server.url}/api/chat/`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, agent: false,
    });
    request.end(JSON.stringify({ message: 'hello', agent_id: agent.id }));
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => request.once('response', resolve).once('error', reject));
    expect(response.statusCode).to.equal(200);
    expect(response.headers['content-type']).to.match(/^text\/event-stream/);
    release();
    let text = '';
    for await (const chunk of response) text += chunk;
    expect(text).to.include('event: delta').and.include('late');
  });
});
