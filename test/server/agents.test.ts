import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import {
  bodyOf, ISO_UTC, isLater, createAgent, createConversation, expectCreated, expectError, expectLocs, uploadDocument,
} from '../helpers/api.js';

const AGENT_KEYS = ['id', 'name', 'description', 'config', 'created_at', 'updated_at'];

describe('REST agents', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  describe('creating an agent', () => {
    it('answers 201 with exactly the Agent keys and a Location that answers 200', async () => {
      const res = await server.api('/api/agents/', json('POST', { name: 'Researcher', description: 'finds things', config: { provider: 'local' } }));
      const agent = await expectCreated(server, res);
      expect(agent).to.have.all.keys(...AGENT_KEYS);
      expect(res.headers.get('location')).to.equal(`/api/agents/${agent.id}`);
      expect(agent).to.include({ name: 'Researcher', description: 'finds things' });
      expect(agent.config).to.deep.equal({ provider: 'local' });
      expect(agent.created_at).to.match(ISO_UTC);
      expect(agent.updated_at).to.equal(agent.created_at);
    });

    it('stores the name trimmed', async () => {
      const agent = await createAgent(server, { name: '  Spaced out \t' });
      expect(agent.name).to.equal('Spaced out');
      expect((await bodyOf(await server.api(`/api/agents/${agent.id}`))).name).to.equal('Spaced out');
    });

    it('returns the config exactly as sent', async () => {
      const config = { model: 'gpt', temperature: 0.25, nested: { list: [1, 'é', null, { deep: true }] }, big: -3.5e-7, emoji: '🦊' };
      const agent = await createAgent(server, { config });
      expect(agent.config).to.deep.equal(config);
      expect((await bodyOf(await server.api(`/api/agents/${agent.id}`))).config).to.deep.equal(config);
    });

    it('accepts a 200-character name (counted after trimming) and refuses 201 characters', async () => {
      const agent = await createAgent(server, { name: `  ${'n'.repeat(200)}  ` });
      expect(agent.name).to.have.length(200);
      await expectLocs(await server.api('/api/agents/', json('POST', { name: 'n'.repeat(201), description: '', config: {} })), ['body', 'name']);
    });

    it('refuses a blank name', async () => {
      await expectLocs(await server.api('/api/agents/', json('POST', { name: '   ', description: '', config: {} })), ['body', 'name']);
    });

    it('refuses each missing field with its location', async () => {
      for (const field of ['name', 'description', 'config']) {
        const body: Record<string, unknown> = { name: 'a', description: '', config: {} };
        delete body[field];
        await expectLocs(await server.api('/api/agents/', json('POST', body)), ['body', field]);
      }
    });

    it('refuses an unknown field', async () => {
      await expectLocs(await server.api('/api/agents/', json('POST', { name: 'a', description: '', config: {}, colour: 'red' })), ['body', 'colour']);
    });

    it('refuses wrong types without coercing them', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ name: 5 }, 'name'],
        [{ description: 5 }, 'description'],
        [{ config: 'x' }, 'config'],
        [{ config: [] }, 'config'],
        [{ config: null }, 'config'],
        [{ name: true }, 'name'],
      ];
      for (const [override, field] of cases) {
        const res = await server.api('/api/agents/', json('POST', { name: 'a', description: '', config: {}, ...override }));
        await expectLocs(res, ['body', field]);
      }
    });

    it('creates nothing when the body is refused', async () => {
      const before = Number((await server.api('/api/agents/')).headers.get('x-total-count'));
      await server.api('/api/agents/', json('POST', { name: 5, description: '', config: {} }));
      expect(Number((await server.api('/api/agents/')).headers.get('x-total-count'))).to.equal(before);
    });
  });

  describe('reading an agent', () => {
    it('answers 200 with the agent', async () => {
      const agent = await createAgent(server, { name: 'Reader' });
      const res = await server.api(`/api/agents/${agent.id}`);
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal(agent);
    });

    it('answers 404 "Agent not found" on every route of an unknown id', async () => {
      await expectError(await server.api('/api/agents/99999'), 404, 'Agent not found');
      await expectError(await server.api('/api/agents/99999', json('PUT', { name: 'x' })), 404, 'Agent not found');
      await expectError(await server.api('/api/agents/99999', json('PATCH', { name: 'x' })), 404, 'Agent not found');
      await expectError(await server.api('/api/agents/99999', { method: 'DELETE' }), 404, 'Agent not found');
    });
  });

  describe('updating an agent', () => {
    for (const method of ['PUT', 'PATCH']) {
      it(`${method} changes only the fields given and advances updated_at`, async () => {
        const agent = await createAgent(server, { name: 'Before', description: 'keep me', config: { a: 1 } });
        const res = await server.api(`/api/agents/${agent.id}`, json(method, { config: { b: [2] } }));
        expect(res.status).to.equal(200);
        const updated = await bodyOf(res);
        expect(updated).to.have.all.keys(...AGENT_KEYS);
        expect(updated).to.include({ id: agent.id, name: 'Before', description: 'keep me', created_at: agent.created_at });
        expect(updated.config).to.deep.equal({ b: [2] });
        expect(isLater(updated.updated_at, agent.updated_at), `${updated.updated_at} > ${agent.updated_at}`).to.equal(true);
        expect(await bodyOf(await server.api(`/api/agents/${agent.id}`))).to.deep.equal(updated);
      });
    }

    it('advances updated_at even when the value sent is the current one', async () => {
      const agent = await createAgent(server, { name: 'Same' });
      const updated = await bodyOf(await server.api(`/api/agents/${agent.id}`, json('PATCH', { name: 'Same' })));
      expect(isLater(updated.updated_at, agent.updated_at)).to.equal(true);
    });

    it('stores a new name trimmed', async () => {
      const agent = await createAgent(server);
      const updated = await bodyOf(await server.api(`/api/agents/${agent.id}`, json('PUT', { name: '  Renamed  ' })));
      expect(updated.name).to.equal('Renamed');
    });

    it('refuses an empty body {}', async () => {
      const agent = await createAgent(server);
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PUT', {})), ['body']);
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PATCH', {})), ['body']);
    });

    it('refuses wrong types, blank names and unknown fields, changing nothing', async () => {
      const agent = await createAgent(server, { name: 'Intact' });
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PATCH', { name: 5 })), ['body', 'name']);
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PATCH', { config: 'x' })), ['body', 'config']);
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PATCH', { name: '  ' })), ['body', 'name']);
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PATCH', { id: 7 })), ['body', 'id']);
      expect(await bodyOf(await server.api(`/api/agents/${agent.id}`))).to.deep.equal(agent);
    });
  });

  describe('deleting an agent', () => {
    it('answers {"message": "Agent deleted successfully"} and the agent is gone', async () => {
      const agent = await createAgent(server);
      const res = await server.api(`/api/agents/${agent.id}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal({ message: 'Agent deleted successfully' });
      await expectError(await server.api(`/api/agents/${agent.id}`), 404, 'Agent not found');
      await expectError(await server.api(`/api/agents/${agent.id}`, { method: 'DELETE' }), 404, 'Agent not found');
    });

    it('keeps its documents and conversations with agent_id set to null', async () => {
      const agent = await createAgent(server);
      const conversation = await createConversation(server, { agent_id: agent.id });
      const document = await uploadDocument(server, 'kept.txt', 'kept', { agent_id: String(agent.id) });
      expect(document.agent_id).to.equal(agent.id);
      await server.api(`/api/agents/${agent.id}`, { method: 'DELETE' });
      const keptConversation = await bodyOf(await server.api(`/api/conversations/${conversation.id}`));
      expect(keptConversation.agent_id).to.equal(null);
      const keptDocument = await bodyOf(await server.api(`/api/documents/${document.id}`));
      expect(keptDocument.agent_id).to.equal(null);
      expect((await server.api(`/api/documents/${document.id}/download`)).status).to.equal(200);
    });
  });

  describe('listing agents', () => {
    let list: TestServer;
    before(async () => {
      list = await startTestServer();
      for (let i = 1; i <= 105; i++) await list.context.services.agents.create({ name: `agent ${i}`, description: '', config: {} });
    });
    after(async () => {
      await list.close();
    });

    it('answers the first 100 agents by default, in ascending id order, with X-Total-Count', async () => {
      const res = await list.api('/api/agents/');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('105');
      const agents = await bodyOf(res);
      expect(agents).to.have.length(100);
      expect(agents[0]).to.have.all.keys(...AGENT_KEYS);
      const ids = agents.map((agent: { id: number }) => agent.id);
      expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
      expect(agents[0].name).to.equal('agent 1');
    });

    it('pages with skip and limit, the total counted before paging', async () => {
      const res = await list.api('/api/agents/?skip=100&limit=3');
      expect(res.headers.get('x-total-count')).to.equal('105');
      expect((await bodyOf(res)).map((agent: { name: string }) => agent.name)).to.deep.equal(['agent 101', 'agent 102', 'agent 103']);
    });

    it('answers an empty page past the end, with the total', async () => {
      const res = await list.api('/api/agents/?skip=500');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-total-count')).to.equal('105');
      expect(await bodyOf(res)).to.deep.equal([]);
    });

    it('accepts limit 1 and limit 1000', async () => {
      expect(await bodyOf(await list.api('/api/agents/?limit=1'))).to.have.length(1);
      expect(await bodyOf(await list.api('/api/agents/?limit=1000'))).to.have.length(105);
    });

    it('refuses limits and skips out of range or not integers with query locations', async () => {
      const cases: Array<[string, string]> = [
        ['limit=0', 'limit'], ['limit=1001', 'limit'], ['skip=-1', 'skip'],
        ['limit=abc', 'limit'], ['skip=abc', 'skip'], ['limit=1.5', 'limit'], ['skip=1.5', 'skip'],
      ];
      for (const [query, field] of cases) {
        await expectLocs(await list.api(`/api/agents/?${query}`), ['query', field]);
      }
    });
  });
});
