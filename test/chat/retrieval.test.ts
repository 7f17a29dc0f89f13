// How the offline agent finds passages, as an API client sees it: document-level ranking
// spread over documents, copies quoted once, function words only as stop words, CSV rows
// quoted under their header, follow-ups that remember the conversation, sources kept with
// the stored reply, unreadable documents named, and `config.sources`.
import { expect } from 'chai';
import { startTestServer, json, type TestServer } from '../helpers/server.js';
import { bodyOf, createAgent, expectLocs } from '../helpers/api.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('retrieval through POST /api/chat/ (offline runner)', () => {
  let server: TestServer;
  let agent: any;

  beforeEach(async () => {
    server = await startTestServer();
    agent = await createAgent(server, { name: 'Librarian' });
  });
  afterEach(() => server.close());

  async function upload(name: string, text: string | Buffer, agentId = agent.id): Promise<any> {
    const form = new FormData();
    form.append('file', new Blob([text]), name);
    form.append('agent_id', String(agentId));
    const res = await server.api('/api/documents/', { method: 'POST', body: form });
    expect(res.status, await res.clone().text()).to.equal(201);
    return res.json();
  }

  async function chat(message: string, extra: Record<string, unknown> = {}): Promise<any> {
    const res = await server.api('/api/chat/', json('POST', { message, agent_id: agent.id, ...extra }));
    expect(res.status, await res.clone().text()).to.equal(200);
    return res.json();
  }

  const names = (reply: any) => reply.sources.map((source: any) => source.original_filename);

  it('treats find, show, tell and explain as words a question can be about', async () => {
    await upload('find.1.txt', 'The find command walks a directory tree and prints every path that matches.');
    await upload('other.txt', 'Gardens need water and sunlight.');
    for (const message of ['find', 'show me find', 'explain find please']) {
      const reply = await chat(message);
      expect(names(reply), message).to.deep.equal(['find.1.txt']);
      expect(reply.agent_response).to.include('The find command walks a directory tree');
    }
    const show = await upload('show.txt', 'Tonight the show starts at eight in the old theatre.');
    expect(show.text_status).to.equal('indexed');
    expect(names(await chat('show'))).to.deep.equal(['show.txt']);
  });

  it('ranks a document named for the question first when the text alone cannot tell', async () => {
    // Both hold the question's words as often, in texts of the same length.
    await upload('kitchen-notes.txt', 'Feed the sourdough starter daily; a lively starter doubles in hours. Keep flour dry.');
    await upload('sourdough.txt', 'Feed the sourdough starter daily; a lively starter doubles in hours. Keep jars warm.');
    expect(names(await chat('sourdough starter'))).to.deep.equal(['sourdough.txt', 'kitchen-notes.txt']);
    // A first line short enough to be a heading is a title too.
    await upload('a.md', 'Rye bread\n\nFeed the sourdough starter; a lively starter raises rye and wheat alike.');
    await upload('b.md', 'Wheat loaves\n\nFeed the sourdough starter; a lively starter raises rye and wheat alike.');
    expect(names(await chat('wheat sourdough'))[0]).to.equal('b.md');
  });

  it('still ignores function words: a message of only those finds nothing', async () => {
    await upload('notes.txt', 'It is what it is, and that was that for them.');
    const reply = await chat('what is it that they were');
    expect(reply.sources).to.deep.equal([]);
  });

  it('gives config.sources documents by default five, and a long document cannot take them all', async () => {
    // One long document dense with the question's words, and seven short ones that also hold them.
    const long = Array.from({ length: 60 }, (_, i) => `Section ${i}. Comet tails point away from the sun, and comet dust glows.`).join('\n\n');
    await upload('comets-overview.md', `# Comets\n\n${long}`);
    for (let i = 1; i <= 7; i++) await upload(`comet-${i}.txt`, `Note ${i}: a comet tail and its dust, seen in year ${1900 + i}.`);
    const reply = await chat('comet tail dust');
    expect(reply.sources).to.have.length(5);
    expect(new Set(reply.sources.map((source: any) => source.document_id)).size).to.equal(5);
    expect(names(reply).filter((name: string) => name === 'comets-overview.md')).to.have.length.at.most(1);

    const res = await server.api(`/api/agents/${agent.id}`, json('PATCH', { config: { sources: 2 } }));
    expect(res.status).to.equal(200);
    expect((await chat('comet tail dust')).sources).to.have.length(2);
    await server.api(`/api/agents/${agent.id}`, json('PATCH', { config: { sources: 8 } }));
    expect((await chat('comet tail dust')).sources).to.have.length(8);
  });

  it('checks config.sources on create and update: an integer from 1 to 20', async () => {
    for (const sources of [0, 21, 2.5, '5', -1, null]) {
      await expectLocs(await server.api('/api/agents/', json('POST', { name: 'A', description: '', config: { sources } })), ['body', 'config', 'sources']);
      await expectLocs(await server.api(`/api/agents/${agent.id}`, json('PATCH', { config: { sources } })), ['body', 'config', 'sources']);
    }
    for (const sources of [1, 20]) {
      const res = await server.api('/api/agents/', json('POST', { name: 'A', description: '', config: { sources } }));
      expect(res.status).to.equal(201);
      expect((await bodyOf(res)).config).to.deep.equal({ sources });
    }
  });

  it('quotes a passage found in two copies of a document once', async () => {
    const text = '# Tides\n\nSpring tides happen when the sun and the moon line up, twice a month.\n';
    const first = await upload('tides.md', text);
    await upload('tides-copy.md', text);
    await upload('moon.txt', 'The moon has no air, and its tides are raised in the seas of the earth.');
    const reply = await chat('spring tides sun moon');
    const snippets = reply.sources.map((source: any) => source.snippet);
    expect(new Set(snippets).size).to.equal(snippets.length);
    expect(reply.sources[0].document_id).to.equal(first.id);
    expect(names(reply)).to.not.include('tides-copy.md');
    expect(reply.agent_response.split('Spring tides happen').length - 1).to.equal(1);
  });

  it('quotes one CSV row under its header, not the whole file', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${1000 + i},station-${i},${(i * 0.7).toFixed(1)},clear`);
    rows[137] = '1137,Ushuaia,2.4,snow';
    await upload('weather.csv', `id,station,temperature,sky\n${rows.join('\n')}\n`);
    const reply = await chat('What was the sky at Ushuaia?');
    expect(reply.sources).to.have.length(1);
    expect(reply.sources[0].snippet).to.equal('id,station,temperature,sky 1137,Ushuaia,2.4,snow');
    expect(reply.agent_response).to.include('1137,Ushuaia,2.4,snow');
    expect(reply.agent_response).to.not.include('station-1,');
  });

  it('cuts prose at paragraphs and trims the quote to the sentences that match', async () => {
    const filler = Array.from({ length: 5 }, (_, i) => `Paragraph ${i} talks about bread, ovens and flour at some length, without surprises.`).join('\n\n');
    await upload('baking.md', `# Baking\n\n${filler}\n\n## Salt\n\nBakers weigh the dough first. Salt slows the yeast down. Then the loaves rest.\n`);
    const reply = await chat('why does salt slow yeast?');
    expect(reply.sources[0].snippet).to.include('Salt slows the yeast down.');
    expect(reply.sources[0].snippet).to.not.include('Paragraph 0');
  });

  it('answers a follow-up ("Tell me more", "and the second one?") from the conversation so far', async () => {
    await upload('glaciers.txt', 'Glaciers carve valleys. A glacier moraine is the rock a glacier leaves behind.');
    await upload('deserts.txt', 'Deserts get little rain. Dunes move with the wind across the desert.');
    const first = await chat('How do glaciers carve valleys?');
    expect(names(first)).to.deep.equal(['glaciers.txt']);
    const more = await chat('Tell me more', { conversation_id: first.conversation_id });
    expect(names(more)).to.deep.equal(['glaciers.txt']);
    const second = await chat('and the second one?', { conversation_id: first.conversation_id });
    expect(names(second)[0]).to.equal('glaciers.txt');
    // A new conversation does not remember: the same words alone find nothing.
    expect((await chat('Tell me more')).sources).to.deep.equal([]);
    // A follow-up with words of its own is searched with its own words first.
    const deserts = await chat('what about desert dunes and wind?', { conversation_id: first.conversation_id });
    expect(names(deserts)[0]).to.equal('deserts.txt');
  });

  it('stores the sources with the reply: conversation GET and the messages list return them', async () => {
    await upload('bees.txt', 'Honey bees dance to tell the hive where the flowers are.');
    const reply = await chat('why do honey bees dance?');
    expect(reply.sources).to.have.length(1);
    const conversation = await bodyOf(await server.api(`/api/conversations/${reply.conversation_id}`));
    const [asked, answered] = conversation.messages;
    expect(asked.sources).to.equal(null);
    expect(answered.id).to.equal(reply.message_id);
    expect(answered.sources).to.deep.equal(reply.sources);
    const listed = await bodyOf(await server.api(`/api/conversations/${reply.conversation_id}/messages/`));
    expect(listed.find((message: any) => message.id === reply.message_id).sources).to.deep.equal(reply.sources);
    const one = await bodyOf(await server.api(`/api/conversations/${reply.conversation_id}/messages/${reply.message_id}`));
    expect(one.sources).to.deep.equal(reply.sources);
  });

  it('says plainly which documents could not be read, with or without an answer', async () => {
    const fake = await upload('report.pdf', 'This is plain text, not a PDF.');
    expect(fake.text_status).to.equal('failed');
    await upload('broken.pdf', Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog'));
    await upload('owls.txt', 'Owls hunt at night and see well in the dark.');
    const answered = await chat('when do owls hunt?');
    expect(names(answered)).to.deep.equal(['owls.txt']);
    expect(answered.agent_response).to.match(/could not read 2 documents \(report\.pdf, broken\.pdf\)/);
    const unanswered = await chat('quarterly revenue');
    expect(unanswered.sources).to.deep.equal([]);
    expect(unanswered.agent_response).to.include("couldn't find anything");
    expect(unanswered.agent_response).to.include('report.pdf, broken.pdf');
  });
});
