// Parsing hostile uploads over real HTTP: a DOCX and a PDF of a few hundred KB that expand to
// hundreds of MB are parsed outside the server, which keeps answering /health within a
// second and keeps its own memory; the documents end "failed" with the reason, and a later
// chat never parses them again.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { startTestServer, json, type TestServer } from '../helpers/server.js';
import { bodyOf, createAgent, expectLocs, postFile, uploadDocument } from '../helpers/api.js';
import { docxBomb, pdfBomb } from '../helpers/bombs.js';
import { childProcesses } from '../helpers/processes.js';

const MEMORY_MB = 128;
/** How much the server's own resident memory may grow while a bomb is parsed (unbounded, it grew by 1.28 GB). */
const SERVER_GROWTH_BOUND_MB = 150;

interface HealthWatch {
  stop(): Promise<{ slowestMs: number; answered: number; peakRssMb: number }>;
}

/** Asks /health again and again (one request at a time) and samples this process's memory. */
function watchHealth(server: TestServer): HealthWatch {
  let running = true;
  let slowestMs = 0;
  let answered = 0;
  let peakRssMb = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await server.api('/health', { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      expect(response.status).to.equal(200);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      answered++;
      peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { slowestMs, answered, peakRssMb };
    },
  };
}

describe('uploads whose text expands without bound are parsed outside the server', function () {
  this.timeout(120_000);
  let server: TestServer;
  const bombs: Record<string, Buffer> = {};

  before(async () => {
    bombs['bomb.docx'] = await docxBomb(100);
    bombs['bomb.pdf'] = await pdfBomb(300);
    server = await startTestServer({ DANA_EXTRACT_MEMORY_MB: String(MEMORY_MB), DANA_EXTRACT_TIMEOUT_S: '20' });
  });
  after(async () => {
    await server?.close();
  });

  for (const name of ['bomb.docx', 'bomb.pdf']) {
    it(`stores ${name} with text_status "failed" and the reason, while /health answers within 1 s and the server's memory stays bounded`, async () => {
      expect(bombs[name].length).to.be.below(1.1 * 2 ** 20);
      global.gc?.();
      const baseMb = process.memoryUsage().rss / 2 ** 20;
      const health = watchHealth(server);
      const response = await postFile(server, name, bombs[name]);
      const { slowestMs, answered, peakRssMb } = await health.stop();
      const document = await bodyOf(response);
      expect(response.status, JSON.stringify(document)).to.equal(201);
      expect(document.text_status).to.equal('failed');
      expect(document.text_error).to.equal(`Reading the text needed more than ${MEMORY_MB} MB of memory.`);
      expect(answered, '/health answers during the parse').to.be.greaterThan(0);
      expect(slowestMs, 'slowest /health (ms)').to.be.below(1_000);
      expect(peakRssMb - baseMb, 'server memory growth (MB)').to.be.below(SERVER_GROWTH_BOUND_MB);
      expect((await bodyOf(await server.api(`/api/documents/${document.id}`))).text_status).to.equal('failed');
    });
  }

  it('answers a chat over the failed documents without parsing them again', async () => {
    const agent = await createAgent(server);
    for (const { id } of await bodyOf(await server.api('/api/documents/'))) {
      await server.api(`/api/documents/${id}`, json('PATCH', { agent_id: agent.id }));
    }
    const before = childProcesses('parser-process');
    const response = await server.api('/api/chat/', json('POST', { message: 'What does the bomb paragraph repeat?', agent_id: agent.id }));
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(childProcesses('parser-process').filter((pid) => !before.includes(pid)), 'parser processes started by the chat').to.deep.equal([]);
    const statuses = (await bodyOf(await server.api('/api/documents/'))).map((document: { text_status: string }) => document.text_status);
    expect(statuses).to.deep.equal(['failed', 'failed']);
  });
});

describe('a parse that takes too long is stopped', function () {
  this.timeout(60_000);
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ DANA_EXTRACT_MEMORY_MB: '1024', DANA_EXTRACT_TIMEOUT_S: '1' });
  });
  after(async () => {
    await server?.close();
  });

  it('stores the file with text_status "failed" and says how long it may take', async () => {
    const document = await uploadDocument(server, 'slow.pdf', await pdfBomb(100));
    expect([document.text_status, document.text_error]).to.deep.equal(['failed', 'Reading the text took longer than 1 s.']);
  });
});

describe('documents: digests, text status and names over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it('answers the upload once the text is indexed: status "indexed", text_error null, sha256 the digest', async () => {
    const bytes = 'The ferry to Stroma leaves at dawn.';
    const document = await uploadDocument(server, 'ferry.txt', bytes);
    expect(document).to.include({ text_status: 'indexed', text_error: null, sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it('finds copies of the same bytes with ?sha256=, with X-Total-Count', async () => {
    const bytes = `copy ${Date.now()}`;
    const first = await uploadDocument(server, 'copy-1.md', bytes);
    const second = await uploadDocument(server, 'copy-2.txt', bytes);
    const response = await server.api(`/api/documents/?sha256=${first.sha256}`);
    expect((await bodyOf(response)).map((document: { id: number }) => document.id)).to.deep.equal([first.id, second.id]);
    expect(response.headers.get('x-total-count')).to.equal('2');
    expect(await bodyOf(await server.api(`/api/documents/?sha256=${'0'.repeat(64)}`))).to.deep.equal([]);
  });

  it('refuses a rename without an allowed extension: 422 on body.original_filename', async () => {
    const document = await uploadDocument(server, 'keep.txt', 'x');
    await expectLocs(await server.api(`/api/documents/${document.id}`, json('PUT', { original_filename: 'keep.exe' })), ['body', 'original_filename']);
    await expectLocs(await server.api(`/api/documents/${document.id}`, json('PATCH', { original_filename: 'no-extension' })), ['body', 'original_filename']);
    expect((await bodyOf(await server.api(`/api/documents/${document.id}`))).original_filename).to.equal('keep.txt');
  });

  it('answers a text file named .pdf with 201, text_status "failed" and a one-sentence reason', async () => {
    const document = await uploadDocument(server, 'fake.pdf', 'not a pdf at all');
    expect([document.text_status, document.text_error]).to.deep.equal(['failed', 'The file is not a PDF (it has no %PDF- header).']);
  });
});
