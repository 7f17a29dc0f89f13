// Several stateless `dana serve` processes behind one PostgreSQL database and one shared
// upload folder: what a team that outgrows one machine runs.
import path from 'node:path';
import { expect } from 'chai';
import { dropSchema, freshPostgresUrl, isPostgres } from '../helpers/backend.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { tempDir, storedFiles } from '../helpers/temp.js';

// Two servers on one database need a database that several processes share: PostgreSQL.
if (isPostgres) describe('two dana serve processes on one PostgreSQL database', () => {
  let servers: ServeProcess[];
  let schema: string;
  let uploads: string;

  before(async function () {
    this.timeout(60_000);
    const database = await freshPostgresUrl();
    schema = database.schema;
    uploads = path.join(tempDir(), 'shared-uploads');
    const env = { DANA_DATABASE_URL: database.url, DANA_UPLOAD_DIR: uploads };
    // Both start at the same moment on an empty schema: the migration lock lets one migrate.
    servers = await Promise.all([startServe(tempDir(), { env }), startServe(tempDir(), { env })]);
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await dropSchema(schema);
  });

  const post = (server: ServeProcess, route: string, body: unknown) =>
    fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('both come up on an empty database', async () => {
    for (const server of servers) expect((await fetch(`${server.url}/health`)).status).to.equal(200);
  });

  it('reads through one server what was written through the other', async () => {
    const created = (await (await post(servers[0], "/api/agents/", { name: "written on A", description: "", config: { k: 1 } })).json()) as { id: number };
    const read = await fetch(`${servers[1].url}/api/agents/${created.id}`);
    expect(read.status).to.equal(200);
    expect(await read.json()).to.deep.equal(created);

    const form = new FormData();
    form.append('file', new Blob(['shared bytes']), 'shared.txt');
    const document = (await (await fetch(`${servers[1].url}/api/documents/`, { method: "POST", body: form })).json()) as { id: number };
    const download = await fetch(`${servers[0].url}/api/documents/${document.id}/download`);
    expect(download.status).to.equal(200);
    expect(await download.text()).to.equal('shared bytes');
  });

  it('serves 40 concurrent clients split across both with exact counts and no failure', async function () {
    this.timeout(60_000);
    const before = await counts();
    const statuses: number[] = [];
    const names = new Set<string>();
    await Promise.all(Array.from({ length: 40 }, async (_, client) => {
      const server = servers[client % 2];
      for (let i = 0; i < 5; i++) {
        const name = `client ${client} item ${i}`;
        names.add(name);
        statuses.push((await post(server, '/api/agents/', { name, description: '', config: {} })).status);
        statuses.push((await post(server, '/api/topics/', { name, description: '' })).status);
        const form = new FormData();
        form.append('file', new Blob([name]), `${client}-${i}.md`);
        statuses.push((await fetch(`${server.url}/api/documents/upload`, { method: 'POST', body: form })).status);
      }
    }));
    expect(statuses.filter((status) => status !== 201)).to.deep.equal([]);
    const after = await counts();
    expect(after.agents - before.agents).to.equal(200);
    expect(after.topics - before.topics).to.equal(200);
    expect(after.documents - before.documents).to.equal(200);
    expect(storedFiles(uploads)).to.have.lengthOf(after.documents);
  });

  async function counts(): Promise<Record<'agents' | 'topics' | 'documents', number>> {
    const total = async (route: string) => Number((await fetch(`${servers[1].url}${route}?limit=1`)).headers.get('x-total-count'));
    return { agents: await total('/api/agents/'), topics: await total('/api/topics/'), documents: await total('/api/documents/') };
  }
});
