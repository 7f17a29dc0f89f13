import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { danaIn as spawnedDanaIn, runDana } from '../helpers/cli.js';
import { danaIn, helpText, runDanaInProcess } from '../helpers/cli-in-process.js';
import { expectCliError } from '../helpers/cli-output.js';
import { testConfig } from '../helpers/context.js';
import { filesUnder, storedFiles, tempDir } from '../helpers/temp.js';
import { createContext } from '../../src/core/context.js';

const COMMANDS: Record<string, string[]> = {
  agents: ['list', 'get', 'create', 'update', 'delete'],
  topics: ['list', 'get', 'create', 'update', 'delete'],
  docs: ['list', 'get', 'upload', 'update', 'delete', 'download'],
  conversations: ['list', 'get', 'create', 'update', 'delete'],
  messages: ['list', 'get', 'create', 'update', 'delete'],
  db: ['status', 'migrate', 'check'],
};

describe('dana', () => {
  describe('help shows examples', () => {
    it('for dana itself', async () => {
      const result = await runDana(['--help']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain('EXAMPLES');
      for (const topic of Object.keys(COMMANDS)) expect(result.stdout).to.contain(topic);
    });

    it('for every topic', async () => {
      const topics = Object.keys(COMMANDS);
      const results = await Promise.all(topics.map((topic) => helpText([topic])));
      results.forEach((text, i) => {
        expect(text, topics[i]).to.contain('EXAMPLES');
        for (const command of COMMANDS[topics[i]]) expect(text, `${topics[i]} ${command}`).to.contain(`$ dana ${topics[i]} ${command}`);
      });
    });

    it('for every command', async () => {
      const commands = Object.entries(COMMANDS).flatMap(([topic, verbs]) => verbs.map((verb) => [topic, verb]));
      const results = await Promise.all(commands.map((command) => helpText(command)));
      results.forEach((text, i) => {
        const name = commands[i].join(' ');
        expect(text, name).to.contain('EXAMPLES');
        expect(text, name).to.contain(`$ dana ${name}`);
      });
    });
  });

  describe('usage errors', () => {
    it('an unknown command or topic command exits 2 with one line', async () => {
      const [unknown, unknownInTopic, unknownFlag] = await Promise.all([
        runDana(['frobnicate']),
        runDana(['agents', 'frobnicate']),
        runDanaInProcess(['agents', 'list', '--frobnicate']),
      ]);
      expectCliError(unknown, 2, /frobnicate/);
      expectCliError(unknownInTopic, 2, /dana agents --help/);
      expectCliError(unknownFlag, 2, /frobnicate/);
    });

    it('DEBUG adds the stack trace below the one-line error', async () => {
      const result = await runDanaInProcess(['agents', 'get', '9'], { env: { DANA_HOME: tempDir(), DEBUG: '1' } });
      expect(result.code).to.equal(3);
      expect(result.stderr.split('\n')[0]).to.equal('Error: Agent not found');
      expect(result.stderr).to.match(/^\s+at /m);
    });

    it('a bad setting exits 2 with one line naming it, without showing a password', async () => {
      const home = tempDir();
      const [maxUpload, databaseUrl] = await Promise.all([
        runDanaInProcess(['agents', 'list'], { env: { DANA_HOME: home, DANA_MAX_UPLOAD_MB: 'lots' } }),
        runDanaInProcess(['agents', 'list', '--json'], { env: { DANA_HOME: home, DANA_DATABASE_URL: 'mysql://root:hunter2@db/dana' } }),
      ]);
      expectCliError(maxUpload, 2, /DANA_MAX_UPLOAD_MB/);
      expectCliError(databaseUrl, 2, /DANA_DATABASE_URL/);
      expect(databaseUrl.stdout + databaseUrl.stderr).to.not.contain('hunter2');
      expect(databaseUrl.json).to.have.all.keys('detail');
    });
  });

  describe('where data is kept', () => {
    it('--data-dir creates local.db there, even when DANA_HOME is set', async () => {
      const home = tempDir();
      const dataDir = path.join(tempDir(), 'nested', 'data');
      const created = await runDanaInProcess(['agents', 'create', '--name', 'a', '--data-dir', dataDir], { env: { DANA_HOME: home } });
      expect(created.code, created.stderr).to.equal(0);
      expect(fs.existsSync(path.join(dataDir, 'local.db'))).to.equal(true);
      expect(fs.existsSync(path.join(home, 'local.db'))).to.equal(false);
      expect((await runDanaInProcess(['agents', 'list', '--json', '--data-dir', dataDir])).json).to.have.length(1);
    });

    // A process of its own: the home folder comes from HOME, which only a new process reads.
    it('defaults to ~/.dana', async () => {
      const fakeHome = tempDir();
      const env = { DANA_HOME: undefined, HOME: fakeHome };
      const created = await runDana(['agents', 'create', '--name', 'a'], { env });
      expect(created.code, created.stderr).to.equal(0);
      expect(fs.existsSync(path.join(fakeHome, '.dana', 'local.db'))).to.equal(true);
      expect((await runDana(['agents', 'list', '--json'], { env })).json).to.have.length(1);
    });

    it('honours DANA_DATABASE_URL as sqlite:////absolute/path.db', async () => {
      const home = tempDir();
      const file = path.join(tempDir(), 'db', 'custom.db');
      const dana = danaIn(home, { DANA_DATABASE_URL: `sqlite:///${file}` });
      expect((await dana(['agents', 'create', '--name', 'a'])).code).to.equal(0);
      expect(fs.existsSync(file)).to.equal(true);
      expect(fs.existsSync(path.join(home, 'local.db'))).to.equal(false);
      expect((await dana(['agents', 'list', '--json'])).json).to.have.length(1);
    });

    it('honours DANA_DATABASE_URL as a plain path', async () => {
      const home = tempDir();
      const file = path.join(tempDir(), 'plain.db');
      const dana = danaIn(home, { DANA_DATABASE_URL: file });
      expect((await dana(['agents', 'create', '--name', 'a'])).code).to.equal(0);
      expect(fs.existsSync(file)).to.equal(true);
      expect(fs.existsSync(path.join(home, 'local.db'))).to.equal(false);
    });

    it('reads DANA_DATABASE_URL sqlite:///relative.db against the working folder', async () => {
      const home = tempDir();
      const cwd = tempDir();
      const result = await runDana(['agents', 'create', '--name', 'a'], { cwd, env: { DANA_HOME: home, DANA_DATABASE_URL: 'sqlite:///rel/x.db' } });
      expect(result.code, result.stderr).to.equal(0);
      expect(fs.existsSync(path.join(cwd, 'rel', 'x.db'))).to.equal(true);
    });

    it('honours DANA_UPLOAD_DIR', async () => {
      const home = tempDir();
      const uploadDir = path.join(tempDir(), 'files');
      const source = path.join(tempDir(), 'a.txt');
      fs.writeFileSync(source, 'hello');
      const result = await danaIn(home, { DANA_UPLOAD_DIR: uploadDir })(['docs', 'upload', source, '--json']);
      expect(result.code, result.stderr).to.equal(0);
      const stored = storedFiles(uploadDir);
      expect(stored.map((file) => path.basename(file))).to.deep.equal([result.json.filename]);
      expect(fs.readFileSync(path.join(uploadDir, stored[0]), 'utf8')).to.equal('hello');
      expect(filesUnder(path.join(home, 'uploads'))).to.deep.equal([]);
    });

    it('is the same from any working folder, and nothing is written into it', async () => {
      const fakeHome = tempDir();
      const env = { DANA_HOME: undefined, HOME: fakeHome };
      const [first, second] = [tempDir(), tempDir()];
      const source = path.join(tempDir(), 'a.txt');
      fs.writeFileSync(source, 'x');
      expect((await runDana(['agents', 'create', '--name', 'a'], { cwd: first, env })).code).to.equal(0);
      expect((await runDana(['docs', 'upload', source], { cwd: second, env })).code).to.equal(0);
      const [agents, docs] = await Promise.all([
        runDana(['agents', 'list', '--json'], { cwd: second, env }),
        runDana(['docs', 'list', '--json'], { cwd: first, env }),
      ]);
      expect(agents.json).to.have.length(1);
      expect(docs.json).to.have.length(1);
      expect(fs.readdirSync(first)).to.deep.equal([]);
      expect(fs.readdirSync(second)).to.deep.equal([]);
    });
  });

  describe('sharing one database', () => {
    it('several processes started at once on a new data folder all succeed', async () => {
      const dana = spawnedDanaIn(tempDir());
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((name) => dana(['agents', 'create', '--name', name, '--json'])));
      for (const result of results) expect(result.code, result.stderr).to.equal(0);
      expect(new Set(results.map((result) => result.json.id)).size).to.equal(4);
      expect((await dana(['agents', 'list', '--json'])).json).to.have.length(4);
    });

    it('the CLI and a running core write at the same time without errors', async () => {
      const home = tempDir();
      const ctx = await createContext(testConfig(home));
      try {
        const conversation = await ctx.services.conversations.create({ title: 'shared' });
        const dana = spawnedDanaIn(home);
        const cli = Array.from({ length: 4 }, (_, i) =>
          dana(['messages', 'create', '--conversation', String(conversation.id), '--sender', 'cli', '--content', String(i)]),
        );
        const core = Array.from({ length: 20 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 20));
          return ctx.services.messages.create(conversation.id, { sender: 'core', content: String(i) });
        });
        const [cliResults] = await Promise.all([Promise.all(cli), Promise.all(core)]);
        for (const result of cliResults) expect(result.code, result.stderr).to.equal(0);
        expect((await ctx.services.messages.list(conversation.id)).total).to.equal(24);
      } finally {
        await ctx.close();
      }
    });
  });
});
