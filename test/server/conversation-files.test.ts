import { expect } from 'chai';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { createAgent, createConversation, createMessage, expectLocs } from '../helpers/api.js';

describe('REST conversation export, import and fork', () => {
  let server: TestServer;
  let conversation: { id: number; title: string; agent_id: number };
  let messages: Array<{ id: number; sender: string; content: string; sources: unknown; created_at: string; updated_at: string }>;
  const sources = [{ document_id: 3, original_filename: 'a.pdf', snippet: 'the passage' }];
  before(async () => {
    server = await startTestServer();
    const agent = await createAgent(server, { name: 'Writer' });
    conversation = await createConversation(server, { title: 'Plans', agent_id: agent.id });
    await createMessage(server, conversation.id, { sender: 'user', content: 'What is next?' });
    // A reply with sources, as chat stores it.
    const { services } = server.context;
    await server.context.knex.transaction((trx) => services.messages.append(trx, conversation.id, [{ sender: 'agent', content: 'A **plan**:\n- one\n- two', sources }]));
    await createMessage(server, conversation.id, { sender: 'user', content: 'Thanks \u001b[31m' });
    messages = await (await server.api(`/api/conversations/${conversation.id}/messages/`)).json() as any;
  });
  after(async () => {
    await server.close();
  });

  const strip = (list: typeof messages) => list.map(({ sender, content, sources: s, created_at, updated_at }) => ({ sender, content, sources: s, created_at, updated_at }));

  it('exports JSON as an attachment holding the conversation and every message', async () => {
    const res = await server.api(`/api/conversations/${conversation.id}/export?format=json`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="conversation-\d+\.json"/);
    const exported = await (res.json() as any);
    expect(exported).to.include({ id: conversation.id, title: 'Plans', agent_id: conversation.agent_id });
    expect(exported.messages).to.deep.equal(messages);
  });

  it('exports Markdown with senders, times, contents and sources', async () => {
    const res = await server.api(`/api/conversations/${conversation.id}/export?format=md`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/markdown/);
    expect(res.headers.get('content-disposition')).to.match(/conversation-\d+\.md/);
    const text = await res.text();
    expect(text).to.match(/^# Plans\n/);
    expect(text).to.include(`## agent · ${messages[1].created_at}\n\nA **plan**:\n- one\n- two\n\nSources:\n- a.pdf (document 3): the passage`);
    await expectLocs(await server.api(`/api/conversations/${conversation.id}/export?format=pdf`), ['query', 'format']);
    expect((await server.api('/api/conversations/999/export')).status).to.equal(404);
  });

  it('imports an export as a new conversation with the same messages, timestamps and sources', async () => {
    const exported = await (await server.api(`/api/conversations/${conversation.id}/export`)).json() as any;
    const res = await server.api('/api/conversations/import', json('POST', exported));
    expect(res.status, await res.clone().text()).to.equal(201);
    const created = await (res.json() as any);
    expect(created.id).to.not.equal(conversation.id);
    expect(res.headers.get('location')).to.equal(`/api/conversations/${created.id}`);
    expect(created).to.include({ title: 'Plans', agent_id: conversation.agent_id });
    const copied = await (await server.api(`/api/conversations/${created.id}/messages/`)).json() as any;
    expect(strip(copied)).to.deep.equal(strip(messages));
  });

  it('refuses an invalid import with 422 and stores nothing', async () => {
    const before = (await (await server.api('/api/conversations/')).json() as any).length;
    const exported = await (await server.api(`/api/conversations/${conversation.id}/export`)).json() as any;
    const bad = { ...exported, messages: [...exported.messages, { sender: '', content: 5 }] };
    await expectLocs(await server.api('/api/conversations/import', json('POST', bad)), ['body', 'messages', 3, 'sender'], ['body', 'messages', 3, 'content']);
    await expectLocs(await server.api('/api/conversations/import', json('POST', { ...exported, created_at: 'yesterday' })), ['body', 'created_at']);
    await expectLocs(await server.api('/api/conversations/import', json('POST', { ...exported, agent_id: 999 })), ['body', 'agent_id']);
    expect((await (await server.api('/api/conversations/')).json() as any).length).to.equal(before);
  });

  it('forks up to and including a message, or all of them', async () => {
    const res = await server.api(`/api/conversations/${conversation.id}/fork`, json('POST', { message_id: messages[1].id }));
    expect(res.status, await res.clone().text()).to.equal(201);
    const fork = await (res.json() as any);
    expect(fork).to.include({ title: 'Plans (fork)', agent_id: conversation.agent_id });
    const kept = await (await server.api(`/api/conversations/${fork.id}/messages/`)).json() as any;
    expect(strip(kept)).to.deep.equal(strip(messages.slice(0, 2)));
    const whole = await (await server.api(`/api/conversations/${conversation.id}/fork`, { method: 'POST' })).json() as any;
    expect(strip(await (await server.api(`/api/conversations/${whole.id}/messages/`)).json() as any)).to.deep.equal(strip(messages));
  });

  it('refuses to fork at a message of another conversation, naming it', async () => {
    const other = await createConversation(server, { title: 'Other' });
    const foreign = await createMessage(server, other.id, { content: 'elsewhere' });
    const res = await server.api(`/api/conversations/${conversation.id}/fork`, json('POST', { message_id: foreign.id }));
    const [issue] = await expectLocs(res, ['body', 'message_id']);
    expect(issue.msg).to.include(`Message ${foreign.id}`);
    expect((await server.api('/api/conversations/999/fork', json('POST', {}))).status).to.equal(404);
  });

  it('refuses a JSON body that is not an object (no body at all forks every message)', async () => {
    const res = await server.api(`/api/conversations/${conversation.id}/fork`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'null' });
    await expectLocs(res, ['body']);
  });
});
