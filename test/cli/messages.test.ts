import { expect } from 'chai';
import { formatTimestamp } from '../../src/cli/output.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, expectJsonError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { seed } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp.js';

describe('dana messages', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(async () => {
    home = tempDir();
    dana = danaIn(home);
    await seed(home, (ctx) => ctx.services.conversations.create({ title: 'Chat' }));
  });

  describe('create, get, list, update, delete', () => {
    it('walks a message through its life in its conversation, printing the API shapes under --json', async () => {
      const created = await dana(['messages', 'create', '--conversation', '1', '--sender', 'user', '--content', 'hello there', '--json']);
      expect(created.code, created.stderr).to.equal(0);
      const message = created.json;
      expect(message).to.have.all.keys('id', 'conversation_id', 'sender', 'content', 'sources', 'created_at', 'updated_at');
      expect(message).to.include({ id: 1, conversation_id: 1, sender: 'user', content: 'hello there' });
      const reply = (await dana(['messages', 'create', '--conversation', '1', '--sender', 'agent', '--content', 'hi', '--json'])).json;

      const [getJson, getHuman, listJson, listHuman, conversation] = await Promise.all([
        dana(['messages', 'get', '1', '--conversation', '1', '--json']),
        dana(['messages', 'get', '1', '--conversation', '1']),
        dana(['messages', 'list', '--conversation', '1', '--json']),
        dana(['messages', 'list', '--conversation', '1']),
        dana(['conversations', 'get', '1', '--json']),
      ]);
      expect(getJson.json).to.deep.equal(message);
      expect(parseRecord(getHuman.stdout)).to.deep.equal({
        id: '1',
        conversation_id: '1',
        sender: 'user',
        content: 'hello there',
        sources: '',
        created_at: message.created_at,
        updated_at: message.updated_at,
      });
      expect(listJson.json).to.deep.equal([message, reply]);
      expect(parseTable(listHuman.stdout)).to.deep.equal([
        { ID: '1', SENDER: 'user', CONTENT: 'hello there', CREATED: formatTimestamp(message.created_at) },
        { ID: '2', SENDER: 'agent', CONTENT: 'hi', CREATED: formatTimestamp(reply.created_at) },
      ]);
      expect(Date.parse(conversation.json.updated_at)).to.be.at.least(Date.parse(reply.created_at));

      const updated = await dana(['messages', 'update', '1', '--conversation', '1', '--content', 'hello', '--json']);
      expect(updated.code, updated.stderr).to.equal(0);
      expect(updated.json).to.include({ id: 1, sender: 'user', content: 'hello', created_at: message.created_at });
      expect(Date.parse(updated.json.updated_at)).to.be.greaterThan(Date.parse(message.updated_at));

      const [deletedJson, deletedHuman] = await Promise.all([
        dana(['messages', 'delete', '1', '--conversation', '1', '--json']),
        dana(['messages', 'delete', '2', '--conversation', '1']),
      ]);
      expect(deletedJson.json).to.deep.equal({ message: 'Message deleted successfully' });
      expect(deletedHuman.stdout).to.equal('message: Message deleted successfully\n');
      expect((await dana(['messages', 'list', '--conversation', '1', '--json'])).json).to.deep.equal([]);
    });
  });

  describe('errors', () => {
    it('exit 3 with "Conversation not found" for a conversation that does not exist', async () => {
      const results = await Promise.all([
        dana(['messages', 'list', '--conversation', '8', '--json']),
        dana(['messages', 'create', '--conversation', '8', '--sender', 'user', '--content', 'x', '--json']),
        dana(['messages', 'get', '1', '--conversation', '8', '--json']),
        dana(['messages', 'update', '1', '--conversation', '8', '--content', 'x', '--json']),
        dana(['messages', 'delete', '1', '--conversation', '8', '--json']),
        dana(['messages', 'list', '--conversation', '8']),
      ]);
      for (const result of results.slice(0, 5)) expectJsonError(result, 3, 'Conversation not found');
      expectCliError(results[5], 3, 'Conversation not found');
    });

    it('exit 3 with "Message not found" for a message of another conversation, which stays as it was', async () => {
      await seed(home, async (ctx) => {
        const other = await ctx.services.conversations.create({ title: 'Other' });
        await ctx.services.messages.create(other.id, { sender: 'user', content: 'theirs' });
      });
      const results = await Promise.all([
        dana(['messages', 'get', '1', '--conversation', '1', '--json']),
        dana(['messages', 'update', '1', '--conversation', '1', '--content', 'mine now', '--json']),
        dana(['messages', 'delete', '1', '--conversation', '1', '--json']),
        dana(['messages', 'get', '1', '--conversation', '1']),
      ]);
      for (const result of results.slice(0, 3)) expectJsonError(result, 3, 'Message not found');
      expectCliError(results[3], 3, 'Message not found');
      expect((await dana(['messages', 'get', '1', '--conversation', '2', '--json'])).json).to.include({ content: 'theirs' });
    });

    it('exit 2 without --conversation, for a bad id and for a sender over 50 characters', async () => {
      const results = await Promise.all([
        dana(['messages', 'list']),
        dana(['messages', 'create', '--sender', 'user', '--content', 'x']),
        dana(['messages', 'get', 'abc', '--conversation', '1', '--json']),
        dana(['messages', 'list', '--conversation', 'abc', '--json']),
        dana(['messages', 'create', '--conversation', '1', '--sender', 's'.repeat(51), '--content', 'x', '--json']),
        dana(['messages', 'create', '--conversation', '1', '--sender', 'user', '--json']),
      ]);
      for (const result of results) expectCliError(result, 2);
      for (const result of results.slice(2)) expect(result.json, result.stdout).to.have.all.keys('detail');
      expect(results[4].json.detail[0].loc).to.deep.equal(['body', 'sender']);
      expect((await dana(['messages', 'list', '--conversation', '1', '--json'])).json).to.deep.equal([]);
    });
  });
});
