// `dana chat` and `dana docs reindex`, end to end: the commands in-process (the built CLI as a
// child process where a signal is sent) over a data folder of its own, with agents and
// documents made by the CLI itself.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { DANA_BIN, cleanEnv, type CliResult } from '../helpers/cli.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { FIXTURES } from '../helpers/chat.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { tempDir } from '../helpers/temp.js';

const REPLY = 'Chlorophyll captures light, says the fake model.';
const RESPONSE_KEYS = ['success', 'message', 'conversation_id', 'message_id', 'agent_response', 'context', 'error', 'runner', 'sources'];
const QUESTION = 'What does chlorophyll absorb?';

/** A failure as users see it: the exit code and one line on stderr, no stack trace. */
function expectOneLineError(result: CliResult, exitCode: number, pattern: RegExp) {
  const context = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.code, context).to.equal(exitCode);
  const lines = result.stderr.split('\n').filter((line) => line.trim());
  expect(lines, context).to.have.length(1);
  expect(lines[0], context).to.match(pattern);
  expect(result.stderr, context).to.not.match(/^\s+at /m);
}

describe('dana chat', () => {
  let fake: FakeOpenAi;
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  const agents = { librarian: 0, other: 0, unreachable: 0, model: 0, stalling: 0 };

  before(async () => {
    fake = await startFakeOpenAi(REPLY);
    home = tempDir();
    dana = danaIn(home);
    const create = async (name: string, config: object) => {
      const result = await dana(['agents', 'create', '--name', name, '--config', JSON.stringify(config), '--json']);
      expect(result.code, result.stderr).to.equal(0);
      return result.json.id as number;
    };
    agents.librarian = await create('Librarian', {});
    agents.other = await create('Other', {});
    for (const [name, url] of [['unreachable', 'http://127.0.0.1:1/v1'], ['fake', fake.baseUrl]]) {
      const added = await dana(['providers', 'add', name, '--base-url', url]);
      expect(added.code, added.stderr).to.equal(0);
    }
    agents.unreachable = await create('Unreachable', { provider: 'unreachable', model: 'fake', timeout: 2 });
    agents.model = await create('Model', { provider: 'fake', model: 'fake', timeout: 5 });
    agents.stalling = await create('Stalling', { provider: 'fake', model: 'slow', timeout: 1 });
    const uploaded = await dana(['docs', 'upload', path.join(FIXTURES, 'photosynthesis.pdf'), path.join(FIXTURES, 'volcanoes.docx'), '--agent', String(agents.librarian), '--json']);
    expect(uploaded.code, uploaded.stderr).to.equal(0);
  });
  after(() => fake.close());

  describe('one question', () => {
    it('streams the reply to stdout, the sources to stderr, and exits 0', async () => {
      const result = await dana(['chat', '--agent', String(agents.librarian), '-m', QUESTION]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('Chlorophyll absorbs sunlight');
      expect(result.stdout).to.not.include('Sources:');
      expect(result.stderr).to.match(/Sources: photosynthesis\.pdf \(document \d+\)/);
      expect(result.stderr).to.not.include('volcanoes.docx');
    });

    it('prints exactly the stored reply', async () => {
      const result = await dana(['chat', '--agent', String(agents.librarian), '-m', QUESTION]);
      const conversations = (await dana(['conversations', 'list', '--json'])).json as Array<{ id: number }>;
      const latest = (await dana(['conversations', 'get', String(conversations.at(-1)?.id), '--json'])).json;
      expect(latest.messages.map((m: { sender: string }) => m.sender)).to.deep.equal(['user', 'agent']);
      expect(result.stdout).to.equal(`${latest.messages[1].content}\n`);
    });

    it("prints a model's streamed reply", async () => {
      const result = await dana(['chat', '--agent', String(agents.model), '-m', 'hi']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.equal(`${REPLY}\n`);
      expect(result.stderr).to.equal('');
    });

    it('reads the message from piped standard input when there is no -m', async () => {
      const [piped, flagged] = await Promise.all([
        dana(['chat', '--agent', String(agents.librarian)], { input: `${QUESTION}\n` }),
        dana(['chat', '--agent', String(agents.librarian), '-m', QUESTION]),
      ]);
      expect(piped.code, piped.stderr).to.equal(0);
      expect(piped.stdout).to.equal(flagged.stdout);
      expect(piped.stderr).to.equal(flagged.stderr);
    });

    it('prints the response object with --json', async () => {
      const result = await dana(['chat', '--agent', String(agents.librarian), '-m', QUESTION, '--json']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.json).to.have.all.keys(...RESPONSE_KEYS);
      expect(result.json).to.include({ success: true, message: QUESTION, runner: 'local', error: null, context: null });
      expect(result.json.sources.map((source: { original_filename: string }) => source.original_filename)).to.deep.equal(['photosynthesis.pdf']);
      expect(result.stderr).to.equal('');
    });

    it('prints the response object with --json for a piped message', async () => {
      const result = await dana(['chat', '--agent', String(agents.librarian), '--json'], { input: 'When did Eyjafjallajokull erupt?\n' });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.json).to.include({ message: 'When did Eyjafjallajokull erupt?', runner: 'local' });
      expect(result.json.agent_response).to.include('Eyjafjallajokull erupted in 2010');
    });

    it('continues a conversation with --conversation', async () => {
      const first = await dana(['chat', '--agent', String(agents.librarian), '-m', QUESTION, '--json']);
      const id = String(first.json.conversation_id);
      const second = await dana(['chat', '--agent', String(agents.librarian), '--conversation', id, '-m', 'And the ash cloud?', '--json']);
      expect(second.code, second.stderr).to.equal(0);
      expect(second.json.conversation_id).to.equal(first.json.conversation_id);
      const messages = (await dana(['messages', 'list', '--conversation', id, '--json'])).json;
      expect(messages.map((m: { sender: string; content: string }) => [m.sender, m.content])).to.deep.equal([
        ['user', QUESTION],
        ['agent', first.json.agent_response],
        ['user', 'And the ash cloud?'],
        ['agent', second.json.agent_response],
      ]);
    });
  });

  describe('failures', () => {
    it('exits 3 with one line for an unknown agent', async () => {
      const result = await dana(['chat', '--agent', '999', '-m', 'hi']);
      expectOneLineError(result, 3, /Agent 999 not found/);
      expect(result.stdout).to.equal('');
    });

    it("exits 4 with one line for another agent's conversation", async () => {
      const mine = await dana(['chat', '--agent', String(agents.librarian), '-m', 'hi', '--json']);
      const result = await dana(['chat', '--agent', String(agents.other), '--conversation', String(mine.json.conversation_id), '-m', 'hi']);
      expectOneLineError(result, 4, /Conversation \d+/);
    });

    it('exits 5 with one line "Agent runner failed: …" when the model is unreachable, storing nothing', async () => {
      const before = (await dana(['conversations', 'list', '--json'])).json.length;
      const result = await dana(['chat', '--agent', String(agents.unreachable), '-m', 'hi']);
      expectOneLineError(result, 5, /^(Error: )?Agent runner failed: /);
      expect(result.stdout.trim()).to.equal('');
      expect((await dana(['conversations', 'list', '--json'])).json).to.have.length(before);
    });

    it('prints {"detail": "Agent runner failed: …"} on stdout with --json when the model is unreachable', async () => {
      const result = await dana(['chat', '--agent', String(agents.unreachable), '-m', 'hi', '--json']);
      expect(result.code, result.stderr).to.equal(5);
      expect(result.json).to.have.all.keys('detail');
      expect(result.json.detail).to.match(/^Agent runner failed: .+/);
    });

    it('keeps stdout valid JSON with --json when the model stalls mid-reply', async () => {
      const result = await dana(['chat', '--agent', String(agents.stalling), '-m', 'hi', '--json']);
      expect(result.code, result.stderr).to.equal(5);
      expect(result.json, result.stdout).to.have.all.keys('detail');
      expect(result.json.detail).to.match(/^Agent runner failed: /);
    });

    it('stops on Ctrl-C (SIGINT) mid-reply, storing nothing', async () => {
      const before = (await dana(['conversations', 'list', '--json'])).json.length;
      await dana(['agents', 'update', String(agents.stalling), '--config', JSON.stringify({ provider: 'fake', model: 'slow', timeout: 30 })]);
      try {
        const child = spawn(process.execPath, [DANA_BIN, 'chat', '--agent', String(agents.stalling), '-m', 'hi'], {
          env: cleanEnv({ DANA_HOME: home }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        await new Promise<void>((resolve) =>
          child.stdout.on('data', (chunk: Buffer) => {
            stdout += chunk;
            if (stdout.includes('Chlorophyll')) resolve();
          }),
        );
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        expect(code, stderr).to.equal(130);
        expect(stderr).to.not.match(/^\s+at /m);
      } finally {
        await dana(['agents', 'update', String(agents.stalling), '--config', JSON.stringify({ provider: 'fake', model: 'slow', timeout: 1 })]);
      }
      expect((await dana(['conversations', 'list', '--json'])).json).to.have.length(before);
    });

    it('exits 2 for an empty piped message', async () => {
      const result = await dana(['chat', '--agent', String(agents.librarian)], { input: '  \n' });
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.not.match(/^\s+at /m);
    });

    it('exits 2 without --agent', async () => {
      const result = await dana(['chat', '-m', 'hi']);
      expect(result.code, result.stderr).to.equal(2);
    });
  });

  describe('--help', () => {
    it('shows examples', async () => {
      const result = await dana(['chat', '--help']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('EXAMPLES');
      expect(result.stdout).to.include('dana chat --agent 1 -m');
      expect(result.stdout).to.include('--conversation');
    });
  });
});

describe('dana docs reindex', () => {
  let dana: ReturnType<typeof danaIn>;

  before(async () => {
    dana = danaIn(tempDir());
    const uploaded = await dana(['docs', 'upload', path.join(FIXTURES, 'photosynthesis.pdf'), path.join(FIXTURES, 'volcanoes.docx'), '--json']);
    expect(uploaded.code, uploaded.stderr).to.equal(0);
  });

  it('reindexes every document and prints a table', async () => {
    const result = await dana(['docs', 'reindex']);
    expect(result.code, result.stderr).to.equal(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header.split(/\s+/)).to.include.members(['ID', 'NAME', 'STATUS', 'PASSAGES']);
    expect(rows).to.have.length(2);
    expect(rows[0]).to.match(/^1\s+photosynthesis\.pdf\s+indexed\s+1\b/);
    expect(rows[1]).to.match(/^2\s+volcanoes\.docx\s+indexed\s+1\b/);
  });

  it('reindexes one document with --json', async () => {
    const result = await dana(['docs', 'reindex', '2', '--json']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.json).to.deep.equal([{ id: 2, original_filename: 'volcanoes.docx', status: 'indexed', error: null, passages: 1 }]);
  });

  it('exits 3 for an unknown document', async () => {
    const result = await dana(['docs', 'reindex', '999']);
    expectOneLineError(result, 3, /Document not found/);
  });

  it('exits 2 for an id that is not a positive integer', async () => {
    const result = await dana(['docs', 'reindex', 'abc']);
    expect(result.code, result.stderr).to.equal(2);
  });
});
