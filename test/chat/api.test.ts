// POST /api/chat over real HTTP: the JSON answer, its errors, and the Server-Sent Events
// stream, against the offline runner and a fake OpenAI-compatible server.
import http from 'node:http';
import { expect } from 'chai';
import type { Agent } from '../../src/core/schemas.js';
import type { TestServer } from '../helpers/server.js';
import { json, startTestServer } from '../helpers/server.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { NOTHING_STORED, SseParser, addProvider, bodyOf, createAgent, fixture, readEvents, sleep, storedCounts, upload, waitFor, type SseEvent } from '../helpers/chat.js';

const REPLY = 'Chlorophyll captures light, says the fake model.';
const RESPONSE_KEYS = ['success', 'message', 'conversation_id', 'message_id', 'agent_response', 'context', 'error', 'runner', 'sources'];
const SSE = { accept: 'text/event-stream' };

describe('POST /api/chat', () => {
  let fake: FakeOpenAi;
  let server: TestServer;
  /** Answers from its documents (the offline runner). */
  let librarian: Agent;

  before(async () => {
    fake = await startFakeOpenAi(REPLY);
  });
  after(() => fake.close());
  beforeEach(async () => {
    server = await startTestServer();
    librarian = await createAgent(server.context, {}, 'Librarian');
    await addProvider(server.context, 'fake', fake.baseUrl);
    await addProvider(server.context, 'unreachable', 'http://127.0.0.1:1/v1');
    await upload(server.context, 'photosynthesis.pdf', fixture('photosynthesis.pdf'), { agent_id: librarian.id });
  });
  afterEach(() => server.close());

  function modelAgent(model = 'fake', extra: Record<string, unknown> = {}): Promise<Agent> {
    return createAgent(server.context, { provider: 'fake', model, timeout: 1, ...extra }, `Model ${model}`);
  }

  function chat(body: Record<string, unknown>, headers: Record<string, string> = {}, path = '/api/chat/'): Promise<Response> {
    const init = json('POST', body);
    return server.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
  }

  describe('the JSON answer', () => {
    for (const path of ['/api/chat/', '/chat/', '/api/chat', '/chat']) {
      it(`answers 200 with exactly the documented keys on ${path}`, async () => {
        const response = await chat({ message: 'What does chlorophyll absorb?', agent_id: librarian.id }, {}, path);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(/^application\/json/);
        const body = await bodyOf(response);
        expect(body).to.have.all.keys(...RESPONSE_KEYS);
        expect(body).to.include({ success: true, message: 'What does chlorophyll absorb?', error: null, runner: 'local', context: null });
        expect(body.sources.map((source: { original_filename: string }) => source.original_filename)).to.deep.equal(['photosynthesis.pdf']);
      });
    }

    it('stores both messages and answers with the id of the reply', async () => {
      const body = await bodyOf(await chat({ message: 'Chlorophyll?', agent_id: librarian.id, context: { page: 'home' } }));
      expect(body.context).to.deep.equal({ page: 'home' });
      const conversation = await bodyOf(await server.api(`/api/conversations/${body.conversation_id}`));
      expect(conversation.agent_id).to.equal(librarian.id);
      expect(conversation.messages.map((m: { sender: string; content: string }) => [m.sender, m.content])).to.deep.equal([
        ['user', 'Chlorophyll?'],
        ['agent', body.agent_response],
      ]);
      expect(body.message_id).to.equal(conversation.messages[1].id);
    });

    it("answers with the model's reply and the provider's name as the runner", async () => {
      const agent = await modelAgent();
      const body = await bodyOf(await chat({ message: 'hi', agent_id: agent.id }));
      expect(body).to.include({ agent_response: REPLY, runner: 'fake' });
    });
  });

  describe('errors', () => {
    it('answers 404 {"detail": "Agent 999 not found"} for an unknown agent', async () => {
      const response = await chat({ message: 'hi', agent_id: 999 });
      expect(response.status).to.equal(404);
      expect(await bodyOf(response)).to.deep.equal({ detail: 'Agent 999 not found' });
    });

    it('answers 404 naming an unknown conversation', async () => {
      const first = await bodyOf(await chat({ message: 'hi', agent_id: librarian.id }));
      const missing = first.conversation_id + 10;
      const response = await chat({ message: 'hi', agent_id: librarian.id, conversation_id: missing });
      expect(response.status).to.equal(404);
      expect(await bodyOf(response)).to.deep.equal({ detail: `Conversation ${missing} not found` });
    });

    it("answers 409 for another agent's conversation", async () => {
      const other = await createAgent(server.context, {}, 'Other');
      const theirs = await server.context.services.conversations.create({ title: 'Theirs', agent_id: other.id });
      const response = await chat({ message: 'hi', agent_id: librarian.id, conversation_id: theirs.id });
      expect(response.status).to.equal(409);
      const body = await bodyOf(response);
      expect(body).to.have.all.keys('detail');
      expect(body.detail).to.be.a('string').and.not.equal('');
    });

    for (const [name, message] of [['a number', 123], ['an empty string', ''], ['only spaces', '   ']] as const) {
      it(`answers 422 at ["body","message"] for ${name} as the message`, async () => {
        const response = await chat({ message, agent_id: librarian.id });
        expect(response.status).to.equal(422);
        const { detail } = await bodyOf(response);
        expect(detail.map((issue: { loc: unknown }) => issue.loc)).to.deep.include(['body', 'message']);
        expect(await storedCounts(server.context)).to.deep.equal(NOTHING_STORED);
      });
    }

    it('answers 422 for an unknown field and for a context that is not an object', async () => {
      const unknown = await chat({ message: 'hi', agent_id: librarian.id, temperature: 1 });
      expect(unknown.status).to.equal(422);
      const notObject = await chat({ message: 'hi', agent_id: librarian.id, context: 'text' });
      expect(notObject.status).to.equal(422);
      expect((await bodyOf(notObject)).detail.map((issue: { loc: unknown }) => issue.loc)).to.deep.include(['body', 'context']);
    });

    it('answers 502 {"detail": "Agent runner failed: …"} when the model fails, storing nothing', async () => {
      const agent = await modelAgent('fail-500');
      const response = await chat({ message: 'hi', agent_id: agent.id });
      expect(response.status).to.equal(502);
      const body = await bodyOf(response);
      expect(body).to.have.all.keys('detail');
      expect(body.detail).to.match(/^Agent runner failed: .+/);
      expect(await storedCounts(server.context)).to.deep.equal(NOTHING_STORED);
    });

    it('answers 502 when the model is unreachable', async () => {
      const agent = await modelAgent('fake', { provider: 'unreachable' });
      const response = await chat({ message: 'hi', agent_id: agent.id });
      expect(response.status).to.equal(502);
      expect((await bodyOf(response)).detail).to.match(/^Agent runner failed: /);
    });
  });

  describe('streaming (Server-Sent Events)', () => {
    function expectCompleteStream(events: SseEvent[]) {
      const names = events.map((event) => event.event);
      expect(names.at(-1), names.join(',')).to.equal('done');
      expect(names.filter((name) => name === 'done')).to.have.length(1);
      expect(names.slice(0, -1).every((name) => name === 'delta'), names.join(',')).to.equal(true);
      const deltas = events.filter((event) => event.event === 'delta');
      expect(deltas.length).to.be.greaterThan(0);
      for (const delta of deltas) expect(delta.json).to.have.all.keys('text');
      const done = events.at(-1)?.json;
      expect(done).to.have.all.keys(...RESPONSE_KEYS);
      expect(deltas.map((delta) => delta.json.text).join('')).to.equal(done.agent_response);
      return done;
    }

    it('streams deltas then one done event with Accept: text/event-stream', async () => {
      const agent = await modelAgent();
      const response = await chat({ message: 'hi', agent_id: agent.id }, SSE);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/event-stream/);
      const done = expectCompleteStream(await readEvents(response));
      expect(done).to.include({ success: true, agent_response: REPLY, runner: 'fake', message: 'hi' });
      const { messages } = await server.context.services.conversations.get(done.conversation_id);
      expect(messages.map((m) => m.content)).to.deep.equal(['hi', REPLY]);
      expect(done.message_id).to.equal(messages[1].id);
    });

    it('streams with "stream": true and no Accept header', async () => {
      const response = await chat({ message: 'What does chlorophyll absorb?', agent_id: librarian.id, stream: true });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/event-stream/);
      const done = expectCompleteStream(await readEvents(response));
      expect(done.runner).to.equal('local');
      expect(done.agent_response).to.include('Chlorophyll absorbs sunlight');
      expect(done.sources.map((source: { original_filename: string }) => source.original_filename)).to.deep.equal(['photosynthesis.pdf']);
    });

    it('answers errors found before the reply starts as ordinary JSON (404, 422, 409)', async () => {
      const other = await createAgent(server.context, {}, 'Other');
      const theirs = await server.context.services.conversations.create({ title: 'Theirs', agent_id: other.id });
      const cases: Array<[Record<string, unknown>, number]> = [
        [{ message: 'hi', agent_id: 999 }, 404],
        [{ message: 'hi', agent_id: librarian.id, conversation_id: 777 }, 404],
        [{ message: 123, agent_id: librarian.id }, 422],
        [{ message: 'hi', agent_id: librarian.id, conversation_id: theirs.id }, 409],
      ];
      for (const [body, status] of cases) {
        for (const [headers, extra] of [[SSE, {}], [{}, { stream: true }]] as const) {
          const response = await chat({ ...body, ...extra }, headers);
          const what = JSON.stringify({ ...body, ...extra, ...headers });
          expect(response.status, what).to.equal(status);
          expect(response.headers.get('content-type'), what).to.match(/^application\/json/);
          expect(await bodyOf(response), what).to.have.all.keys('detail');
        }
      }
      expect(await bodyOf(await chat({ message: 'hi', agent_id: 999 }, SSE))).to.deep.equal({ detail: 'Agent 999 not found' });
    });

    it('ends with an error event when the model fails once the stream has begun, storing nothing', async () => {
      const agent = await modelAgent('fail-500');
      const response = await chat({ message: 'hi', agent_id: agent.id }, SSE);
      expect(response.status).to.equal(200);
      const events = await readEvents(response);
      expect(events.map((event) => event.event)).to.not.include('done');
      const last = events.at(-1);
      expect(last?.event).to.equal('error');
      expect(last?.json).to.have.all.keys('detail');
      expect(last?.json.detail).to.match(/^Agent runner failed: .*500/);
      expect(await storedCounts(server.context)).to.deep.equal(NOTHING_STORED);
    });

    it('ends with an error event when the model stalls after its first words, storing nothing', async () => {
      const agent = await modelAgent('slow');
      const events = await readEvents(await chat({ message: 'hi', agent_id: agent.id }, SSE));
      expect(events.map((event) => event.event)).to.deep.equal(['delta', 'error']);
      expect(events[1].json.detail).to.match(/^Agent runner failed: /);
      expect(await storedCounts(server.context)).to.deep.equal(NOTHING_STORED);
    });
  });

  describe('a client that leaves mid-stream', () => {
    /** Sends a streaming chat, waits for the first delta, then destroys the socket. */
    function leaveAfterFirstDelta(agentId: number): Promise<string> {
      return new Promise((resolve, reject) => {
        const request = http.request(
          { host: '127.0.0.1', port: server.port, path: '/api/chat/', method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
          (response) => {
            const parser = new SseParser();
            response.setEncoding('utf8');
            response.on('data', (text: string) => {
              const delta = parser.push(text).find((event) => event.event === 'delta');
              if (!delta) return;
              request.destroy();
              resolve(delta.json.text);
            });
            response.on('end', () => reject(new Error(`The stream ended before a delta: ${JSON.stringify(parser.events)}`)));
          },
        );
        request.on('error', (error) => {
          if (!request.destroyed) reject(error);
        });
        request.end(JSON.stringify({ message: 'Tell me a long story', agent_id: agentId }));
      });
    }

    async function expectNothingStoredFor(ms: number) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        expect(await storedCounts(server.context)).to.deep.equal(NOTHING_STORED);
        await sleep(50);
      }
    }

    it('stores nothing when it leaves a model that stalls (model "slow")', async () => {
      const agent = await modelAgent('slow', { timeout: 30 });
      expect(await leaveAfterFirstDelta(agent.id)).to.equal('Chlorophyll ');
      await expectNothingStoredFor(1000);
      const after = await chat({ message: 'still there?', agent_id: librarian.id });
      expect(after.status).to.equal(200);
    });

    it('stores nothing, and cancels the model request, when it leaves a reply that would have completed', async () => {
      const pacedModel = await startFakeOpenAi('one two three four five six seven eight nine ten', 80);
      const paced = pacedModel.paced;
      try {
        await addProvider(server.context, 'paced', pacedModel.baseUrl);
        const agent = await createAgent(server.context, { provider: 'paced', model: 'paced', timeout: 30 }, 'Paced');
        expect(await leaveAfterFirstDelta(agent.id)).to.equal('one ');
        // The whole reply would have taken about 0.9 s.
        await waitFor(() => paced.cutShort + paced.finished > 0, 3000, 'the model request to end');
        expect({ cutShort: paced.cutShort, finished: paced.finished }).to.deep.equal({ cutShort: 1, finished: 0 });
        await expectNothingStoredFor(1000);
      } finally {
        await pacedModel.close();
      }
    });
  });

  describe('GET /openapi.json', () => {
    it('documents POST /api/chat/ with its request, its JSON and event-stream answers and its errors', async () => {
      const document = await bodyOf(await server.api('/openapi.json'));
      const operation = document.paths['/api/chat/']?.post;
      expect(operation, Object.keys(document.paths).join(', ')).to.be.an('object');
      expect(JSON.stringify(operation.requestBody.content['application/json'].schema)).to.include('ChatRequest');
      expect(operation.responses['200'].content).to.have.keys('application/json', 'text/event-stream');
      expect(JSON.stringify(operation.responses['200'].content['application/json'].schema)).to.include('ChatResponse');
      expect(operation.responses).to.include.keys('404', '409', '422', '502');
      const request = document.components.schemas.ChatRequest;
      expect(request.properties).to.include.keys('message', 'agent_id', 'conversation_id', 'context', 'stream');
      expect(request.required).to.have.members(['message', 'agent_id']);
    });
  });
});
