import { expect } from 'chai';
import { formatTimestamp } from '../../src/cli/output.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, expectJsonError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { seed } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp.js';

describe('dana conversations', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  describe('create, get, list, update, delete', () => {
    it('walks a conversation through its life, printing the API shapes under --json', async () => {
      await seed(home, (ctx) => ctx.services.agents.create({ name: 'Researcher', description: '', config: {} }));
      const created = await dana(['conversations', 'create', '--title', 'Planning', '--agent', '1', '--json']);
      expect(created.code, created.stderr).to.equal(0);
      const conversation = created.json;
      expect(conversation).to.have.all.keys('id', 'title', 'agent_id', 'created_at', 'updated_at');
      expect(conversation).to.include({ id: 1, title: 'Planning', agent_id: 1 });
      const loose = (await dana(['conversations', 'create', '--title', 'Loose', '--json'])).json;
      expect(loose).to.include({ id: 2, agent_id: null });

      const [getJson, listJson, listHuman, ofAgent] = await Promise.all([
        dana(['conversations', 'get', '1', '--json']),
        dana(['conversations', 'list', '--json']),
        dana(['conversations', 'list']),
        dana(['conversations', 'list', '--agent', '1', '--json']),
      ]);
      expect(getJson.json).to.deep.equal({ ...conversation, messages: [] });
      expect(listJson.json).to.deep.equal([conversation, loose]);
      expect(parseTable(listHuman.stdout)).to.deep.equal([
        { ID: '1', TITLE: 'Planning', AGENT: '1', UPDATED: formatTimestamp(conversation.updated_at) },
        { ID: '2', TITLE: 'Loose', AGENT: '', UPDATED: formatTimestamp(loose.updated_at) },
      ]);
      expect(ofAgent.json).to.deep.equal([conversation]);

      const renamed = await dana(['conversations', 'update', '1', '--title', 'Q3 planning', '--json']);
      expect(renamed.code, renamed.stderr).to.equal(0);
      expect(renamed.json).to.include({ id: 1, title: 'Q3 planning', agent_id: 1, created_at: conversation.created_at });
      expect(Date.parse(renamed.json.updated_at)).to.be.greaterThan(Date.parse(conversation.updated_at));
      const detached = await dana(['conversations', 'update', '1', '--agent', 'none', '--json']);
      expect(detached.json).to.include({ title: 'Q3 planning', agent_id: null });

      const [deletedJson, deletedHuman] = await Promise.all([dana(['conversations', 'delete', '1', '--json']), dana(['conversations', 'delete', '2'])]);
      expect(deletedJson.json).to.deep.equal({ message: 'Conversation deleted successfully' });
      expect(deletedHuman.stdout).to.equal('message: Conversation deleted successfully\n');
      expect((await dana(['conversations', 'list', '--json'])).json).to.deep.equal([]);
    });

    it('shows a conversation with its messages, oldest first', async () => {
      await seed(home, async (ctx) => {
        const { id } = await ctx.services.conversations.create({ title: 'Chat' });
        for (const [sender, content] of [['user', 'hello'], ['agent', 'hi there']]) await ctx.services.messages.create(id, { sender, content });
      });
      const [json, human] = await Promise.all([dana(['conversations', 'get', '1', '--json']), dana(['conversations', 'get', '1'])]);
      expect(json.json.messages.map((message: { id: number; sender: string; content: string }) => [message.id, message.sender, message.content])).to.deep.equal([
        [1, 'user', 'hello'],
        [2, 'agent', 'hi there'],
      ]);
      const [record, ...transcript] = human.stdout.trimEnd().split('\n\n');
      expect(parseRecord(record)).to.include({ id: '1', title: 'Chat', messages: '2' });
      expect(transcript.map((entry) => entry.replace(/ \d{4}-\d\d-\d\d \d\d:\d\d$/m, ''))).to.deep.equal(['#1 user\n  hello', '#2 agent\n  hi there']);
    });

    it('deletes its messages with it', async () => {
      await seed(home, async (ctx) => {
        const { id } = await ctx.services.conversations.create({ title: 'Chat' });
        await ctx.services.messages.create(id, { sender: 'user', content: 'hello' });
      });
      expect((await dana(['conversations', 'delete', '1'])).code).to.equal(0);
      expectJsonError(await dana(['messages', 'get', '1', '--conversation', '1', '--json']), 3, 'Conversation not found');
    });
  });

  describe('errors', () => {
    it('exit 3 for an unknown id, with {"detail": "Conversation not found"} under --json', async () => {
      const commands = [['get', '4'], ['update', '4', '--title', 'x'], ['delete', '4']];
      const results = await Promise.all([
        ...commands.map((args) => dana(['conversations', ...args])),
        ...commands.map((args) => dana(['conversations', ...args, '--json'])),
      ]);
      for (const result of results.slice(0, 3)) expectCliError(result, 3, 'Conversation not found');
      for (const result of results.slice(3)) expectJsonError(result, 3, 'Conversation not found');
    });

    it('exit 2 for an agent that does not exist, naming agent_id, and nothing is created', async () => {
      const result = await dana(['conversations', 'create', '--title', 'x', '--agent', '9', '--json']);
      expectJsonError(result, 2);
      expect(result.json.detail[0].loc).to.deep.equal(['body', 'agent_id']);
      expect((await dana(['conversations', 'list', '--json'])).json).to.deep.equal([]);
    });

    it('exit 2 for a missing or too long title, a bad id and a bad --agent', async () => {
      await seed(home, (ctx) => ctx.services.conversations.create({ title: 'x' }));
      const results = await Promise.all([
        dana(['conversations', 'create']),
        dana(['conversations', 'create', '--title', 't'.repeat(201), '--json']),
        dana(['conversations', 'get', 'one']),
        dana(['conversations', 'update', '1', '--agent', 'abc', '--json']),
        dana(['conversations', 'update', '1', '--agent', '9', '--json']),
      ]);
      for (const result of results) expectCliError(result, 2);
      for (const result of [results[1], results[3], results[4]]) expect(result.json, result.stdout).to.have.all.keys('detail');
      expect((await dana(['conversations', 'get', '1', '--json'])).json).to.include({ title: 'x', agent_id: null });
    });
  });
});
