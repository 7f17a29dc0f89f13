// `dana serve` and `dana tokens` as users run them (the built CLI in child processes): a
// server open to the network needs tokens, and the access flags reach the server.
import net from 'node:net';
import { once } from 'node:events';
import { expect } from 'chai';
import { danaIn as spawnedDanaIn } from '../helpers/cli.js';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectError } from '../helpers/api.js';
import { tempDir } from '../helpers/temp.js';
import { sendRequest } from '../helpers/http.js';
import { freePort, startServe, type ServeProcess } from '../helpers/serve.js';
import { describeDatabase } from '../../src/core/config.js';
import { boundedConnections } from '../../src/server/serve.js';

describe('dana serve: access', function () {
  this.timeout(60_000);
  let serving: ServeProcess | undefined;
  afterEach(async () => {
    await serving?.stop('SIGKILL');
    serving = undefined;
  });

  describe('off loopback', () => {
    it('refuses to start while no token exists: exit 2 and one line saying how to create one', async () => {
      const home = tempDir();
      const result = await spawnedDanaIn(home)(['serve', '--host', '0.0.0.0', '--port', String(await freePort())]);
      expect(result.code).to.equal(2);
      expect(result.stderr.trim().split('\n')).to.have.length(1);
      expect(result.stderr).to.include('dana tokens create --name NAME');
      expect(result.stdout).to.not.include('listening');
    });

    it('starts with --no-auth, warning on stderr, and serves without tokens', async () => {
      serving = await startServe(tempDir(), { host: '0.0.0.0', args: ['--no-auth'] });
      expect(serving.stderr()).to.match(/^Warning: --no-auth/m);
      expect(serving.stdout()).to.match(/Tokens\s+not required/);
      expect((await fetch(`${serving.url}/api/agents/`)).status).to.equal(200);
    });

    it('with a token created by the CLI: 401 without it, 200 with it, /health open, and a revoke applies at once', async () => {
      const home = tempDir();
      const dana = danaIn(home);
      const created = await dana(['tokens', 'create', '--name', 'laptop']);
      expect(created.code, created.stderr).to.equal(0);
      const token = created.stdout.trim();
      serving = await startServe(home, { host: '0.0.0.0' });
      expect(serving.stdout()).to.match(/Tokens\s+required/);
      const url = serving.url;
      const withToken = { headers: { authorization: `Bearer ${token}` } };

      const refused = await fetch(`${url}/api/agents/`);
      await expectError(refused, 401, 'Not authenticated');
      expect(refused.headers.get('www-authenticate')).to.equal('Bearer');
      await expectError(await fetch(`${url}/openapi.json`), 401, 'Not authenticated');
      expect((await fetch(`${url}/health`)).status).to.equal(200);
      expect((await fetch(`${url}/api/agents/`, withToken)).status).to.equal(200);
      const rebound = await sendRequest(url, { path: '/api/agents/', headers: { host: 'evil.example', authorization: `Bearer ${token}` } });
      expect(rebound.status).to.equal(403);

      expect((await dana(['tokens', 'revoke', 'laptop'])).code).to.equal(0);
      await expectError(await fetch(`${url}/api/agents/`, withToken), 401, 'Not authenticated');
    });
  });

  describe('on loopback', () => {
    it('--require-token requires a token there too', async () => {
      serving = await startServe(tempDir(), { args: ['--require-token'] });
      await expectError(await fetch(`${serving.url}/api/agents/`), 401, 'Not authenticated');
    });

    it('DANA_REQUIRE_TOKEN=1 does the same', async () => {
      serving = await startServe(tempDir(), { env: { DANA_REQUIRE_TOKEN: '1' } });
      await expectError(await fetch(`${serving.url}/api/agents/`), 401, 'Not authenticated');
    });
  });

  it('takes --cors-origin and --allowed-host repeated or as comma lists, and from the environment', async () => {
    serving = await startServe(tempDir(), {
      args: ['--cors-origin', 'http://a.test', '--cors-origin', 'http://b.test,http://c.test', '--allowed-host', 'dana.lan', '--allowed-host', 'x.lan,y.lan'],
    });
    for (const origin of ['http://a.test', 'http://b.test', 'http://c.test']) {
      const res = await fetch(`${serving.url}/api/agents/`, { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin'), origin).to.equal(origin);
    }
    for (const host of ['dana.lan', 'x.lan:8080', 'y.lan']) {
      expect((await sendRequest(serving.url, { path: '/api/agents/', headers: { host } })).status, host).to.equal(200);
    }
    await serving.stop();

    serving = await startServe(tempDir(), { env: { DANA_CORS_ORIGINS: 'http://env.test', DANA_ALLOWED_HOSTS: 'env.lan' } });
    const res = await fetch(`${serving.url}/api/agents/`, { headers: { origin: 'http://env.test' } });
    expect(res.headers.get('access-control-allow-origin')).to.equal('http://env.test');
    expect((await sendRequest(serving.url, { path: '/api/agents/', headers: { host: 'env.lan' } })).status).to.equal(200);
  });

  it('--max-connections bounds the connections open at once', async () => {
    serving = await startServe(tempDir(), { args: ['--max-connections', '2'] });
    expect(serving.stdout()).to.match(/2 connections/);
    // Two keep-alive connections the server has answered on, so it counts both.
    const held = await Promise.all([openAnswered(serving.port), openAnswered(serving.port)]);
    const third = await fetch(`${serving.url}/health`).then((res) => res.status, () => 'refused');
    expect(third).to.equal('refused');
    held[0].destroy();
    let status: number | string = 'refused';
    for (let attempt = 0; attempt < 100 && status !== 200; attempt += 1) {
      status = await fetch(`${serving.url}/health`).then((res) => res.status, () => 'refused');
    }
    expect(status).to.equal(200);
    held[1].destroy();
  });

  it('keeps --max-connections under the open-file limit, with room for the database and uploads', () => {
    // 256 descriptors: each connection may hold a socket and an upload's file.
    expect(boundedConnections(1000, 256) * 2).to.be.within(2, 255);
    expect(boundedConnections(100, 100_000)).to.equal(100);
    expect(boundedConnections(1000, undefined)).to.equal(1000);
  });

  it('masks a database password in the user part and in a password= parameter', () => {
    const shown = describeDatabase({ client: 'postgres', connectionString: 'postgres://dana:hunter2@db:5432/dana?sslmode=require&password=hunter3', poolMax: 1 });
    expect(shown).to.equal('postgres://dana:***@db:5432/dana?sslmode=require&password=***');
  });
});

/** A connection on which a request has been answered, left open (keep-alive). */
async function openAnswered(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await once(socket, 'data');
  return socket;
}

describe('dana tokens', function () {
  this.timeout(60_000);

  it('create prints a new dana_ token once; list shows its name, dates and read-only, never the token', async () => {
    const dana = danaIn(tempDir());
    const created = await dana(['tokens', 'create', '--name', 'laptop']);
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout.trim()).to.match(/^dana_[A-Za-z0-9_-]{32,}$/);
    const readOnly = await dana(['tokens', 'create', '--name', 'grafana', '--read-only', '--json']);
    expect(readOnly.json).to.include({ name: 'grafana', read_only: true, last_used_at: null });
    expect(readOnly.json.token).to.match(/^dana_[A-Za-z0-9_-]{32,}$/);

    const listed = await dana(['tokens', 'list', '--json']);
    expect(listed.json.map((t: Record<string, unknown>) => Object.keys(t).sort())).to.deep.equal([
      ['created_at', 'last_used_at', 'name', 'read_only'],
      ['created_at', 'last_used_at', 'name', 'read_only'],
    ]);
    expect(listed.json.map((t: { name: string; read_only: boolean }) => [t.name, t.read_only])).to.deep.equal([['laptop', false], ['grafana', true]]);
    const table = await dana(['tokens', 'list']);
    expect(table.stdout).to.include('laptop').and.include('grafana');
    expect(table.stdout).to.not.include(created.stdout.trim());
  });

  it('stores only the SHA-256 of a token', async () => {
    const home = tempDir();
    const dana = danaIn(home);
    const token = (await dana(['tokens', 'create', '--name', 'laptop'])).stdout.trim();
    const { createHash } = await import('node:crypto');
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${home}/local.db`, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM api_tokens').all() as Array<Record<string, unknown>>;
      expect(rows.map((row) => row.token_hash)).to.deep.equal([createHash('sha256').update(token).digest('hex')]);
      expect(JSON.stringify(rows)).to.not.include(token);
    } finally {
      db.close();
    }
  });

  it('a duplicate name exits 4, revoking an unknown name exits 3', async () => {
    const dana = danaIn(tempDir());
    expect((await dana(['tokens', 'create', '--name', 'laptop'])).code).to.equal(0);
    const duplicate = await dana(['tokens', 'create', '--name', 'laptop']);
    expect(duplicate.code).to.equal(4);
    expect(duplicate.stderr).to.include("Token 'laptop' already exists");
    const unknown = await dana(['tokens', 'revoke', 'nobody', '--json']);
    expect(unknown.code).to.equal(3);
    expect(unknown.json).to.deep.equal({ detail: "Token 'nobody' not found" });
    const revoked = await dana(['tokens', 'revoke', 'laptop', '--json']);
    expect(revoked.code).to.equal(0);
    expect((await dana(['tokens', 'list', '--json'])).json).to.deep.equal([]);
  });

  it('serve --help shows the access flags and the exposed setup', async () => {
    const help = await danaIn(tempDir())(['serve', '--help']);
    for (const flag of ['--cors-origin', '--allowed-host', '--require-token', '--no-auth', '--max-connections']) expect(help.stdout).to.include(flag);
    expect(help.stdout).to.include('tokens create --name laptop').and.include('--host 0.0.0.0').and.include('Authorization: Bearer $TOKEN');
  });
});


