// Crash safety: `dana serve` killed with SIGKILL while uploads stream in and chat replies
// stream out, then started again on the same data folder. Nothing acknowledged is lost,
// nothing half-done remains: no row without its file, no file without its row, no temp
// file, no half chat turn, and SQLite's own checks pass.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { chunksOf, multipartBody, streamRequest } from '../helpers/http.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { danaIn } from '../helpers/cli.js';
import { filesUnder, tempDir } from '../helpers/temp.js';
import { HttpClient } from './support/http-client.js';
import { auditUploads, checkDatabase, checkDatabaseCopy, selectAll, sha256, storedHash, type UploadAudit } from './support/data-folder.js';
import { count, report } from './support/report.js';

const ROUNDS = 8;
const SLOW_UPLOADS = 4;
const QUICK_UPLOADERS = 6;
const CHATTERS = 3;
/** Clients that delete each document right after uploading it, so that deletes are in flight at the kill. */
const CHURNERS = 8;
const SLOW_CHATS = 2;

interface Acknowledged {
  documents: Map<number, string>;
  /** Documents whose delete was sent but never answered: either outcome is fine. */
  uncertain: Set<number>;
  deleted: Set<number>;
  chats: Array<{ conversation_id: number; message_id: number; question: string; answer: string }>;
}

interface Round {
  restartedPid: number;
  killedAfterMs: number;
  slowUploadsCut: number;
  slowChatsCut: number;
  /** `PRAGMA integrity_check` of the file exactly as the kill left it. */
  integrityAtCrash: string[];
  tempFilesAtCrash: number;
  audit: UploadAudit;
}

describe('crash safety: dana serve killed with SIGKILL mid-upload and mid-chat, then restarted', function () {
  this.timeout(180_000);
  const acknowledged: Acknowledged = { documents: new Map(), uncertain: new Set(), deleted: new Set(), chats: [] };
  const rounds: Round[] = [];
  let home: string;
  let fake: FakeOpenAi;
  let server: ServeProcess | undefined;
  let agents: { local: number; model: number; stalling: number };

  before(async () => {
    home = tempDir('dana-robust-crash-');
    fake = await startFakeOpenAi('The fake model answers after the crash too.');
    server = await startServe(home);
    const setup = new HttpClient(server.url);
    const added = await danaIn(home)(['providers', 'add', 'fake', '--base-url', fake.baseUrl]);
    expect(added.code, added.stderr).to.equal(0);
    const create = async (name: string, config: Record<string, unknown>) => {
      const reply = await setup.request({ method: 'POST', path: '/api/agents/', json: { name, description: '', config } });
      expect(reply.status, reply.text).to.equal(201);
      return reply.json.id as number;
    };
    agents = {
      local: await create('Local', { provider: 'local' }),
      model: await create('Model', { provider: 'fake', model: 'fake' }),
      stalling: await create('Stalling', { provider: 'fake', model: 'slow', timeout: 120 }),
    };
    const notes = await setup.upload('notes.txt', 'Magma rises along the Mid-Atlantic Ridge.', { agent_id: String(agents.local) });
    expect(notes.status, notes.text).to.equal(201);
    acknowledged.documents.set(notes.json.id, sha256('Magma rises along the Mid-Atlantic Ridge.'));
    setup.close();

    for (let round = 1; round <= ROUNDS; round++) {
      const live = server as ServeProcess;
      const load = startLoad(live, agents, acknowledged);
      const killedAfterMs = await load.readyToKill(300 + 150 * round);
      live.child.kill('SIGKILL');
      await live.exited;
      const cut = await load.settled();
      const integrityAtCrash = checkDatabaseCopy(home, tempDir('dana-robust-crash-copy-')).integrity;
      const tempFilesAtCrash = filesUnder(path.join(home, 'uploads', '.tmp')).length;
      server = await startServe(home);
      rounds.push({
        restartedPid: server.child.pid as number,
        killedAfterMs,
        ...cut,
        integrityAtCrash,
        tempFilesAtCrash,
        audit: auditUploads(home),
      });
    }
  });

  after(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
  });

  it('was killed in the middle of uploads and of chat replies', () => {
    for (const round of rounds) {
      report(`crash: killed after ${(round.killedAfterMs / 1000).toFixed(1)} s with ${round.slowUploadsCut} uploads and ${round.slowChatsCut} chat replies in flight, ${round.tempFilesAtCrash} staged files left by the kill`);
    }
    expect(rounds).to.have.length(ROUNDS);
    for (const round of rounds) {
      expect(round.slowUploadsCut, 'uploads cut by the kill').to.equal(SLOW_UPLOADS);
      expect(round.slowChatsCut, 'chat replies cut by the kill').to.equal(SLOW_CHATS);
    }
  });

  it('keeps every upload it acknowledged, with its exact bytes', () => {
    const rows = new Map(selectAll<{ id: number; file_path: string }>(home, 'SELECT id, file_path FROM documents').map((row) => [row.id, row.file_path]));
    const lost = [...acknowledged.documents]
      .filter(([id]) => !acknowledged.deleted.has(id) && !acknowledged.uncertain.has(id))
      .filter(([id, sha]) => !rows.has(id) || storedHash(home, rows.get(id) as string) !== sha);
    report(`crash: ${count(acknowledged.documents.size)} acknowledged uploads, ${acknowledged.deleted.size} acknowledged deletes, ${lost.length} lost`);
    expect(lost.map(([id]) => id), 'acknowledged uploads missing or changed').to.deep.equal([]);
    const resurrected = [...acknowledged.deleted].filter((id) => rows.has(id));
    expect(resurrected, 'acknowledged deletes undone').to.deep.equal([]);
  });

  it('leaves no row whose file is missing after any restart', () => {
    for (const round of rounds) expect(round.audit.orphanRows, `after restart ${rounds.indexOf(round) + 1}`).to.deep.equal([]);
  });

  it('leaves no stored file without its row, and nothing else, outside the temp area', () => {
    // Names what each orphan was: an upload in flight, or a document whose delete was in flight.
    const byHash = new Map([...acknowledged.documents].map(([id, sha]) => [sha, id]));
    const explain = (file: string) => {
      const id = byHash.get(storedHash(home, file) ?? '');
      if (id === undefined) return `${file} (an upload never acknowledged)`;
      return `${file} (document ${id}, ${acknowledged.uncertain.has(id) ? 'its DELETE in flight at the kill' : acknowledged.deleted.has(id) ? 'deleted with 200' : 'acknowledged'})`;
    };
    for (const round of rounds) {
      expect(round.audit.orphanFiles.map(explain), `orphan files after restart ${rounds.indexOf(round) + 1}`).to.deep.equal([]);
      expect(round.audit.strayFiles, `stray files after restart ${rounds.indexOf(round) + 1}`).to.deep.equal([]);
    }
  });

  it('cleans the temp area of the killed server when it starts again', () => {
    for (const round of rounds) {
      expect(round.audit.tempFiles, `temp files after restart ${rounds.indexOf(round) + 1}`).to.deep.equal([]);
      const foreign = round.audit.tempDirs.filter((dir) => !dir.includes(`~${round.restartedPid}~`));
      expect(foreign, `staging folders of dead processes after restart ${rounds.indexOf(round) + 1}`).to.deep.equal([]);
    }
  });

  it('keeps every chat turn it acknowledged, and stores no half turn (nor any reply cut by the kill)', () => {
    const messages = selectAll<{ id: number; conversation_id: number; sender: string; content: string }>(home, 'SELECT id, conversation_id, sender, content FROM messages ORDER BY id');
    const conversations = selectAll<{ id: number; title: string }>(home, 'SELECT id, title FROM conversations ORDER BY id');
    const byConversation = new Map<number, string[]>();
    for (const message of messages) byConversation.set(message.conversation_id, [...(byConversation.get(message.conversation_id) ?? []), message.sender]);
    const halfTurns = conversations.filter((conversation) => (byConversation.get(conversation.id) ?? []).join(',') !== 'user,agent');
    report(`crash: ${count(acknowledged.chats.length)} acknowledged chat turns, ${count(conversations.length)} conversations stored, ${halfTurns.length} incomplete`);
    expect(halfTurns, 'conversations without exactly one question and its answer').to.deep.equal([]);
    expect(conversations.filter((conversation) => conversation.title.startsWith('stalled')), 'replies cut by the kill were stored').to.deep.equal([]);
    const stored = new Map(messages.map((message) => [message.id, message]));
    const lost = acknowledged.chats.filter((chat) => stored.get(chat.message_id)?.content !== chat.answer || stored.get(chat.message_id)?.conversation_id !== chat.conversation_id);
    expect(lost, 'acknowledged chat turns lost').to.deep.equal([]);
  });

  it('leaves a database that passes PRAGMA integrity_check and foreign_key_check', () => {
    for (const round of rounds) expect(round.integrityAtCrash, `as the kill left it, round ${rounds.indexOf(round) + 1}`).to.deep.equal(['ok']);
    const { integrity, foreignKeyViolations } = checkDatabase(home);
    expect(integrity).to.deep.equal(['ok']);
    expect(foreignKeyViolations).to.deep.equal([]);
  });

  it('serves uploads and chats as before once restarted', async () => {
    const client = new HttpClient((server as ServeProcess).url);
    try {
      const upload = await client.upload('after.txt', 'after the crash');
      expect(upload.status, upload.text).to.equal(201);
      const chat = await client.request({ method: 'POST', path: '/api/chat/', json: { message: 'Where does magma rise?', agent_id: agents.local } });
      expect(chat.status, chat.text).to.equal(200);
      expect(chat.json.agent_response).to.include('Mid-Atlantic Ridge');
    } finally {
      client.close();
    }
  });

  it('on start, removes what a dead process staged but never committed, and keeps what it committed', async () => {
    await (server as ServeProcess).stop('SIGTERM');
    const uploads = path.join(home, 'uploads');
    const deadPid = await pidOfExitedProcess();
    const staging = path.join(uploads, '.tmp', `${os.hostname()}~${deadPid}~${randomUUID().slice(0, 8)}`);
    fs.mkdirSync(staging, { recursive: true });
    // Placed at its final path but killed before the row was committed.
    const day = new Date().toISOString().slice(0, 10).split('-');
    const uncommitted = `${day.join('/')}/${randomUUID()}.txt`;
    fs.mkdirSync(path.join(uploads, path.dirname(uncommitted)), { recursive: true });
    fs.writeFileSync(path.join(staging, uncommitted.replaceAll('/', '-')), 'never committed');
    fs.linkSync(path.join(staging, uncommitted.replaceAll('/', '-')), path.join(uploads, uncommitted));
    // Committed, but killed before the temp link was dropped.
    const committed = selectAll<{ id: number; file_path: string }>(home, 'SELECT id, file_path FROM documents ORDER BY id LIMIT 1')[0];
    fs.linkSync(path.join(uploads, committed.file_path), path.join(staging, committed.file_path.replaceAll('/', '-')));
    // Still streaming in when the process died.
    fs.writeFileSync(path.join(staging, `${day.join('-')}-${randomUUID()}.pdf`), randomBytes(1000));
    // Another host's staging folder: abandoned once it is a day old, left alone before.
    const oldForeign = path.join(uploads, '.tmp', `other-host~4242~${randomUUID().slice(0, 8)}`);
    const freshForeign = path.join(uploads, '.tmp', `other-host~4343~${randomUUID().slice(0, 8)}`);
    for (const dir of [oldForeign, freshForeign]) {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, `${day.join('-')}-${randomUUID()}.txt`), 'partial');
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    fs.utimesSync(oldForeign, twoDaysAgo, twoDaysAgo);

    const orphansBefore = auditUploads(home).orphanFiles;
    server = await startServe(home);
    expect(fs.existsSync(path.join(uploads, uncommitted)), 'the uncommitted file at its final path').to.equal(false);
    expect(fs.existsSync(staging), 'the dead process\'s staging folder').to.equal(false);
    expect(fs.existsSync(oldForeign), 'another host\'s staging folder, two days old').to.equal(false);
    expect(fs.existsSync(freshForeign), 'another host\'s staging folder, fresh').to.equal(true);
    expect(storedHash(home, committed.file_path), 'the committed file').to.equal(acknowledged.documents.get(committed.id));
    expect(auditUploads(home).orphanFiles, 'orphan files, compared with before the start').to.deep.equal(orphansBefore.filter((file) => file !== uncommitted));
  });
});

/** A pid that belonged to a process of ours that has exited. */
async function pidOfExitedProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid as number;
}

interface Load {
  /** Resolves once uploads and chat replies are under way (and at least `minMs` passed), with the time since the start. */
  readyToKill(minMs: number): Promise<number>;
  /** Waits for every client to notice the server is gone; how many slow uploads and chats were cut. */
  settled(): Promise<{ slowUploadsCut: number; slowChatsCut: number }>;
}

/** Slow uploads and stalled chat replies held open, and quick uploads, upload-then-delete and chats in loops. */
function startLoad(server: ServeProcess, agents: { local: number; model: number; stalling: number }, acknowledged: Acknowledged): Load {
  const started = Date.now();
  let stopped = false;
  const client = new HttpClient(server.url, QUICK_UPLOADERS + CHATTERS + CHURNERS);
  let slowUploadsSending = 0;
  let quickUploadsStored = 0;
  let deletesInFlight = 0;
  const slowUploads = Array.from({ length: SLOW_UPLOADS }, (_, i) => {
    const { body, contentType } = multipartBody([{ name: 'file', filename: `slow-${i}.txt`, data: randomBytes(1024 * 1024).toString('base64') }]);
    return streamRequest(server.url, {
      path: '/api/documents/upload',
      headers: { 'content-type': contentType, 'content-length': body.length },
      chunks: chunksOf(body, 16 * 1024),
      pauseMs: 40,
      onChunk: (sent) => {
        if (sent === 16 * 1024) slowUploadsSending++;
      },
    }).then(() => false, () => true);
  });
  const stalled = Array.from({ length: SLOW_CHATS }, (_, i) => stalledChat(server.url, agents.stalling, `stalled ${i}`));

  const quickUploads = Array.from({ length: QUICK_UPLOADERS }, async (_, worker) => {
    for (let n = 0; !stopped; n++) {
      const bytes = randomBytes(1 + Math.floor(Math.random() * 64 * 1024));
      const reply = await client.upload(`quick-${worker}-${n}.md`, bytes).catch(() => undefined);
      if (reply?.status === 201) {
        acknowledged.documents.set(reply.json.id, sha256(bytes));
        quickUploadsStored++;
      }
    }
  });
  const churn = Array.from({ length: CHURNERS }, async (_, worker) => {
    for (let n = 0; !stopped; n++) {
      const bytes = randomBytes(1 + Math.floor(Math.random() * 4096));
      const reply = await client.upload(`churn-${worker}-${n}.txt`, bytes).catch(() => undefined);
      if (reply?.status !== 201) continue;
      const id = reply.json.id as number;
      acknowledged.documents.set(id, sha256(bytes));
      acknowledged.uncertain.add(id);
      deletesInFlight++;
      const deleted = await client.request({ method: 'DELETE', path: `/api/documents/${id}` }).catch(() => undefined);
      deletesInFlight--;
      if (deleted) acknowledged.uncertain.delete(id);
      if (deleted?.status === 200) acknowledged.deleted.add(id);
    }
  });
  const chats = Array.from({ length: CHATTERS }, async (_, worker) => {
    for (let n = 0; !stopped; n++) {
      const question = `question ${worker}-${n}: where does magma rise?`;
      const agent = worker === 0 ? agents.model : agents.local;
      const reply = await client.request({ method: 'POST', path: '/api/chat/', json: { message: question, agent_id: agent } }).catch(() => undefined);
      if (reply?.status === 200) {
        acknowledged.chats.push({ conversation_id: reply.json.conversation_id, message_id: reply.json.message_id, question, answer: reply.json.agent_response });
      }
    }
  });
  // Loops stop when the server is gone: requests fail fast once nothing listens.
  const serverGone = server.exited.then(() => {
    stopped = true;
  });

  return {
    async readyToKill(minMs) {
      await Promise.all(stalled.map((chat) => chat.firstDelta));
      while (slowUploadsSending < SLOW_UPLOADS || quickUploadsStored < QUICK_UPLOADERS) await delay(20);
      const waited = Date.now() - started;
      if (waited < minMs) await delay(minMs - waited);
      // Kill while deletes are in flight too: their unlink after the commit is a window of its own.
      for (const giveUp = Date.now() + 2000; deletesInFlight < CHURNERS / 2 && Date.now() < giveUp;) await delay(1);
      return Date.now() - started;
    },
    async settled() {
      await serverGone;
      const cutUploads = await Promise.all(slowUploads);
      const cutChats = await Promise.all(stalled.map((chat) => chat.cut));
      await Promise.all([...quickUploads, ...churn, ...chats]);
      client.close();
      return { slowUploadsCut: cutUploads.filter(Boolean).length, slowChatsCut: cutChats.filter(Boolean).length };
    },
  };
}

/** A streamed chat with a model that sends one delta and stalls: `cut` is true when the connection dies before `done`. */
function stalledChat(baseUrl: string, agentId: number, message: string): { firstDelta: Promise<void>; cut: Promise<boolean> } {
  let sawDelta: () => void = () => undefined;
  const firstDelta = new Promise<void>((resolve) => (sawDelta = resolve));
  const cut = new Promise<boolean>((resolve) => {
    const url = new URL(baseUrl);
    const body = JSON.stringify({ message, agent_id: agentId });
    const req = http.request({
      host: url.hostname, port: url.port, method: 'POST', path: '/api/chat/', agent: false,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body) },
    });
    let text = '';
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('event: delta')) sawDelta();
      });
      res.on('end', () => resolve(!text.includes('event: done')));
      res.on('close', () => resolve(!text.includes('event: done')));
      res.on('error', () => resolve(true));
    });
    req.on('error', () => resolve(true));
    req.end(body);
  });
  return { firstDelta, cut };
}
