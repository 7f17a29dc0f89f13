// `dana serve`, run as users run it: the built CLI in a child process (run `npm run build` first).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { runDana } from '../helpers/cli.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { bodyOf } from '../helpers/api.js';
import { filesUnder, storedFiles, tempDir } from '../helpers/temp.js';
import { chunksOf, multipartBody, streamRequest, type StreamedResponse } from '../helpers/http.js';
import { freePort, startServe, type ServeProcess } from '../helpers/serve.js';

describe('dana serve', function () {
  this.timeout(30_000);
  let serving: ServeProcess | undefined;
  afterEach(async () => {
    await serving?.stop('SIGKILL');
    serving = undefined;
  });

  describe('starting', () => {
    it('prints the API URL, /health, /docs and the data folder', async () => {
      const home = tempDir();
      serving = await startServe(home);
      const banner = serving.stdout();
      expect(banner).to.include(`http://127.0.0.1:${serving.port}/api`);
      expect(banner).to.include(`http://127.0.0.1:${serving.port}/health`);
      expect(banner).to.include(`http://127.0.0.1:${serving.port}/docs`);
      expect(banner).to.include(home);
    });

    it('runs without V8 gc() exposed, before and after an upload', async () => {
      serving = await startServe(tempDir());
      const flags = () => fs.readFileSync(`/proc/${serving?.child.pid}/cmdline`, 'utf8').split('\0');
      expect(flags()).to.not.include('--expose-gc');
      const form = new FormData();
      form.append('file', new Blob([randomBytes(5 * 1024 * 1024)]), 'big.pdf');
      expect((await fetch(`${serving.url}/api/documents/upload`, { method: 'POST', body: form })).status).to.equal(201);
      expect(flags()).to.not.include('--expose-gc');
      expect(flags().filter((flag) => /gc/i.test(flag))).to.deep.equal([]);
    });

    it('answers /health', async () => {
      serving = await startServe(tempDir());
      const res = await fetch(`${serving.url}/health`);
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.include({ status: 'healthy', service: 'Dana API' });
    });

    it('exits 1 with exactly one line on stderr when the port is in use', async () => {
      const blocker = net.createServer();
      blocker.listen(0, '127.0.0.1');
      await once(blocker, 'listening');
      const { port } = blocker.address() as net.AddressInfo;
      try {
        const result = await runDana(['serve', '--host', '127.0.0.1', '--port', String(port)], { env: { DANA_HOME: tempDir() } });
        expect(result.code).to.equal(1);
        const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
        expect(lines, result.stderr).to.have.length(1);
        expect(lines[0]).to.include(String(port));
        expect(result.stderr).not.to.match(/\n\s+at\s/);
      } finally {
        blocker.close();
      }
    });
  });

  describe('stopping', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`exits 0 on ${signal}`, async () => {
        serving = await startServe(tempDir());
        expect((await fetch(`${serving.url}/health`)).status).to.equal(200);
        expect(await serving.stop(signal)).to.deep.equal({ code: 0, signal: null });
      });
    }

    describe('during a slow upload', () => {
      /** Streams a 1 MiB upload slowly, sending SIGTERM a third of the way through, then finishes sending. */
      async function uploadThroughSigterm(home: string): Promise<{ response?: StreamedResponse; error?: Error; exit: { code: number | null; signal: string | null } }> {
        const server = await startServe(home);
        serving = server;
        const { body, contentType } = multipartBody([{ name: 'file', filename: 'slow.txt', data: randomBytes(1024 * 1024) }]);
        let signalled = false;
        const outcome = await streamRequest(server.url, {
          path: '/api/documents/upload',
          headers: { 'content-type': contentType, 'content-length': body.length },
          chunks: chunksOf(body, 32 * 1024),
          pauseMs: 15,
          onChunk: (sent) => {
            if (!signalled && sent > body.length / 3) {
              signalled = true;
              server.child.kill('SIGTERM');
            }
          },
        }).then((response) => ({ response }), (error: Error) => ({ error }));
        expect(signalled, 'SIGTERM was sent mid-upload').to.equal(true);
        // One SIGTERM only: the server is already stopping.
        const exit = await server.stop(null);
        return { ...outcome, exit };
      }

      function rowsIn(home: string): Array<{ file_path: string }> {
        const db = new Database(path.join(home, 'local.db'), { readonly: true });
        try {
          return db.prepare('SELECT file_path FROM documents').all() as Array<{ file_path: string }>;
        } finally {
          db.close();
        }
      }

      it('exits 0 and leaves no orphan: the row with its file, or neither', async () => {
        const home = tempDir();
        const { exit } = await uploadThroughSigterm(home);
        expect(exit).to.deep.equal({ code: 0, signal: null });
        const uploads = path.join(home, 'uploads');
        const rows = rowsIn(home);
        const stored = storedFiles(uploads);
        expect(stored, 'stored files match the rows').to.deep.equal(rows.map((row) => row.file_path).sort());
        expect(filesUnder(path.join(uploads, '.tmp')), 'temp files').to.deep.equal([]);
      });

      it('finishes the upload in flight: the client gets 201 and the document is stored', async () => {
        const home = tempDir();
        const { response, error } = await uploadThroughSigterm(home);
        expect(error, error?.message).to.equal(undefined);
        expect(response?.status, response?.text).to.equal(201);
        const rows = rowsIn(home);
        expect(rows).to.have.length(1);
        expect(fs.statSync(path.join(home, 'uploads', rows[0].file_path)).size).to.equal(1024 * 1024);
      });
    });
  });

  describe('sharing a data folder with the CLI', () => {
    let home: string;
    let dana: ReturnType<typeof danaIn>;
    before(async () => {
      home = tempDir();
      dana = danaIn(home);
    });

    it('shows over HTTP, at once, an agent the CLI just created', async () => {
      serving = await startServe(home, { port: await freePort() });
      const created = await dana(['agents', 'create', '--name', 'From the CLI', '--json']);
      expect(created.code, created.stderr).to.equal(0);
      const res = await fetch(`${serving.url}/api/agents/${created.json.id}`);
      expect(res.status).to.equal(200);
      expect(await bodyOf(res)).to.deep.equal(created.json);
    });

    it('shows in the CLI, at once, an agent created over HTTP', async () => {
      serving = await startServe(home);
      const res = await fetch(`${serving.url}/api/agents/`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'From HTTP', description: 'd', config: { a: 1 } }),
      });
      expect(res.status).to.equal(201);
      const agent = await bodyOf(res);
      const shown = await dana(['agents', 'get', String(agent.id), '--json']);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.json).to.deep.equal(agent);
    });
  });
});
