import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { formatTimestamp } from '../../src/cli/output.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, expectJsonError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { seed } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp.js';

describe('dana agents', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  describe('create, get, list, update, delete', () => {
    it('walks an agent through its life, printing the API shapes under --json', async () => {
      const created = await dana(['agents', 'create', '--name', '  Researcher ', '--description', 'Reads papers', '--config', '{"model":"x","n":[1,2]}', '--json']);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stderr).to.equal('Warning: config key "n" is not read by Dana (stored as given)\n');
      const agent = created.json;
      expect(agent).to.have.all.keys('id', 'name', 'description', 'config', 'created_at', 'updated_at');
      expect(agent).to.include({ id: 1, name: 'Researcher', description: 'Reads papers' });
      expect(agent.config).to.deep.equal({ model: 'x', n: [1, 2] });

      const writer = (await dana(['agents', 'create', '--name', 'Writer', '--json'])).json;
      expect(writer).to.include({ id: 2, name: 'Writer', description: '' });
      expect(writer.config).to.deep.equal({});

      const [getJson, getHuman, listJson, listHuman] = await Promise.all([
        dana(['agents', 'get', '1', '--json']),
        dana(['agents', 'get', '1']),
        dana(['agents', 'list', '--json']),
        dana(['agents', 'list']),
      ]);
      expect(getJson.json).to.deep.equal(agent);
      expect(parseRecord(getHuman.stdout)).to.deep.equal({
        id: '1',
        name: 'Researcher',
        description: 'Reads papers',
        config: '{"model":"x","n":[1,2]}',
        created_at: agent.created_at,
        updated_at: agent.updated_at,
      });
      expect(listJson.json).to.deep.equal([agent, writer]);
      expect(parseTable(listHuman.stdout)).to.deep.equal([
        { ID: '1', NAME: 'Researcher', DESCRIPTION: 'Reads papers', UPDATED: formatTimestamp(agent.updated_at) },
        { ID: '2', NAME: 'Writer', DESCRIPTION: '', UPDATED: formatTimestamp(writer.updated_at) },
      ]);

      const updated = await dana(['agents', 'update', '1', '--name', 'Senior Researcher', '--json']);
      expect(updated.code, updated.stderr).to.equal(0);
      expect(updated.json).to.include({ id: 1, name: 'Senior Researcher', description: 'Reads papers', created_at: agent.created_at });
      expect(updated.json.config).to.deep.equal(agent.config);
      expect(Date.parse(updated.json.updated_at)).to.be.greaterThan(Date.parse(agent.updated_at));

      const [deletedJson, deletedHuman] = await Promise.all([dana(['agents', 'delete', '1', '--json']), dana(['agents', 'delete', '2'])]);
      expect(deletedJson.json).to.deep.equal({ message: 'Agent deleted successfully' });
      expect(deletedHuman.stdout).to.equal('message: Agent deleted successfully\n');
      expect((await dana(['agents', 'list', '--json'])).json).to.deep.equal([]);
    });

    it('prints only the header for an empty list, and [] under --json', async () => {
      const [human, json] = await Promise.all([dana(['agents', 'list']), dana(['agents', 'list', '--json'])]);
      expect(human.code).to.equal(0);
      expect(parseTable(human.stdout)).to.deep.equal([]);
      expect(human.stdout.split(/\s+/).filter(Boolean)).to.include.members(['ID', 'NAME']);
      expect(json.json).to.deep.equal([]);
    });

    it('pages with --skip and --limit', async () => {
      await seed(home, async (ctx) => {
        for (const name of ['a', 'b', 'c']) await ctx.services.agents.create({ name, description: '', config: {} });
      });
      const page = await dana(['agents', 'list', '--skip', '1', '--limit', '1', '--json']);
      expect(page.json.map((agent: { name: string }) => agent.name)).to.deep.equal(['b']);
      expectJsonError(await dana(['agents', 'list', '--limit', '0', '--json']), 2);
    });
  });

  describe('config from --config-file', () => {
    it('creates and updates an agent from JSON files', async () => {
      const dir = tempDir();
      expect((await dana(['topics', 'create', '--name', 'papers'])).code).to.equal(0);
      fs.writeFileSync(path.join(dir, 'a.json'), '{"provider":"local","topic_ids":[1]}');
      fs.writeFileSync(path.join(dir, 'b.json'), '{"provider":"openai","model":"m"}');
      const created = await dana(['agents', 'create', '--name', 'a', '--config-file', path.join(dir, 'a.json'), '--json']);
      expect(created.json.config).to.deep.equal({ provider: 'local', topic_ids: [1] });
      const updated = await dana(['agents', 'update', '1', '--config-file', path.join(dir, 'b.json'), '--json']);
      expect(updated.json.config).to.deep.equal({ provider: 'openai', model: 'm' });
    });

    it('refuses a file that does not exist with exit 2', async () => {
      expectCliError(await dana(['agents', 'create', '--name', 'a', '--config-file', path.join(home, 'missing.json')]), 2, /missing\.json/);
      expect((await dana(['agents', 'list', '--json'])).json).to.deep.equal([]);
    });

    it('refuses --config and --config-file together with exit 2', async () => {
      const file = path.join(home, 'c.json');
      fs.writeFileSync(file, '{}');
      expectCliError(await dana(['agents', 'create', '--name', 'a', '--config', '{}', '--config-file', file]), 2);
    });
  });

  describe('refuses bad input with exit 2', () => {
    it('refuses --config that is not JSON, creating nothing', async () => {
      const [human, json] = await Promise.all([
        dana(['agents', 'create', '--name', 'a', '--config', '{bad']),
        dana(['agents', 'create', '--name', 'a', '--config', '{bad', '--json']),
      ]);
      expectCliError(human, 2, /--config/);
      expectJsonError(json, 2);
      expect((await dana(['agents', 'list', '--json'])).json).to.deep.equal([]);
    });

    it('refuses --config \'[1]\' with the API\'s validation detail under --json', async () => {
      const result = await dana(['agents', 'create', '--name', 'a', '--config', '[1]', '--json']);
      expectJsonError(result, 2);
      expect(result.json.detail).to.be.an('array').with.length(1);
      expect(result.json.detail[0]).to.include.keys('loc', 'msg', 'type');
      expect(result.json.detail[0].loc).to.deep.equal(['body', 'config']);
    });

    it('refuses a missing --name, a blank name and an update with nothing to change', async () => {
      await seed(home, (ctx) => ctx.services.agents.create({ name: 'a', description: '', config: {} }));
      const results = await Promise.all([
        dana(['agents', 'create']),
        dana(['agents', 'create', '--name', '   ']),
        dana(['agents', 'update', '1', '--json']),
      ]);
      for (const result of results) expectCliError(result, 2);
      expect(results[2].json).to.have.all.keys('detail');
    });

    it('refuses ids that are not positive integers', async () => {
      const results = await Promise.all([
        dana(['agents', 'get', 'abc']),
        dana(['agents', 'get', '1.5', '--json']),
        dana(['agents', 'delete', '0']),
        dana(['agents', 'update', 'x', '--name', 'n', '--json']),
      ]);
      for (const result of results) expectCliError(result, 2);
      expect(results[1].json).to.have.all.keys('detail');
      expect(results[3].json).to.have.all.keys('detail');
    });
  });

  describe('unknown ids', () => {
    it('exit 3 with one line on stderr, and {"detail": "Agent not found"} under --json', async () => {
      const commands = [['get', '999'], ['update', '999', '--name', 'x'], ['delete', '999']];
      const human = await Promise.all(commands.map((args) => dana(['agents', ...args])));
      const json = await Promise.all(commands.map((args) => dana(['agents', ...args, '--json'])));
      for (const result of human) {
        expectCliError(result, 3, 'Agent not found');
        expect(result.stdout).to.equal('');
      }
      for (const result of json) expectJsonError(result, 3, 'Agent not found');
    });
  });
});
