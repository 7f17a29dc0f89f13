import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { json, startTestServer, type TestServer } from '../helpers/server.js';
import { ValidationError } from '../../src/core/errors.js';

describe('lists: q and sort', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await openTestContext();
    const { agents, topics, conversations, messages } = ctx.services;
    for (const name of ['Support bot', 'sales helper', 'SUPPORT desk', '100% sure', 'under_score', 'Émile', 'émile', 'zed']) {
      await agents.create({ name, description: '', config: {} });
    }
    for (const name of ['Banana', 'apple', 'Cherry']) await topics.create({ name, description: '' });
    const chat = await conversations.create({ title: 'Trip to Lisbon' });
    await conversations.create({ title: 'Groceries' });
    await conversations.create({ title: 'lisbon again' });
    for (const content of ['Book the hotel in LISBON', 'pack sunscreen', 'Hotel booked']) {
      await messages.create(chat.id, { sender: 'user', content });
    }
  });
  after(async () => {
    await ctx.close();
  });

  const names = (page: { items: Array<{ name?: string; title?: string; content?: string }> }) =>
    page.items.map((row) => row.name ?? row.title ?? row.content);

  it('finds a case-insensitive substring of the name and counts only what matches', async () => {
    const page = await ctx.services.agents.list({ q: 'support' });
    expect(names(page)).to.deep.equal(['Support bot', 'SUPPORT desk']);
    expect(page.total).to.equal(2);
    const paged = await ctx.services.agents.list({ q: 'SUPPORT', limit: '1' });
    expect(paged.items).to.have.length(1);
    expect(paged.total).to.equal(2);
  });

  it('takes % and _ as plain characters', async () => {
    expect(names(await ctx.services.agents.list({ q: '%' }))).to.deep.equal(['100% sure']);
    expect(names(await ctx.services.agents.list({ q: '_' }))).to.deep.equal(['under_score']);
    expect(names(await ctx.services.agents.list({ q: 'n_e' }))).to.deep.equal([]);
  });

  it('folds ASCII letters only, the same on both backends', async () => {
    // PostgreSQL's lower() would fold É by locale; SQLite does not: both match exactly "é" here.
    expect(names(await ctx.services.agents.list({ q: 'émile' }))).to.deep.equal(['émile']);
  });

  it('searches titles, file names and message content', async () => {
    expect(names(await ctx.services.conversations.list({ q: 'LISBON' }))).to.deep.equal(['Trip to Lisbon', 'lisbon again']);
    const chat = (await ctx.services.conversations.list({ q: 'trip' })).items[0];
    expect(names(await ctx.services.messages.list(chat.id, { q: 'hotel' }))).to.deep.equal(['Book the hotel in LISBON', 'Hotel booked']);
  });

  it('sorts by name case-insensitively, ascending or descending, and by timestamps', async () => {
    expect(names(await ctx.services.topics.list({ sort: 'name' }))).to.deep.equal(['apple', 'Banana', 'Cherry']);
    expect(names(await ctx.services.topics.list({ sort: '-name' }))).to.deep.equal(['Cherry', 'Banana', 'apple']);
    expect(names(await ctx.services.topics.list({ sort: '-created_at' }))).to.deep.equal(['Cherry', 'apple', 'Banana']);
    expect(names(await ctx.services.conversations.list({ sort: '-id', limit: '2' }))).to.deep.equal(['lisbon again', 'Groceries']);
    const byName = names(await ctx.services.agents.list({ sort: 'name' }));
    expect(byName.slice(0, 5)).to.deep.equal(['100% sure', 'sales helper', 'Support bot', 'SUPPORT desk', 'under_score']);
  });

  it('refuses an unknown sort naming the values it takes', async () => {
    const error = await ctx.services.agents.list({ sort: 'colour' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ValidationError);
    const issue = (error as ValidationError).issues[0];
    expect(issue.loc).to.deep.equal(['query', 'sort']);
    expect(issue.msg).to.include("'name'").and.include("'-updated_at'");
    const docs = await ctx.services.documents.list({ sort: 'title' }).catch((e: unknown) => e);
    expect((docs as ValidationError).issues[0].msg).to.include("'original_filename'");
  });
});

describe('REST lists: q, sort and X-Total-Count', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    for (let i = 1; i <= 12; i++) await server.api('/api/topics/', json('POST', { name: `Topic ${i} ${i % 3 === 0 ? 'fizz' : 'plain'}`, description: '' }));
  });
  after(async () => {
    await server.close();
  });

  it('counts after q and before paging', async () => {
    const res = await server.api('/api/topics/?q=FIZZ&limit=2&sort=-id');
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-total-count')).to.equal('4');
    expect((await (res.json() as any)).map((topic: { name: string }) => topic.name)).to.deep.equal(['Topic 12 fizz', 'Topic 9 fizz']);
  });

  it('answers 422 for an unknown sort', async () => {
    const res = await server.api('/api/documents/?sort=name');
    expect(res.status).to.equal(422);
    const body = await (res.json() as any);
    expect(body.detail[0].loc).to.deep.equal(['query', 'sort']);
    expect(body.detail[0].msg).to.include("'original_filename'");
  });
});
