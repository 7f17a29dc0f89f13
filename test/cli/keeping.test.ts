import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { danaIn } from '../helpers/cli-in-process.js';
import { parseTable } from '../helpers/cli-output.js';
import { seed } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp.js';
import { uploadBytes } from '../helpers/uploads.js';

describe('dana: finding, exporting and keeping data', function () {
  this.timeout(120_000);
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  describe('list flags', () => {
    beforeEach(async () => {
      await seed(home, async (ctx) => {
        for (let i = 1; i <= 133; i++) await ctx.services.topics.create({ name: `Topic ${String(i).padStart(3, '0')}${i % 10 === 0 ? ' tenth' : ''}`, description: '' });
      });
    });

    it('on a terminal, says when a table is not the whole list', async () => {
      const shown = await dana(['topics', 'list'], { tty: { stdout: true, stderr: true } });
      expect(shown.code, shown.stderr).to.equal(0);
      expect(parseTable(shown.stdout)).to.have.length(100);
      expect(shown.stderr).to.equal('Showing 100 of 133. Use --all or --skip.\n');
      // Never with --json, never off a terminal, never when the table is the whole list.
      expect((await dana(['topics', 'list', '--json'], { tty: { stdout: true, stderr: true } })).stderr).to.equal('');
      expect((await dana(['topics', 'list'])).stderr).to.equal('');
      expect((await dana(['topics', 'list', '--search', 'TENTH'], { tty: { stdout: true, stderr: true } })).stderr).to.equal('');
    });

    it('--all shows every page, --search filters, --sort orders', async () => {
      const all = await dana(['topics', 'list', '--all', '--json']);
      expect(all.json).to.have.length(133);
      expect(all.json.map((topic: { id: number }) => topic.id)).to.deep.equal(Array.from({ length: 133 }, (_, i) => i + 1));
      const tenth = await dana(['topics', 'list', '--search', 'tenth', '--sort', '-name', '--json']);
      expect(tenth.json.map((topic: { name: string }) => topic.name).slice(0, 2)).to.deep.equal(['Topic 130 tenth', 'Topic 120 tenth']);
      expect(tenth.json).to.have.length(13);
      const bad = await dana(['topics', 'list', '--sort', 'size']);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.match(/^Error: --sort: Input should be 'id', 'created_at'/);
    });

    it('every list command takes --search, --sort and --all', async () => {
      for (const command of [['agents', 'list'], ['topics', 'list'], ['docs', 'list'], ['conversations', 'list']]) {
        const result = await dana([...command, '--search', 'x', '--sort', '-id', '--all', '--json']);
        expect(result.code, `${command.join(' ')}: ${result.stderr}`).to.equal(0);
      }
    });
  });

  describe('search', () => {
    it('prints matches as a table with escaped snippets, and as JSON', async () => {
      await seed(home, async (ctx) => {
        const conversation = await ctx.services.conversations.create({ title: 'Trip' });
        await ctx.services.messages.create(conversation.id, { sender: 'user', content: 'Book the ferry \u001b[2J to Naxos' });
        await uploadBytes(ctx, 'Ferry timetables for the Cyclades.', 'ferries.txt');
      });
      const human = await dana(['search', 'ferry']);
      expect(human.code, human.stderr).to.equal(0);
      const rows = parseTable(human.stdout);
      expect(rows.map((row) => row.KIND).sort()).to.deep.equal(['document', 'message']);
      expect(human.stdout).to.include('\\x1b[2J').and.not.include('\u001b');
      const json = await dana(['search', 'ferry', '--kind', 'messages', '--json']);
      expect(json.json).to.have.length(1);
      expect(json.json[0]).to.include({ kind: 'message', conversation_id: 1, message_id: 1, document_id: null, title: 'Trip' });
      expect(json.json[0].snippet).to.include('\u001b[2J');
    });
  });

  describe('conversations export, import, fork', () => {
    it('round-trips a conversation through a JSON file and forks it', async () => {
      await seed(home, async (ctx) => {
        const conversation = await ctx.services.conversations.create({ title: 'Plans' });
        for (const content of ['one', 'two', 'three']) await ctx.services.messages.create(conversation.id, { sender: 'user', content });
      });
      const file = path.join(tempDir(), 'plans.json');
      const exported = await dana(['conversations', 'export', '1', '-o', file]);
      expect(exported.code, exported.stderr).to.equal(0);
      const data = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(data.messages.map((m: { content: string }) => m.content)).to.deep.equal(['one', 'two', 'three']);

      const markdown = await dana(['conversations', 'export', '1', '--format', 'md']);
      expect(markdown.stdout).to.match(/^# Plans\n/);
      expect(markdown.stdout).to.include('## user · ');

      const imported = await dana(['conversations', 'import', file, '--json']);
      expect(imported.code, imported.stderr).to.equal(0);
      expect(imported.json).to.include({ id: 2, title: 'Plans' });
      const copied = (await dana(['messages', 'list', '--conversation', '2', '--json'])).json;
      expect(copied.map((m: { content: string; created_at: string }) => [m.content, m.created_at])).to.deep.equal(
        data.messages.map((m: { content: string; created_at: string }) => [m.content, m.created_at]),
      );

      const elsewhere = await danaIn(tempDir())(['conversations', 'import', file, '--agent', 'none', '--json']);
      expect(elsewhere.json).to.include({ id: 1, agent_id: null });
      const missingAgent = await dana(['conversations', 'import', file, '--agent', '9']);
      expect(missingAgent.code).to.equal(2);
      expect(missingAgent.stderr).to.equal('Error: --agent: Agent 9 does not exist\n');

      const fork = await dana(['conversations', 'fork', '1', '--at', '2', '--json']);
      expect(fork.code, fork.stderr).to.equal(0);
      expect(fork.json.title).to.equal('Plans (fork)');
      expect((await dana(['messages', 'list', '--conversation', String(fork.json.id), '--json'])).json.map((m: { content: string }) => m.content)).to.deep.equal(['one', 'two']);
      const foreign = await dana(['conversations', 'fork', '1', '--at', '4']);
      expect(foreign.code).to.equal(2);
      expect(foreign.stderr).to.equal('Error: --at: Message 4 is not in conversation 1\n');

      fs.writeFileSync(file, '{"title": "x", "messages": [{"sender": "user"}]}');
      const invalid = await dana(['conversations', 'import', file]);
      expect(invalid.code).to.equal(2);
      expect(invalid.stderr).to.match(/messages\.0: Field required|content/);
      expect((await dana(['conversations', 'list', '--json'])).json).to.have.length(3);
    });
  });

  describe('agents export and apply', () => {
    it('writes YAML or JSON and applies a file idempotently', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'support.yaml');
      fs.writeFileSync(file, 'name: Support\ndescription: Answers customers\nconfig:\n  provider: local\n  temperature: 0.2\n');
      const created = await dana(['agents', 'apply', '-f', file]);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stdout).to.equal('created\n');
      expect((await dana(['agents', 'apply', '-f', file])).stdout).to.equal('unchanged\n');
      fs.writeFileSync(file, 'name: Support\ndescription: Answers customers kindly\nconfig:\n  provider: local\n  temperature: 0.2\n');
      const updated = await dana(['agents', 'apply', '-f', file, '--json']);
      expect(updated.json).to.include({ id: 1, name: 'Support', description: 'Answers customers kindly', action: 'updated' });

      const yamlOut = path.join(dir, 'out.yml');
      expect((await dana(['agents', 'export', '1', '-o', yamlOut])).code).to.equal(0);
      expect(parseYaml(fs.readFileSync(yamlOut, 'utf8'))).to.deep.equal({ name: 'Support', description: 'Answers customers kindly', config: { provider: 'local', temperature: 0.2 } });
      const jsonOut = await dana(['agents', 'export', '1']);
      expect(JSON.parse(jsonOut.stdout)).to.deep.equal({ name: 'Support', description: 'Answers customers kindly', config: { provider: 'local', temperature: 0.2 } });
      // Applied into another data folder, the exported file creates the same agent.
      const other = danaIn(tempDir());
      expect((await other(['agents', 'apply', '-f', yamlOut])).stdout).to.equal('created\n');

      fs.writeFileSync(file, 'name: Support\nconfig:\n  temperature: 9\n');
      const invalid = await dana(['agents', 'apply', '-f', file]);
      expect(invalid.code).to.equal(2);
      expect(invalid.stderr).to.include('temperature');
      fs.writeFileSync(file, 'name: [unclosed\n');
      expect((await dana(['agents', 'apply', '-f', file])).code).to.equal(2);
    });
  });

  describe('backup and restore', () => {
    it('backs up a data folder and restores it into an empty one; a non-empty one needs --force', async () => {
      await seed(home, async (ctx) => {
        await ctx.services.agents.create({ name: 'Keeper', description: '', config: {} });
        await uploadBytes(ctx, 'kept bytes', 'kept.txt');
      });
      const archive = path.join(tempDir(), 'dana.tar.gz');
      const backup = await dana(['backup', archive, '--json']);
      expect(backup.code, backup.stderr).to.equal(0);
      expect(backup.json.rows).to.include({ agents: 1, documents: 1 });
      expect(backup.json.files).to.equal(1);

      const target = tempDir();
      const restored = await danaIn(target)(['restore', archive]);
      expect(restored.code, restored.stderr).to.equal(0);
      expect(restored.stdout).to.match(/^Restored \d+ rows and 1 files into /);
      const check = await danaIn(target)(['db', 'check', '--json']);
      expect(check.code, check.stdout).to.equal(0);
      expect((await danaIn(target)(['docs', 'download', '1', '-o', '-'])).stdout).to.equal('kept bytes');

      const again = await danaIn(target)(['restore', archive]);
      expect(again.code).to.equal(4);
      expect(again.stderr).to.match(/^Error: The target is not empty .*--force/);
      expect((await danaIn(target)(['restore', archive, '--force'])).code).to.equal(0);
    });
  });
});
