import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { createAgent, createConversation, createMessage, expectLocs, uploadDocument } from '../helpers/api.js';

const RESULT_KEYS = ['kind', 'document_id', 'conversation_id', 'message_id', 'title', 'snippet', 'score'];

describe('REST search', () => {
  let server: TestServer;
  let agent: { id: number };
  let volcanoDoc: { id: number };
  let chat: { id: number };
  let hotelMessage: { id: number };
  before(async () => {
    server = await startTestServer();
    agent = await createAgent(server, { name: 'Geologist' });
    const other = await createAgent(server, { name: 'Travel' });
    volcanoDoc = await uploadDocument(server, 'volcanoes.txt', 'Volcanoes erupt when magma rises. Basalt lava flows far.', { agent_id: String(agent.id) });
    await uploadDocument(server, 'cooking.txt', 'Boil the pasta, then add basalt salt? No: sea salt.');
    chat = await createConversation(server, { title: 'Lisbon trip', agent_id: other.id });
    hotelMessage = await createMessage(server, chat.id, { content: 'Book the HOTEL near the river in Lisbon' });
    await createMessage(server, chat.id, { sender: 'agent', content: 'Done: the hotel is booked.' });
    const geology = await createConversation(server, { title: 'Rocks', agent_id: agent.id });
    await createMessage(server, geology.id, { content: 'Is basalt volcanic?' });
  });
  after(async () => {
    await server.close();
  });

  async function search(query: string): Promise<any[]> {
    const res = await server.api(`/api/search?${query}`);
    expect(res.status, await res.clone().text()).to.equal(200);
    return (res.json() as any);
  }

  it('finds documents by their passages and messages by their content, with the ids that apply', async () => {
    const results = await search('q=hotel');
    expect(results).to.have.length(2);
    for (const result of results) expect(result).to.have.all.keys(...RESULT_KEYS);
    const first = results.find((result) => result.message_id === hotelMessage.id);
    expect(first).to.include({ kind: 'message', document_id: null, conversation_id: chat.id, title: 'Lisbon trip' });
    expect(first.snippet).to.include('HOTEL');
    const doc = (await search('q=magma'))[0];
    expect(doc).to.include({ kind: 'document', document_id: volcanoDoc.id, conversation_id: null, message_id: null, title: 'volcanoes.txt' });
    expect(doc.snippet).to.include('magma');
  });

  it('orders results best first and needs every word', async () => {
    const results = await search('q=basalt');
    expect(results.map((r) => r.kind).sort()).to.deep.equal(['document', 'document', 'message']);
    const scores = results.map((r) => r.score);
    expect(scores).to.deep.equal([...scores].sort((a, b) => b - a));
    expect(await search('q=basalt%20lisbon')).to.deep.equal([]);
    // Stemmed: "booking" finds "Book" and "booked".
    expect((await search('q=booking&kind=messages')).length).to.equal(2);
  });

  it('narrows to one kind or one agent, and limits', async () => {
    expect((await search('q=basalt&kind=documents')).map((r) => r.kind)).to.deep.equal(['document', 'document']);
    expect((await search('q=basalt&kind=messages')).map((r) => r.kind)).to.deep.equal(['message']);
    const mine = await search(`q=basalt&agent_id=${agent.id}`);
    expect(mine.map((r) => r.title).sort()).to.deep.equal(['Rocks', 'volcanoes.txt']);
    expect(await search('q=basalt&limit=1')).to.have.length(1);
  });

  it('treats search syntax as words', async () => {
    const results = await search(`q=${encodeURIComponent('"hotel" OR NEAR(* -')}`);
    expect(results.map((r) => r.message_id)).to.deep.equal([hotelMessage.id]);
  });

  it('requires q and refuses a bad kind or agent', async () => {
    await expectLocs(await server.api('/api/search'), ['query', 'q']);
    await expectLocs(await server.api('/api/search?q='), ['query', 'q']);
    await expectLocs(await server.api('/api/search?q=x&kind=pictures'), ['query', 'kind']);
    expect((await server.api('/api/search?q=x&agent_id=999')).status).to.equal(404);
  });

  it('finds a message once it is written and forgets it once changed or deleted', async () => {
    const note = await createMessage(server, chat.id, { content: 'zanzibar ferry' });
    expect((await search('q=zanzibar')).map((r) => r.message_id)).to.deep.equal([note.id]);
    await server.api(`/api/conversations/${chat.id}/messages/${note.id}`, json('PATCH', { content: 'mombasa ferry' }));
    expect(await search('q=zanzibar')).to.deep.equal([]);
    expect((await search('q=mombasa')).map((r) => r.message_id)).to.deep.equal([note.id]);
    await server.api(`/api/conversations/${chat.id}/messages/${note.id}`, { method: 'DELETE' });
    expect(await search('q=mombasa')).to.deep.equal([]);
  });
});
