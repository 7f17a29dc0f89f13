// Many writers on one data folder: 50 HTTP clients of one `dana serve` and 4 `dana` CLI
// processes create agents, topics, conversations, messages, uploads and chat turns at the
// same time. Afterwards the database holds exactly what clients were told was stored.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { runDana, type CliResult } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';
import { HttpClient, type Reply } from './support/http-client.js';
import { auditUploads, selectAll, sha256, storedHash, type UploadAudit } from './support/data-folder.js';
import { count, describeLatency, latency, ms, report } from './support/report.js';

const HTTP_CLIENTS = 50;
const CLI_PROCESSES = 4;
const DURATION_MS = Number(process.env.DANA_ROBUST_SECONDS ?? 20) * 1000;
/** Topic names every writer tries to take in the same quarter second: one wins, the rest get 409. */
const CONTEST_WINDOW_MS = 250;
const LOCK_ERROR = /SQLITE_BUSY|SQLITE_LOCKED|database is locked|database is busy/i;

interface ExpectedMessage {
  id?: number;
  conversation_id: number;
  sender: string;
  content: string;
}

interface ExpectedDocument {
  original_filename: string;
  file_size: number;
  sha: string;
  agent_id: number | null;
}

/** What clients were told is stored, and what went wrong. */
class Ledger {
  readonly agents = new Map<number, { name: string; config: unknown }>();
  readonly topics = new Map<number, string>();
  /** Contested topic name → ids of the creates that got 201. */
  readonly contested = new Map<string, number[]>();
  refusedDuplicates = 0;
  readonly conversations = new Map<number, { title: string; agent_id: number | null }>();
  readonly messages: ExpectedMessage[] = [];
  readonly deletedMessages = new Set<number>();
  readonly documents = new Map<number, ExpectedDocument>();
  readonly deletedDocuments = new Set<number>();
  readonly failures: string[] = [];
  readonly latencies: number[] = [];
  /** Durations by kind of request ("POST /api/chat/"), to name the slowest. */
  readonly latenciesByKind = new Map<string, number[]>();
  readonly cliDurations: number[] = [];
  httpRequests = 0;
  chats = 0;
  cliCommands = 0;

  fail(who: string, what: string, detail: string): void {
    this.failures.push(`${who} ${what}: ${detail.slice(0, 300)}`);
  }

  contestedTopic(name: string, id: number): void {
    this.contested.set(name, [...(this.contested.get(name) ?? []), id]);
  }
}

describe('concurrency: 50 HTTP clients and 4 CLI processes on one data folder', function () {
  this.timeout(DURATION_MS + 120_000);
  const ledger = new Ledger();
  let home: string;
  let server: ServeProcess;
  let elapsedMs = 0;
  let audit: UploadAudit;
  let serverExit: { code: number | null; signal: string | null };

  before(async () => {
    home = tempDir('dana-robust-concurrency-');
    server = await startServe(home);
    const seedClient = new HttpClient(server.url);
    const shared = await seedClient.request({ method: 'POST', path: '/api/conversations/', json: { title: 'shared' } });
    expect(shared.status, shared.text).to.equal(201);
    ledger.conversations.set(shared.json.id, { title: 'shared', agent_id: null });
    seedClient.close();

    const client = new HttpClient(server.url, HTTP_CLIENTS);
    const started = Date.now();
    const deadline = started + DURATION_MS;
    const files = tempDir('dana-robust-cli-files-');
    await Promise.all([
      ...Array.from({ length: HTTP_CLIENTS }, (_, worker) => httpWorker(client, worker, started, deadline, shared.json.id, ledger)),
      ...Array.from({ length: CLI_PROCESSES }, (_, worker) => cliWorker(home, files, worker, started, deadline, ledger)),
    ]);
    elapsedMs = Date.now() - started;
    client.close();
    serverExit = await server.stop('SIGTERM');
    audit = auditUploads(home);
  });

  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('answers every request with success, and no lock error ever reaches a client', () => {
    const stats = latency(ledger.latencies);
    const cli = latency(ledger.cliDurations);
    const lockErrors = ledger.failures.filter((failure) => LOCK_ERROR.test(failure) || / 503\b/.test(failure));
    report(
      `concurrency: ${count(ledger.httpRequests)} HTTP requests (${HTTP_CLIENTS} clients) and ${count(ledger.cliCommands)} CLI commands `
      + `(${CLI_PROCESSES} processes) in ${(elapsedMs / 1000).toFixed(1)} s, ${count(Math.round(ledger.httpRequests / (elapsedMs / 1000)))} req/s; `
      + `HTTP ${describeLatency(stats)}; CLI command p50 ${ms(cli.p50)}; ${ledger.failures.length} errors, ${lockErrors.length} lock errors`,
    );
    const byKind = [...ledger.latenciesByKind].map(([kind, durations]) => ({ kind, ...latency(durations) })).sort((a, b) => b.p99 - a.p99);
    report(`concurrency: slowest requests by p99: ${byKind.slice(0, 4).map((kind) => `${kind.kind} ${ms(kind.p99)} (${count(kind.count)})`).join(', ')}`);
    expect(lockErrors, 'lock errors seen by clients').to.deep.equal([]);
    expect(ledger.failures, 'failed requests and commands').to.deep.equal([]);
    expect(ledger.httpRequests, 'the clients kept the server busy').to.be.greaterThan(HTTP_CLIENTS * 10);
    expect(ledger.cliCommands, 'every CLI process ran commands').to.be.at.least(CLI_PROCESSES * 2);
  });

  it('shuts down cleanly afterwards (exit 0, no error logged)', () => {
    expect(serverExit, server.stderr()).to.deep.equal({ code: 0, signal: null });
    expect(`${server.stdout()}\n${server.stderr()}`).not.to.match(/\bERROR\b/);
  });

  it('stores exactly the agents clients were told were created', () => {
    const rows = selectAll<{ id: number; name: string; config: string }>(home, 'SELECT id, name, config FROM agents ORDER BY id');
    expect(rows.map((row) => ({ id: row.id, name: row.name, config: JSON.parse(row.config) })))
      .to.deep.equal([...ledger.agents].sort(([a], [b]) => a - b).map(([id, agent]) => ({ id, ...agent })));
  });

  it('stores exactly one topic per contested name, and none of the refused duplicates', () => {
    const rows = selectAll<{ id: number; name: string }>(home, 'SELECT id, name FROM topics ORDER BY id');
    const winners = [...ledger.contested].filter(([, ids]) => ids.length !== 1);
    report(`concurrency: ${count(rows.length)} topics, ${ledger.contested.size} names contested by every writer, ${count(ledger.refusedDuplicates)} duplicates refused with 409 / exit 4`);
    expect(winners, 'contested names with other than one winner').to.deep.equal([]);
    expect(rows).to.deep.equal([...ledger.topics].sort(([a], [b]) => a - b).map(([id, name]) => ({ id, name })));
  });

  it('stores exactly the conversations and messages clients were told were created (and not those deleted)', () => {
    const conversations = selectAll<{ id: number; title: string; agent_id: number | null }>(home, 'SELECT id, title, agent_id FROM conversations ORDER BY id');
    expect(conversations).to.deep.equal([...ledger.conversations].sort(([a], [b]) => a - b).map(([id, conversation]) => ({ id, ...conversation })));

    const rows = selectAll<Required<ExpectedMessage>>(home, 'SELECT id, conversation_id, sender, content FROM messages ORDER BY id');
    const unmatched = new Map(rows.map((row) => [row.id, row]));
    const missing: ExpectedMessage[] = [];
    const expected = ledger.messages.filter((message) => message.id === undefined || !ledger.deletedMessages.has(message.id));
    // Messages with a known id first; a chat's question (whose id no response names) by its unique text.
    for (const message of [...expected].sort((a, b) => Number(a.id === undefined) - Number(b.id === undefined))) {
      const row = message.id !== undefined
        ? unmatched.get(message.id)
        : [...unmatched.values()].find((candidate) => candidate.conversation_id === message.conversation_id && candidate.sender === message.sender && candidate.content === message.content);
      if (row && row.conversation_id === message.conversation_id && row.sender === message.sender && row.content === message.content) unmatched.delete(row.id);
      else missing.push(message);
    }
    report(`concurrency: ${count(conversations.length)} conversations, ${count(rows.length)} messages (${count(ledger.chats)} chat turns), ${ledger.deletedMessages.size} deleted`);
    expect(missing, 'messages acknowledged but not stored as sent').to.deep.equal([]);
    expect([...unmatched.values()], 'messages stored that no client was told about').to.deep.equal([]);
  });

  it('stores exactly the documents clients were told were uploaded, each with its exact bytes, and no other file', () => {
    const expected = [...ledger.documents].filter(([id]) => !ledger.deletedDocuments.has(id)).sort(([a], [b]) => a - b);
    report(`concurrency: ${count(audit.documents.length)} documents with ${count(audit.stored.length)} stored files, ${ledger.deletedDocuments.size} deleted; ${audit.orphanRows.length} orphan rows, ${audit.orphanFiles.length} orphan files, ${audit.tempFiles.length} temp files`);
    expect(audit.documents.map((row) => ({
      id: row.id, original_filename: row.original_filename, file_size: Number(row.file_size), sha: storedHash(home, row.file_path), agent_id: row.agent_id,
    }))).to.deep.equal(expected.map(([id, document]) => ({ id, ...document })));
    expect(audit.orphanRows, 'rows without their file').to.deep.equal([]);
    expect(audit.orphanFiles, 'files without their row').to.deep.equal([]);
    expect(audit.strayFiles, 'other files in the upload folder').to.deep.equal([]);
    expect(audit.tempFiles, 'files left in the temp area').to.deep.equal([]);
  });
});

type Op = 'agent' | 'topic' | 'conversation' | 'message' | 'upload' | 'chat' | 'deleteDocument' | 'deleteMessage' | 'read';
const HTTP_MIX: Array<[Op, number]> = [
  ['agent', 16], ['topic', 12], ['conversation', 10], ['message', 24], ['upload', 12], ['chat', 4], ['deleteDocument', 2], ['deleteMessage', 2], ['read', 18],
];

function pick<T>(mix: Array<[T, number]>): T {
  let roll = Math.random() * mix.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [item, weight] of mix) {
    roll -= weight;
    if (roll < 0) return item;
  }
  return mix[mix.length - 1][0];
}

function contestedName(started: number): string {
  return `contested-${Math.floor((Date.now() - started) / CONTEST_WINDOW_MS)}`;
}

/** One HTTP client: a random mix of creates, deletes and reads until the deadline. */
async function httpWorker(client: HttpClient, worker: number, started: number, deadline: number, sharedConversation: number, ledger: Ledger): Promise<void> {
  const who = `http client ${worker}`;
  const mine = { agents: [] as number[], conversations: [sharedConversation], documents: [] as number[], messages: [] as Array<{ id: number; conversation: number }> };
  const any = <T>(items: T[]): T | undefined => items[Math.floor(Math.random() * items.length)];
  for (let n = 0; Date.now() < deadline; n++) {
    const tag = `h${worker}-${n}`;
    const op = pick(HTTP_MIX);
    const call = async (what: string, send: () => Promise<Reply>, expected: number[]): Promise<Reply | undefined> => {
      ledger.httpRequests++;
      let reply: Reply;
      try {
        reply = await send();
      } catch (error) {
        ledger.fail(who, what, `network error ${(error as Error).message}`);
        return undefined;
      }
      ledger.latencies.push(reply.ms);
      const kind = what.replace(/\d+/g, '{id}').replace(/\?.*$/, '');
      ledger.latenciesByKind.set(kind, [...(ledger.latenciesByKind.get(kind) ?? []), reply.ms]);
      if (!expected.includes(reply.status)) {
        ledger.fail(who, what, `${reply.status} ${reply.text}`);
        return undefined;
      }
      return reply;
    };

    if (op === 'agent') {
      const config = { worker, n };
      const reply = await call('POST /api/agents/', () => client.request({ method: 'POST', path: '/api/agents/', json: { name: tag, description: 'load', config } }), [201]);
      if (reply) {
        ledger.agents.set(reply.json.id, { name: tag, config });
        mine.agents.push(reply.json.id);
      }
    } else if (op === 'topic') {
      const isContested = Math.random() < 0.3;
      const name = isContested ? contestedName(started) : tag;
      const reply = await call('POST /api/topics/', () => client.request({ method: 'POST', path: '/api/topics/', json: { name, description: '' } }), isContested ? [201, 409] : [201]);
      if (reply?.status === 201) {
        ledger.topics.set(reply.json.id, name);
        if (isContested) ledger.contestedTopic(name, reply.json.id);
      } else if (reply?.status === 409) {
        ledger.refusedDuplicates++;
      }
    } else if (op === 'conversation') {
      const agent = Math.random() < 0.5 ? any(mine.agents) ?? null : null;
      const reply = await call('POST /api/conversations/', () => client.request({ method: 'POST', path: '/api/conversations/', json: { title: tag, agent_id: agent } }), [201]);
      if (reply) {
        ledger.conversations.set(reply.json.id, { title: tag, agent_id: agent });
        mine.conversations.push(reply.json.id);
      }
    } else if (op === 'message') {
      const conversation = Math.random() < 0.2 ? sharedConversation : any(mine.conversations) ?? sharedConversation;
      const path = `/api/conversations/${conversation}/messages/`;
      const reply = await call(`POST ${path}`, () => client.request({ method: 'POST', path, json: { sender: 'user', content: tag } }), [201]);
      if (reply) {
        ledger.messages.push({ id: reply.json.id, conversation_id: conversation, sender: 'user', content: tag });
        mine.messages.push({ id: reply.json.id, conversation });
      }
    } else if (op === 'upload') {
      const bytes = Buffer.from(`${tag} `.repeat(1 + Math.floor(Math.random() * 2000)));
      const agent = any(mine.agents);
      const reply = await call('POST /api/documents/upload', () => client.upload(`${tag}.txt`, bytes, agent ? { agent_id: String(agent) } : {}), [201]);
      if (reply) {
        ledger.documents.set(reply.json.id, { original_filename: `${tag}.txt`, file_size: bytes.length, sha: sha256(bytes), agent_id: agent ?? null });
        mine.documents.push(reply.json.id);
      }
    } else if (op === 'chat') {
      const agent = any(mine.agents);
      if (agent === undefined) continue;
      const message = `${tag} what do my documents say?`;
      const reply = await call('POST /api/chat/', () => client.request({ method: 'POST', path: '/api/chat/', json: { message, agent_id: agent } }), [200]);
      if (reply) {
        ledger.chats++;
        const conversation = reply.json.conversation_id;
        ledger.conversations.set(conversation, { title: message, agent_id: agent });
        ledger.messages.push({ conversation_id: conversation, sender: 'user', content: message });
        ledger.messages.push({ id: reply.json.message_id, conversation_id: conversation, sender: 'agent', content: reply.json.agent_response });
      }
    } else if (op === 'deleteDocument') {
      const id = mine.documents.pop();
      if (id === undefined) continue;
      if (await call(`DELETE /api/documents/${id}`, () => client.request({ method: 'DELETE', path: `/api/documents/${id}` }), [200])) ledger.deletedDocuments.add(id);
    } else if (op === 'deleteMessage') {
      const message = mine.messages.pop();
      if (message === undefined) continue;
      const path = `/api/conversations/${message.conversation}/messages/${message.id}`;
      if (await call(`DELETE ${path}`, () => client.request({ method: 'DELETE', path }), [200])) ledger.deletedMessages.add(message.id);
    } else {
      const document = any(mine.documents);
      const reads = [
        '/api/agents/?limit=20',
        `/api/conversations/${any(mine.conversations) ?? sharedConversation}`,
        ...(document ? [`/api/documents/${document}/download`] : []),
      ];
      const path = any(reads) as string;
      const reply = await call(`GET ${path}`, () => client.request({ method: 'GET', path }), [200]);
      if (reply && document && path.endsWith('/download') && sha256(reply.body) !== ledger.documents.get(document)?.sha) {
        ledger.fail(who, `GET ${path}`, 'downloaded bytes differ from the upload');
      }
    }
  }
}

type CliOp = 'agent' | 'topic' | 'conversation' | 'message' | 'upload';

/** One `dana` process at a time, each a create of some kind, until the deadline. */
async function cliWorker(home: string, files: string, worker: number, started: number, deadline: number, ledger: Ledger): Promise<void> {
  const who = `CLI worker ${worker}`;
  let conversation: number | undefined;
  const dana = async (args: string[], okCodes = [0]): Promise<CliResult | undefined> => {
    const began = performance.now();
    const result = await runDana([...args, '--json'], { env: { DANA_HOME: home }, timeoutMs: 60_000 });
    ledger.cliDurations.push(performance.now() - began);
    ledger.cliCommands++;
    if (!okCodes.includes(result.code ?? -1)) {
      ledger.fail(who, `dana ${args.join(' ')}`, `exit ${result.code}: ${result.stderr.trim()} ${result.stdout.trim()}`);
      return undefined;
    }
    return result;
  };
  const ops: CliOp[] = ['agent', 'topic', 'conversation', 'message', 'upload'];
  for (let n = 0; Date.now() < deadline; n++) {
    const tag = `c${worker}-${n}`;
    let op = ops[(n + worker) % ops.length];
    if (op === 'message' && conversation === undefined) op = 'conversation';
    if (op === 'agent') {
      const config = { cli: worker, n };
      const result = await dana(['agents', 'create', '--name', tag, '--config', JSON.stringify(config)]);
      if (result) ledger.agents.set(result.json.id, { name: tag, config });
    } else if (op === 'topic') {
      const isContested = n % 3 === 0;
      const name = isContested ? contestedName(started) : tag;
      const result = await dana(['topics', 'create', '--name', name], isContested ? [0, 4] : [0]);
      if (result?.code === 0) {
        ledger.topics.set(result.json.id, name);
        if (isContested) ledger.contestedTopic(name, result.json.id);
      } else if (result?.code === 4) {
        ledger.refusedDuplicates++;
      }
    } else if (op === 'conversation') {
      const result = await dana(['conversations', 'create', '--title', tag]);
      if (result) {
        ledger.conversations.set(result.json.id, { title: tag, agent_id: null });
        conversation = result.json.id;
      }
    } else if (op === 'message' && conversation !== undefined) {
      const result = await dana(['messages', 'create', '--conversation', String(conversation), '--sender', 'cli', '--content', tag]);
      if (result) ledger.messages.push({ id: result.json.id, conversation_id: conversation, sender: 'cli', content: tag });
    } else {
      const file = path.join(files, `${tag}.md`);
      const bytes = Buffer.from(`# ${tag}\n`.repeat(1 + Math.floor(Math.random() * 500)));
      fs.writeFileSync(file, bytes);
      const result = await dana(['docs', 'upload', file]);
      if (result) ledger.documents.set(result.json.id, { original_filename: `${tag}.md`, file_size: bytes.length, sha: sha256(bytes), agent_id: null });
    }
  }
}
