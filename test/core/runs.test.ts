import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { uploadBytes } from '../helpers/uploads.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/schemas.js';

describe('runs service', () => {
  let ctx: TestContext;
  let agentId: number;
  beforeEach(async () => {
    ctx = await openTestContext();
    agentId = (await ctx.services.agents.create({ name: 'Reader', description: '', config: {} })).id;
  });
  afterEach(async () => {
    await ctx.close();
  });

  it('queues a run with the Run shape, a queued status event, and lists it', async () => {
    const run = await ctx.services.runs.create(agentId, { input: '  Summarise  ' });
    expect(run).to.have.all.keys(
      'id', 'agent_id', 'status', 'input', 'topic_id', 'document_ids', 'each_document', 'total', 'done',
      'output', 'sources', 'error', 'attempts', 'created_at', 'started_at', 'finished_at', 'updated_at',
    );
    expect(run).to.include({ agent_id: agentId, status: 'queued', input: 'Summarise', topic_id: null, document_ids: null, each_document: false, total: 0, done: 0, attempts: 0 });
    expect(run.started_at).to.equal(null);
    expect(await ctx.services.runs.get(run.id)).to.deep.equal(run);
    const events = await ctx.services.runs.events(run.id);
    expect(events.map(({ type, data }) => ({ type, data }))).to.deep.equal([{ type: 'status', data: { status: 'queued' } }]);
    const page = await ctx.services.runs.list({ agent_id: String(agentId), status: 'queued' });
    expect(page.total).to.equal(1);
    expect(page.items[0]).to.deep.equal(run);
    expect((await ctx.services.runs.list({ status: 'running' })).total).to.equal(0);
    expect((await ctx.services.runs.results(run.id)).items).to.deep.equal([]);
  });

  it('refuses an unknown agent (404), bad bodies and references that name nothing (422 naming the field)', async () => {
    expect(await ctx.services.runs.create(999, { input: 'x' }).catch((e) => e)).to.be.instanceOf(NotFoundError).with.property('message', 'Agent not found');
    const other = (await ctx.services.agents.create({ name: 'Other', description: '', config: {} })).id;
    const foreign = await uploadBytes(ctx, 'Not mine.', 'foreign.txt', { agent_id: other });
    const cases: Array<[unknown, string]> = [
      [{}, 'body.input'],
      [{ input: '   ' }, 'body.input'],
      [{ input: 'x', colour: 'red' }, 'body.colour'],
      [{ input: 'x', topic_id: 77 }, 'body.topic_id'],
      [{ input: 'x', document_ids: [] }, 'body.document_ids'],
      [{ input: 'x', document_ids: [1, 1] }, 'body.document_ids'],
      [{ input: 'x', document_ids: [4242] }, 'body.document_ids'],
      [{ input: 'x', document_ids: [foreign.id] }, 'body.document_ids'],
      [{ input: 'x', each_document: 'yes' }, 'body.each_document'],
    ];
    for (const [body, loc] of cases) {
      const error = await ctx.services.runs.create(agentId, body).catch((e) => e);
      expect(error, JSON.stringify(body)).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).issues.map((issue) => issue.loc.join('.')), JSON.stringify(body)).to.include(loc);
    }
    expect((await ctx.services.runs.list()).total).to.equal(0);
  });

  it('cancels a queued run (409 once finished), deletes only finished runs, 404 for unknown ones', async () => {
    const run = await ctx.services.runs.create(agentId, { input: 'x' });
    expect(await ctx.services.runs.delete(run.id).catch((e) => e)).to.be.instanceOf(ConflictError);
    const cancelled = await ctx.services.runs.cancel(run.id);
    expect(cancelled.status).to.equal('cancelled');
    expect(cancelled.finished_at).to.be.a('string');
    expect(await ctx.services.runs.cancel(run.id).catch((e) => e)).to.be.instanceOf(ConflictError);
    const seen: RunEvent[] = [];
    for await (const event of ctx.services.runs.watch(run.id)) seen.push(event);
    expect(seen.map((event) => event.data)).to.deep.equal([{ status: 'queued' }, { status: 'cancelled' }]);
    expect(await ctx.services.runs.delete(run.id)).to.deep.equal({ message: 'Run deleted successfully' });
    for (const call of [() => ctx.services.runs.get(run.id), () => ctx.services.runs.cancel(run.id), () => ctx.services.runs.delete(run.id), () => ctx.services.runs.results(run.id), () => ctx.services.runs.events(run.id)]) {
      const error = await call().catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Run not found');
    }
  });

  it('watch replays after an event id and follows a change made meanwhile', async () => {
    const run = await ctx.services.runs.create(agentId, { input: 'x' });
    const [queued] = await ctx.services.runs.events(run.id);
    const seen: RunEvent[] = [];
    const following = (async () => {
      for await (const event of ctx.services.runs.watch(run.id, { afterId: queued.id })) seen.push(event);
    })();
    await ctx.services.runs.cancel(run.id);
    await following;
    expect(seen.map((event) => event.data)).to.deep.equal([{ status: 'cancelled' }]);
    expect(seen[0].id).to.be.greaterThan(queued.id);
  });
});
