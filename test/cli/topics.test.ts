import { expect } from 'chai';
import { formatTimestamp } from '../../src/cli/output.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, expectJsonError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { seed } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp.js';

describe('dana topics', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  describe('create, get, list, update, delete', () => {
    it('walks a topic through its life, printing the API shapes under --json', async () => {
      const created = await dana(['topics', 'create', '--name', ' Research Papers ', '--description', 'Academic papers', '--json']);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stderr).to.equal('');
      const topic = created.json;
      expect(topic).to.have.all.keys('id', 'name', 'description', 'created_at', 'updated_at');
      expect(topic).to.include({ id: 1, name: 'Research Papers', description: 'Academic papers' });
      const other = (await dana(['topics', 'create', '--name', 'Notes', '--json'])).json;
      expect(other).to.include({ id: 2, name: 'Notes', description: '' });

      const [getJson, getHuman, listJson, listHuman] = await Promise.all([
        dana(['topics', 'get', '1', '--json']),
        dana(['topics', 'get', '1']),
        dana(['topics', 'list', '--json']),
        dana(['topics', 'list']),
      ]);
      expect(getJson.json).to.deep.equal(topic);
      expect(parseRecord(getHuman.stdout)).to.deep.equal({
        id: '1',
        name: 'Research Papers',
        description: 'Academic papers',
        created_at: topic.created_at,
        updated_at: topic.updated_at,
      });
      expect(listJson.json).to.deep.equal([topic, other]);
      expect(parseTable(listHuman.stdout)).to.deep.equal([
        { ID: '1', NAME: 'Research Papers', DESCRIPTION: 'Academic papers', UPDATED: formatTimestamp(topic.updated_at) },
        { ID: '2', NAME: 'Notes', DESCRIPTION: '', UPDATED: formatTimestamp(other.updated_at) },
      ]);

      const updated = await dana(['topics', 'update', '1', '--description', 'Papers from 2024 on', '--json']);
      expect(updated.code, updated.stderr).to.equal(0);
      expect(updated.json).to.include({ id: 1, name: 'Research Papers', description: 'Papers from 2024 on', created_at: topic.created_at });
      expect(Date.parse(updated.json.updated_at)).to.be.greaterThan(Date.parse(topic.updated_at));

      const [deletedJson, deletedHuman] = await Promise.all([dana(['topics', 'delete', '1', '--json']), dana(['topics', 'delete', '2'])]);
      expect(deletedJson.json).to.deep.equal({ message: 'Topic deleted successfully' });
      expect(deletedHuman.stdout).to.equal('message: Topic deleted successfully\n');
      expect((await dana(['topics', 'list', '--json'])).json).to.deep.equal([]);
    });
  });

  describe('unique names', () => {
    it('refuses a duplicate name with exit 4 and {"detail": "Topic \'X\' already exists"}', async () => {
      await seed(home, (ctx) => ctx.services.topics.create({ name: 'X', description: '' }));
      const [human, json] = await Promise.all([
        dana(['topics', 'create', '--name', 'X']),
        dana(['topics', 'create', '--name', 'X', '--json']),
      ]);
      expectCliError(human, 4, "Topic 'X' already exists");
      expectJsonError(json, 4, "Topic 'X' already exists");
      expect((await dana(['topics', 'list', '--json'])).json).to.have.length(1);
    });

    it('refuses a rename onto an existing name with exit 4 and keeps the old name', async () => {
      await seed(home, async (ctx) => {
        await ctx.services.topics.create({ name: 'X', description: '' });
        await ctx.services.topics.create({ name: 'Y', description: '' });
      });
      expectJsonError(await dana(['topics', 'update', '2', '--name', 'X', '--json']), 4, "Topic 'X' already exists");
      expect((await dana(['topics', 'get', '2', '--json'])).json).to.include({ name: 'Y' });
    });
  });

  describe('errors', () => {
    it('exit 3 for an unknown id, with {"detail": "Topic not found"} under --json', async () => {
      const commands = [['get', '7'], ['update', '7', '--name', 'x'], ['delete', '7']];
      const results = await Promise.all([
        ...commands.map((args) => dana(['topics', ...args])),
        ...commands.map((args) => dana(['topics', ...args, '--json'])),
      ]);
      for (const result of results.slice(0, 3)) expectCliError(result, 3, 'Topic not found');
      for (const result of results.slice(3)) expectJsonError(result, 3, 'Topic not found');
    });

    it('exit 2 for an id that is not an integer, a missing --name and an empty update', async () => {
      await seed(home, (ctx) => ctx.services.topics.create({ name: 'a', description: '' }));
      const results = await Promise.all([
        dana(['topics', 'get', 'first']),
        dana(['topics', 'create', '--json']),
        dana(['topics', 'update', '1', '--json']),
        dana(['topics', 'create', '--name', 'n'.repeat(201), '--json']),
      ]);
      for (const result of results) expectCliError(result, 2);
      for (const result of results.slice(1)) expect(result.json, result.stdout).to.have.all.keys('detail');
    });
  });
});
