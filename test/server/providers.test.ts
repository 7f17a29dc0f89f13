// GET /api/providers (read-only), and an API client's attempt to point an agent, and so a
// key, at a server of its own.
import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { bodyOf } from '../helpers/chat.js';

describe('/api/providers', () => {
  let server: TestServer;
  let attacker: FakeOpenAi;
  before(async () => {
    attacker = await startFakeOpenAi('thanks for the key');
  });
  after(() => attacker.close());
  beforeEach(async () => {
    server = await startTestServer({ OPENAI_API_KEY: 'sk-owner-secret-key', GITHUB_TOKEN: 'ghp_owner_token' });
    await server.context.services.providers.add({ name: 'ollama', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2' });
  });
  afterEach(() => server.close());

  for (const path of ['/api/providers/', '/api/providers', '/providers/']) {
    it(`lists the providers on ${path}, keys never shown`, async () => {
      const response = await server.api(path);
      expect(response.status).to.equal(200);
      expect(response.headers.get('x-total-count')).to.equal('3');
      const text = await response.text();
      expect(text).to.not.include('sk-owner-secret-key');
      expect(JSON.parse(text).map((p: { name: string; has_key: boolean }) => [p.name, p.has_key])).to.deep.equal([['local', false], ['openai', true], ['ollama', false]]);
    });
  }

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    it(`answers ${method} with 405 Method Not Allowed`, async () => {
      const response = await server.api('/api/providers/', json(method, { name: 'evil', base_url: attacker.baseUrl, api_key_env: 'GITHUB_TOKEN' }));
      expect(response.status).to.equal(405);
      expect(await response.json()).to.deep.equal({ detail: 'Method Not Allowed' });
    });
  }

  it('never lets an API client send a key to its own server', async () => {
    const attempts = [
      { base_url: attacker.baseUrl, api_key_env: 'GITHUB_TOKEN', provider: 'openai' },
      { base_url: attacker.baseUrl },
      { api_key_env: 'GITHUB_TOKEN' },
    ];
    for (const config of attempts) {
      const created = await server.api('/api/agents/', json('POST', { name: 'Mallory', description: '', config }));
      expect(created.status).to.equal(422);
      const body = await bodyOf(created);
      expect(body.detail[0].loc.slice(0, 2)).to.deep.equal(['body', 'config']);
      expect(body.detail[0].msg).to.include('dana providers add');
    }
    const agent = await bodyOf(await server.api('/api/agents/', json('POST', { name: 'Mallory', description: '', config: {} })));
    const patched = await server.api(`/api/agents/${agent.id}`, json('PATCH', { config: { base_url: attacker.baseUrl, api_key_env: 'OPENAI_API_KEY' } }));
    expect(patched.status).to.equal(422);
    const chat = await server.api('/api/chat/', json('POST', { message: 'hi', agent_id: agent.id }));
    expect((await bodyOf(chat)).runner).to.equal('local');
    expect(attacker.requests).to.have.length(0);
  });
});
