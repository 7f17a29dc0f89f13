// `dana providers …` end to end (the built CLI as a child process), the warnings of
// `agents create`, and `dana db migrate` telling what it moved.
import { expect } from 'chai';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { testConfig } from '../helpers/context.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { startTestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { bodyOf } from '../helpers/chat.js';
import { createContext } from '../../src/core/context.js';

describe('dana providers', () => {
  let fake: FakeOpenAi;
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  before(async () => {
    fake = await startFakeOpenAi('ready');
  });
  after(() => fake.close());
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home, { MODEL_KEY: 'sk-cli-key-0123456789' });
  });

  it('adds, lists, gets, updates and removes a provider, printing the API shape under --json', async () => {
    const added = await dana(['providers', 'add', 'fake', '--base-url', fake.baseUrl, '--api-key-env', 'MODEL_KEY', '--model', 'fake', '--default', '--json']);
    expect(added.code, added.stderr).to.equal(0);
    expect(added.json).to.deep.equal({ name: 'fake', base_url: fake.baseUrl, api_key_env: 'MODEL_KEY', has_key: true, model: 'fake', embedding_model: null, is_default: true });

    const table = parseTable((await dana(['providers', 'list'])).stdout);
    expect(table.map((row) => [row.NAME, row.DEFAULT])).to.deep.equal([['local', ''], ['openai', ''], ['fake', 'yes']]);
    expect((await dana(['providers', 'list', '--json'])).json.map((p: { name: string }) => p.name)).to.deep.equal(['local', 'openai', 'fake']);
    expect(parseRecord((await dana(['providers', 'get', 'fake'])).stdout)).to.include({ name: 'fake', model: 'fake' });

    const updated = await dana(['providers', 'update', 'fake', '--model', 'other', '--no-default', '--json']);
    expect(updated.json).to.include({ model: 'other', is_default: false, base_url: fake.baseUrl });
    expect((await dana(['providers', 'get', 'local', '--json'])).json.is_default).to.equal(true);

    const removed = await dana(['providers', 'remove', 'fake']);
    expect(removed.code, removed.stderr).to.equal(0);
    expectCliError(await dana(['providers', 'get', 'fake']), 3, /Provider "fake" not found/);
  });

  it('exits 3 for an unknown name, 4 for a built-in or a duplicate, 2 for a bad name or URL', async () => {
    expectCliError(await dana(['providers', 'remove', 'nope']), 3, /not found/);
    expectCliError(await dana(['providers', 'remove', 'openai']), 4, /built in/);
    expectCliError(await dana(['providers', 'add', 'openai', '--base-url', fake.baseUrl]), 4, /already exists/);
    expectCliError(await dana(['providers', 'add', 'Bad Name', '--base-url', fake.baseUrl]), 2, /name/);
    expectCliError(await dana(['providers', 'add', 'x', '--base-url', 'ftp://example.com']), 2, /--base-url/);
    expectCliError(await dana(['providers', 'update', 'openai', '--base-url', fake.baseUrl]), 2, /built-in/);
    const failed = await dana(['providers', 'remove', 'nope', '--json']);
    expect(failed.json).to.deep.equal({ detail: 'Provider "nope" not found' });
  });

  it('tests a provider: says what answered (exit 0), or fails with exit 5', async () => {
    await dana(['providers', 'add', 'fake', '--base-url', fake.baseUrl, '--api-key-env', 'MODEL_KEY', '--model', 'fake']);
    await dana(['providers', 'add', 'down', '--base-url', 'http://127.0.0.1:1/v1', '--model', 'fake']);
    const ok = await dana(['providers', 'test', 'fake']);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^fake: http:\/\/127\.0\.0\.1:\d+\/v1 answered with model "fake" in \d+ ms\n$/);
    expect(fake.requests.at(-1)?.body.max_tokens).to.equal(1);
    expect(fake.requests.at(-1)?.headers.authorization).to.equal('Bearer sk-cli-key-0123456789');
    expect((await dana(['providers', 'test', 'fake', '--json'])).json).to.include({ name: 'fake', model: 'fake' });
    expectCliError(await dana(['providers', 'test', 'down']), 5, /Agent runner failed: could not reach/);
    expectCliError(await dana(['providers', 'test', 'fake'], { env: { MODEL_KEY: undefined } }), 5, /Agent runner failed: MODEL_KEY is not set/);
    expectCliError(await dana(['providers', 'test', 'openai']), 5, /OPENAI_API_KEY is not set/);
    expect((await dana(['providers', 'test', 'local'])).code).to.equal(0);
  });

  it('shows examples with long flags in every --help', async () => {
    for (const command of ['add', 'update', 'list', 'get', 'remove', 'test']) {
      const help = await dana(['providers', command, '--help']);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.include('EXAMPLES');
    }
    const add = (await dana(['providers', 'add', '--help'])).stdout;
    expect(add).to.include('--base-url').and.to.include('--api-key-env');
    const create = (await dana(['agents', 'create', '--help'])).stdout;
    expect(create).to.include('dana providers add ollama').and.to.include('"provider":"ollama"').and.not.include('base_url');
  });

  it('is seen at once by a running server', async () => {
    const server = await startTestServer();
    try {
      const added = await danaIn(server.context.home)(['providers', 'add', 'ollama', '--base-url', 'http://127.0.0.1:11434/v1']);
      expect(added.code, added.stderr).to.equal(0);
      const listed = await bodyOf(await server.api('/api/providers/'));
      expect(listed.map((p: { name: string }) => p.name)).to.include('ollama');
    } finally {
      await server.close();
    }
  });

  describe('agents create', () => {
    it('warns on stderr about config keys Dana does not read, and stores them', async () => {
      const created = await dana(['agents', 'create', '--name', 'A', '--config', '{"provider":"local","colour":"red"}', '--json']);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stderr).to.equal('Warning: config key "colour" is not read by Dana (stored as given)\n');
      expect(created.json.config).to.deep.equal({ provider: 'local', colour: 'red' });
      const known = await dana(['agents', 'create', '--name', 'B', '--config', '{"provider":"local","temperature":0.2,"max_tokens":100,"timeout":30}']);
      expect(known.stderr).to.equal('');
    });

    it('refuses base_url with exit 2, pointing to dana providers add', async () => {
      expectCliError(await dana(['agents', 'create', '--name', 'A', '--config', '{"base_url":"http://127.0.0.1:9/v1"}']), 2, /dana providers add/);
    });
  });

  it('db migrate prints each agent endpoint it moved to a provider', async () => {
    const context = await createContext(testConfig(home));
    try {
      await context.knex('knex_migrations').where({ name: '005_agent_endpoints_to_providers' }).delete();
      const now = new Date().toISOString();
      await context.knex('agents').insert({ name: 'Llama', description: '', config: '{"base_url":"http://127.0.0.1:11434/v1"}', created_at: now, updated_at: now });
    } finally {
      await context.close();
    }
    const migrated = await dana(['db', 'migrate']);
    expect(migrated.code, migrated.stderr).to.equal(0);
    expect(migrated.stdout).to.equal('Applied: 005_agent_endpoints_to_providers\nagent 1 "Llama": endpoint moved to provider "llama" (http://127.0.0.1:11434/v1)\n');
  });
});
