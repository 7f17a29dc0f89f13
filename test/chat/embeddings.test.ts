// Embeddings as users meet them: the provider flag, `dana docs reindex --embeddings`, chat
// finding a passage by meaning, and `dana serve` embedding in the background, killed
// mid-way and started again. Against the fake OpenAI-compatible server's /embeddings.
import path from 'node:path';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { danaIn } from '../helpers/cli-in-process.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/chat.js';
import { writeFileSync } from 'node:fs';

const KEY = 'sk-cli-embedding-key-0123456789';

describe('embeddings from the command line', () => {
  let fake: FakeOpenAi;
  let home: string;
  let dana: ReturnType<typeof danaIn>;

  before(async () => {
    fake = await startFakeOpenAi('The fake model answers.');
  });
  after(() => fake.close());
  beforeEach(() => {
    Object.assign(fake.embeddings, { failing: false, redirectTo: '', delayMs: 0, embedded: 0 });
    fake.embeddings.requests.length = 0;
    home = tempDir();
    dana = danaIn(home, { EMBED_KEY: KEY });
  });

  function file(name: string, text: string): string {
    const where = path.join(tempDir(), name);
    writeFileSync(where, text);
    return where;
  }

  /** How many vectors the data folder holds. */
  function vectorCount(): number {
    const db = new Database(path.join(home, 'local.db'), { readonly: true });
    try {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM passage_embeddings').get() as { n: number }).n);
    } finally {
      db.close();
    }
  }

  async function agentOnEmbeddingProvider(): Promise<void> {
    const added = await dana(['providers', 'add', 'emb', '--base-url', fake.baseUrl, '--model', 'fake', '--embedding-model', 'fake-embed', '--api-key-env', 'EMBED_KEY']);
    expect(added.code, added.stderr).to.equal(0);
    expect((await dana(['agents', 'create', '--name', 'Mechanic', '--config', '{"provider": "emb"}'])).code).to.equal(0);
  }

  describe('providers --embedding-model', () => {
    it('sets, shows and clears a provider\'s embedding model', async () => {
      await agentOnEmbeddingProvider();
      expect((await dana(['providers', 'get', 'emb', '--json'])).json).to.include({ embedding_model: 'fake-embed' });
      expect((await dana(['providers', 'get', 'emb'])).stdout).to.match(/embedding_model: fake-embed/);
      const cleared = await dana(['providers', 'update', 'emb', '--embedding-model', 'none', '--json']);
      expect(cleared.json).to.include({ embedding_model: null });
      const set = await dana(['providers', 'update', 'emb', '--embedding-model', 'other-embed', '--json']);
      expect(set.json).to.include({ embedding_model: 'other-embed' });
    });

    it('refuses an embedding model for the offline provider (exit 2)', async () => {
      const result = await dana(['providers', 'update', 'local', '--embedding-model', 'fake-embed']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/built-in provider "local" cannot change this/);
    });
  });

  describe('docs reindex --embeddings', () => {
    it('embeds the passages, after which chat finds a document by a synonym', async () => {
      await agentOnEmbeddingProvider();
      await dana(['docs', 'upload', file('cars.txt', 'The automobile needs new tyres and an oil change.'), '--agent', '1']);
      await dana(['docs', 'upload', file('garden.txt', 'Tomatoes grow best in full sun.'), '--agent', '1']);
      expect(vectorCount()).to.equal(0);

      const reindexed = await dana(['docs', 'reindex', '--embeddings'], { tty: { stderr: true } });
      expect(reindexed.code, reindexed.stderr).to.equal(0);
      expect(reindexed.stderr).to.contain('Embedded 2 passages with fake-embed.');
      expect(reindexed.stderr).to.contain('Embedding [');
      expect(vectorCount()).to.equal(2);

      const chat = await dana(['chat', '--agent', '1', '-m', 'car', '--json']);
      expect(chat.code, chat.stderr).to.equal(0);
      expect(chat.json.sources[0].original_filename).to.equal('cars.txt');
    });

    it('exits 5 naming the failure (never the key) when the embeddings endpoint fails, keeping the text index', async () => {
      await agentOnEmbeddingProvider();
      await dana(['docs', 'upload', file('cars.txt', 'The automobile needs new tyres.'), '--agent', '1']);
      fake.embeddings.failing = true;
      const result = await dana(['docs', 'reindex', '--embeddings', '--json']);
      expect(result.code).to.equal(5);
      expect(result.json).to.have.length(1);
      expect(result.json[0]).to.include({ status: 'indexed', passages: 1 });
      expect(result.stderr).to.match(/Error: embedding failed: fake-embed at .*HTTP 500.*\(1 passages still without vectors\)/);
      expect(result.stderr + result.stdout).not.to.contain(KEY);
    });

    it('says there is nothing to embed while no agent\'s provider has an embedding model', async () => {
      await dana(['docs', 'upload', file('cars.txt', 'The automobile needs new tyres.')]);
      const result = await dana(['docs', 'reindex', '--embeddings']);
      expect(result.code).to.equal(0);
      expect(result.stderr).to.contain('nothing to embed');
      expect(fake.embeddings.requests).to.have.length(0);
    });
  });

  describe('dana serve embeds in the background', function () {
    this.timeout(90_000);

    it('fills missing vectors at start, and resumes after being killed mid-way', async () => {
      await agentOnEmbeddingProvider();
      // 256 passages: four requests of 64, each held back so the kill lands between them.
      const words = Array.from({ length: 256 * 220 }, (_, i) => `word${i}`).join(' ');
      await dana(['docs', 'upload', file('long.txt', words), '--agent', '1']);
      const db = new Database(path.join(home, 'local.db'), { readonly: true });
      const passages = Number((db.prepare('SELECT COUNT(*) AS n FROM passages').get() as { n: number }).n);
      db.close();
      expect(passages).to.be.at.least(256);

      fake.embeddings.delayMs = 400;
      const first = await startServe(home, { env: { EMBED_KEY: KEY } });
      try {
        await waitFor(() => vectorCount() >= 64, 30_000, 'a first batch stored');
      } finally {
        await first.stop('SIGKILL');
      }
      const afterCrash = vectorCount();
      expect(afterCrash).to.be.below(passages);

      fake.embeddings.delayMs = 0;
      const second = await startServe(home, { env: { EMBED_KEY: KEY } });
      try {
        await waitFor(() => vectorCount() === passages, 30_000, 'every passage embedded after the restart');
        await waitFor(() => second.stderr().includes('embedded'), 5_000, 'the log line');
        expect(second.stderr()).not.to.contain(KEY);
      } finally {
        await second.stop();
      }
      expect(fake.embeddings.requests.every((request) => request.headers.authorization === `Bearer ${KEY}`)).to.equal(true);
    });

    it('answers an upload through the API at once and embeds it meanwhile', async () => {
      await agentOnEmbeddingProvider();
      // Each embeddings answer takes 3 s: an upload that waited for one could not answer sooner.
      fake.embeddings.delayMs = 3_000;
      const server = await startServe(home, { env: { EMBED_KEY: KEY } });
      try {
        const form = new FormData();
        form.append('file', new Blob(['The automobile needs new tyres.']), 'cars.txt');
        form.append('agent_id', '1');
        const started = Date.now();
        const response = await fetch(`${server.url}/api/documents/upload`, { method: 'POST', body: form });
        expect(response.status).to.equal(201);
        expect(Date.now() - started).to.be.below(3_000);
        expect(vectorCount()).to.equal(0);
        await waitFor(() => vectorCount() === 1, 20_000, 'the passage embedded');
      } finally {
        await server.stop();
      }
    });
  });
});
