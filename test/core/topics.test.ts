import { expect } from 'chai';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { downloadBytes, uploadBytes } from '../helpers/uploads.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.js';

describe('topics service', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  describe('create', () => {
    it('stores the name trimmed and returns the Topic shape', async () => {
      const topic = await ctx.services.topics.create({ name: '  Research Papers ', description: 'Academic papers' });
      expect(topic).to.have.all.keys('id', 'name', 'description', 'created_at', 'updated_at');
      expect(topic).to.include({ name: 'Research Papers', description: 'Academic papers' });
      expect(topic.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(await ctx.services.topics.get(topic.id)).to.deep.equal(topic);
    });

    it('refuses missing, blank, too long and mistyped fields with body locations', async () => {
      const cases: Array<[unknown, string[]]> = [
        [{ description: '' }, ['body.name']],
        [{ name: '   ', description: '' }, ['body.name']],
        [{ name: 'n'.repeat(201), description: '' }, ['body.name']],
        [{ name: 5, description: 5 }, ['body.name', 'body.description']],
        [{ name: 'ok', description: '', colour: 'red' }, ['body.colour']],
      ];
      for (const [input, locs] of cases) {
        const error = await ctx.services.topics.create(input).catch((e) => e);
        expect(error, JSON.stringify(input)).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).issues.map((issue) => issue.loc.join('.'))).to.have.members(locs);
      }
      expect((await ctx.services.topics.list()).total).to.equal(0);
    });
  });

  describe('unique names', () => {
    it('refuses a second topic with the same name', async () => {
      await ctx.services.topics.create({ name: 'X', description: '' });
      const error = await ctx.services.topics.create({ name: 'X', description: 'again' }).catch((e) => e);
      expect(error).to.be.instanceOf(ConflictError).with.property('message', "Topic 'X' already exists");
      expect((await ctx.services.topics.list()).total).to.equal(1);
    });

    it('compares names after trimming', async () => {
      await ctx.services.topics.create({ name: 'X', description: '' });
      const error = await ctx.services.topics.create({ name: '  X  ', description: '' }).catch((e) => e);
      expect(error).to.be.instanceOf(ConflictError).with.property('message', "Topic 'X' already exists");
    });

    it('refuses a rename onto an existing name and keeps the old name', async () => {
      await ctx.services.topics.create({ name: 'X', description: '' });
      const other = await ctx.services.topics.create({ name: 'Y', description: '' });
      const error = await ctx.services.topics.update(other.id, { name: 'X' }).catch((e) => e);
      expect(error).to.be.instanceOf(ConflictError).with.property('message', "Topic 'X' already exists");
      expect(await ctx.services.topics.get(other.id)).to.deep.equal(other);
    });

    it('lets a topic keep its own name', async () => {
      const topic = await ctx.services.topics.create({ name: 'X', description: '' });
      expect(await ctx.services.topics.update(topic.id, { name: 'X', description: 'new' })).to.include({ name: 'X', description: 'new' });
    });
  });

  describe('get', () => {
    it('is not found for an unknown id', async () => {
      const error = await ctx.services.topics.get(999).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Topic not found');
    });
  });

  describe('list', () => {
    it('returns topics in ascending id order with the total', async () => {
      for (const name of ['c', 'a', 'b']) await ctx.services.topics.create({ name, description: '' });
      const page = await ctx.services.topics.list();
      expect(page.total).to.equal(3);
      expect(page.items.map((topic) => topic.name)).to.deep.equal(['c', 'a', 'b']);
      const second = await ctx.services.topics.list({ skip: 1, limit: 1 });
      expect(second.total).to.equal(3);
      expect(second.items.map((topic) => topic.name)).to.deep.equal(['a']);
    });
  });

  describe('update', () => {
    it('changes only the given fields, trims the name and advances updated_at', async () => {
      const topic = await ctx.services.topics.create({ name: 'a', description: 'keep' });
      const updated = await ctx.services.topics.update(topic.id, { name: '  b ' });
      expect(updated).to.include({ id: topic.id, name: 'b', description: 'keep', created_at: topic.created_at });
      expect(Date.parse(updated.updated_at)).to.be.greaterThan(Date.parse(topic.updated_at));
      expect(await ctx.services.topics.get(topic.id)).to.deep.equal(updated);
    });

    it('advances updated_at even when the values given are the same', async () => {
      const topic = await ctx.services.topics.create({ name: 'a', description: 'd' });
      const updated = await ctx.services.topics.update(topic.id, { name: 'a', description: 'd' });
      expect(Date.parse(updated.updated_at)).to.be.greaterThan(Date.parse(topic.updated_at));
    });

    it('needs at least one known field', async () => {
      const topic = await ctx.services.topics.create({ name: 'a', description: '' });
      expect(await ctx.services.topics.update(topic.id, {}).catch((e) => e)).to.be.instanceOf(ValidationError);
      const error = await ctx.services.topics.update(topic.id, { colour: 'red' }).catch((e) => e);
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).issues.map((issue) => issue.loc.join('.'))).to.include('body.colour');
    });

    it('is not found for an unknown id', async () => {
      const error = await ctx.services.topics.update(999, { name: 'x' }).catch((e) => e);
      expect(error).to.be.instanceOf(NotFoundError).with.property('message', 'Topic not found');
    });
  });

  describe('delete', () => {
    it('removes the topic', async () => {
      const topic = await ctx.services.topics.create({ name: 'a', description: '' });
      expect(await ctx.services.topics.delete(topic.id)).to.deep.equal({ message: 'Topic deleted successfully' });
      expect(await ctx.services.topics.get(topic.id).catch((e) => e)).to.be.instanceOf(NotFoundError);
      const again = await ctx.services.topics.delete(topic.id).catch((e) => e);
      expect(again).to.be.instanceOf(NotFoundError).with.property('message', 'Topic not found');
    });

    it('keeps the topic\'s documents, with topic_id null', async () => {
      const topic = await ctx.services.topics.create({ name: 'a', description: '' });
      const document = await uploadBytes(ctx, 'kept', 'notes.txt', { topic_id: topic.id });
      expect(document.topic_id).to.equal(topic.id);
      await ctx.services.topics.delete(topic.id);
      const kept = await ctx.services.documents.get(document.id);
      expect(kept).to.include({ id: document.id, topic_id: null, original_filename: 'notes.txt' });
      expect((await downloadBytes(ctx, document.id)).bytes.toString()).to.equal('kept');
    });

    it('can then be re-created under the same name', async () => {
      const topic = await ctx.services.topics.create({ name: 'a', description: '' });
      await ctx.services.topics.delete(topic.id);
      expect(await ctx.services.topics.create({ name: 'a', description: '' })).to.include({ name: 'a' });
    });
  });
});
