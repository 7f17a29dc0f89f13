// Bad input never gets a 500: requests generated with fast-check from the route table and
// the JSON Schemas of src/ (so new routes and fields are covered as they appear) are sent
// to a real `dana serve`. Every answer must be a 4xx with a JSON `{"detail": …}` body,
// the server must stay up, and refused requests must leave the data folder as it was.
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { expect } from 'chai';
import { createContext } from '../../src/core/context.js';
import { apiRoutes } from '../../src/server/app.js';
import type { Route } from '../../src/server/routes/route.js';
import { testConfig } from '../helpers/context.js';
import { multipartBody, rawExchange, requestHead } from '../helpers/http.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';
import {
  badPathRequests, badQueryRequests, badUploadRequests, deeplyNestedRequests, duplicateKeyRequests, schemaBreakingRequests,
  unreadableBodyRequests, unservedMethodRequests, type BadRequest, type Seeds,
} from './support/bad-requests.js';
import { describeChanges, snapshot } from './support/data-folder.js';
import { HttpClient, type Reply } from './support/http-client.js';
import { count, report } from './support/report.js';

const SEED = Number(process.env.DANA_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Multiplies the number of generated cases (DANA_FUZZ_SCALE=10 for a long local run). */
const SCALE = Number(process.env.DANA_FUZZ_SCALE ?? 1);
const MAX_UPLOAD_MB = 1;

type Generated = Array<{ label: string; arbitrary: fc.Arbitrary<BadRequest> }>;

describe('bad input: generated bad requests against every route', function () {
  this.timeout(180_000);
  let routes: Route[];
  let home: string;
  let server: ServeProcess;
  let client: HttpClient;
  let seeds: Seeds;
  const totals = { cases: 0, refused: 0 };
  /** How the server died, each time it did (it is restarted so the other checks still run). */
  const crashes: string[] = [];
  /** The output of servers that crashed, for the log check. */
  const earlierLogs: string[] = [];
  const serveEnv = { DANA_MAX_UPLOAD_MB: String(MAX_UPLOAD_MB) };

  /** True (after restarting it) when the server process died; an unanswered request may be why. */
  async function restartedAfterCrash(): Promise<boolean> {
    await Promise.race([server.exited, delay(300)]);
    if (server.child.exitCode === null && server.child.signalCode === null) return false;
    crashes.push(crashSummary(server.stderr()));
    earlierLogs.push(server.stdout(), server.stderr());
    client.close();
    server = await startServe(home, { env: serveEnv });
    client = new HttpClient(server.url);
    return true;
  }

  before(async () => {
    // The route table as the server builds it; a throwaway context is enough to list it.
    const context = await createContext(testConfig(tempDir()));
    routes = apiRoutes(context);
    await context.close();

    home = tempDir('dana-robust-bad-input-');
    server = await startServe(home, { env: serveEnv });
    client = new HttpClient(server.url);
    seeds = await seedRows(client);
    report(`bad input: ${routes.length} routes (${routes.reduce((n, route) => n + route.methods.length, 0)} route-methods), fast-check seed ${SEED} (DANA_FUZZ_SEED=${SEED} replays it)`);
  });

  after(async () => {
    report(`bad input: ${count(totals.cases)} generated cases in all, ${count(totals.refused)} refused with 4xx {"detail": …}, ${count(totals.cases - totals.refused)} not`);
    client?.close();
    await server?.stop('SIGKILL');
  });

  /** Sends every request; expects 4xx + {"detail"} for each, the server still up, and nothing changed. */
  async function expectAllRefused(category: string, requests: BadRequest[], routeCount: number): Promise<void> {
    const before = snapshot(home);
    const failures: Array<{ request: BadRequest; outcome: string }> = [];
    for (const request of requests) {
      let reply: Reply;
      try {
        reply = await client.request({ method: request.method, path: request.path, headers: request.headers, body: request.body, timeoutMs: 30_000 });
      } catch (error) {
        const crashed = await restartedAfterCrash();
        failures.push({ request, outcome: `no answer: ${(error as Error).message}${crashed ? ' (the server crashed)' : ''}` });
        continue;
      }
      const problem = refusalProblem(reply);
      if (problem) failures.push({ request, outcome: problem });
    }
    totals.cases += requests.length;
    totals.refused += requests.length - failures.length;
    const health = await client.request({ method: 'GET', path: '/health' }).catch((error: Error) => ({ status: 0, text: error.message }));
    const changes = describeChanges(before, snapshot(home));
    report(`bad input · ${category}: ${count(requests.length)} cases on ${routeCount} routes, ${failures.length} not refused${changes ? ', data folder changed' : ''}`);
    expect(failures.length, `requests not refused with 4xx {"detail": …}, one example per kind:\n${summarise(failures).join('\n')}\n`).to.equal(0);
    expect(health.status, `the server is still up: ${health.text}`).to.equal(200);
    expect(changes, 'what the refused requests changed').to.equal('');
  }

  function generate(generated: Generated, runsPerRoute: number): BadRequest[] {
    return generated.flatMap(({ arbitrary }, index) => fc.sample(arbitrary, { seed: SEED + index, numRuns: Math.max(1, Math.round(runsPerRoute * SCALE)) }));
  }

  it('refuses JSON bodies that break their schema: wrong types, huge and negative numbers, huge strings, unknown or missing fields', async () => {
    const generated = schemaBreakingRequests(routes, seeds);
    await expectAllRefused('JSON bodies against their schemas', generate(generated, 200), generated.length);
  });

  it('refuses bodies that are not clean JSON: invalid UTF-8, cut short, non-standard, another content type, over 10 MiB', async () => {
    const generated = unreadableBodyRequests(routes, seeds);
    await expectAllRefused('unreadable JSON bodies', generate(generated, 80), generated.length);
  });

  it('refuses JSON objects with a duplicate key (which value would count is ambiguous)', async () => {
    const generated = duplicateKeyRequests(routes, seeds);
    await expectAllRefused('duplicate keys', generate(generated, 8), generated.length);
  });

  it('refuses JSON nested 10,000 to 100,000 levels deep, wherever it is in the body', async () => {
    const generated = deeplyNestedRequests(routes, seeds);
    await expectAllRefused('deeply nested JSON', generate(generated, 12), generated.length);
  });

  it('refuses path ids that are not positive integers, on every route with one', async () => {
    const generated = badPathRequests(routes, seeds);
    await expectAllRefused('path ids', generate(generated, 40), generated.length);
  });

  it('refuses query parameters out of their schema: negative, huge, not numbers, given twice, broken encodings', async () => {
    const generated = badQueryRequests(routes, seeds);
    await expectAllRefused('query strings', generate(generated, 100), generated.length);
  });

  it('refuses broken upload forms: truncated multipart, no file, two files, refused types, bad fields, too large, not multipart', async () => {
    const generated = badUploadRequests(routes, seeds, MAX_UPLOAD_MB * 1024 * 1024);
    await expectAllRefused('upload forms', generate(generated, 150), generated.length);
  });

  it('refuses the methods a path does not serve', async () => {
    const requests = unservedMethodRequests(routes, seeds);
    await expectAllRefused('unserved methods', requests, new Set(routes.map((route) => route.path)).size);
  });

  it('answers requests the HTTP parser refuses (oversized URL or headers, malformed request line) with a JSON 4xx too', async () => {
    const cases: Array<{ why: string; bytes: Buffer }> = [
      { why: 'a 20 KB URL', bytes: requestHead('GET', `/api/agents/?limit=${'9'.repeat(20_000)}`, {}) },
      { why: 'a 20 KB header', bytes: requestHead('GET', '/api/agents/', { 'X-Padding': 'p'.repeat(20_000) }) },
      { why: 'a malformed request line', bytes: Buffer.from('GARBAGE\r\n\r\n') },
      { why: 'a space in the URL', bytes: Buffer.from('GET /api/ag ents/ HTTP/1.1\r\nHost: x\r\n\r\n') },
      { why: 'a raw 0xFF byte in the URL', bytes: Buffer.concat([Buffer.from('GET /api/agents/'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]) },
      { why: 'a header name with a space', bytes: Buffer.from('GET /api/agents/ HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n') },
      { why: 'a NUL in a header value', bytes: Buffer.from('GET /api/agents/ HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n') },
      { why: 'Content-Length and Transfer-Encoding together', bytes: Buffer.from('POST /api/agents/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n') },
      { why: 'a Content-Length that is not a number', bytes: Buffer.from('POST /api/agents/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}') },
      { why: 'a broken chunked body', bytes: Buffer.from('POST /api/agents/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n') },
      { why: 'HTTP/1.1 without Host', bytes: Buffer.from('GET /api/agents/ HTTP/1.1\r\n\r\n') },
    ];
    const before = snapshot(home);
    const failures: string[] = [];
    for (const { why, bytes } of cases) {
      const answer = parseRawResponse(await rawExchange(server.port, bytes));
      const problem = answer ? refusalProblem(answer) : `no HTTP answer${(await restartedAfterCrash()) ? ' (the server crashed)' : ''}`;
      if (problem) failures.push(`${why}: ${problem}`);
    }
    totals.cases += cases.length;
    totals.refused += cases.length - failures.length;
    report(`bad input · refused by the HTTP parser: ${cases.length} cases, ${failures.length} without a JSON 4xx`);
    expect(failures.length, `answers without a JSON 4xx:\n${failures.map((failure) => `  ${failure}`).join('\n')}\n`).to.equal(0);
    expect((await client.request({ method: 'GET', path: '/health' })).status).to.equal(200);
    expect(describeChanges(before, snapshot(home))).to.equal('');
  });

  it('survives a multipart body cut short inside the file as the first upload it receives', async () => {
    const fresh = await startServe(tempDir('dana-robust-first-upload-'));
    try {
      const whole = multipartBody([{ name: 'file', filename: 'notes.txt', data: 'x'.repeat(4096) }]);
      const cut = whole.body.subarray(0, whole.body.length - 1000);
      const answer = parseRawResponse(await rawExchange(fresh.port, Buffer.concat([
        requestHead('POST', '/api/documents/upload', { 'Content-Type': whole.contentType, 'Content-Length': cut.length, Connection: 'close' }), cut,
      ])));
      await Promise.race([fresh.exited, delay(500)]);
      expect(fresh.child.exitCode, `the server died:\n${crashSummary(fresh.stderr())}`).to.equal(null);
      expect(answer && refusalProblem(answer), 'the answer').to.equal(undefined);
    } finally {
      await fresh.stop('SIGKILL');
    }
  });

  it('stays up through every case: the process never dies', async () => {
    await restartedAfterCrash();
    report(`bad input: the server crashed ${crashes.length} times`);
    expect(crashes, 'how the server died (it was restarted each time)').to.deep.equal([]);
    expect((await client.request({ method: 'GET', path: '/health' })).status).to.equal(200);
  });

  it('logs no internal error while refusing them', () => {
    const errors = [...earlierLogs, server.stdout(), server.stderr()].join('\n').split('\n').filter((line) => /\bERROR\b/.test(line));
    expect(errors.length, `internal errors logged, e.g.:\n${errors.slice(0, 5).join('\n')}\n`).to.equal(0);
  });
});

/** Rows for the generated requests to name: one of each resource. */
async function seedRows(client: HttpClient): Promise<Seeds> {
  const created = async (path: string, json: unknown) => {
    const reply = await client.request({ method: 'POST', path, json });
    expect(reply.status, reply.text).to.equal(201);
    return reply.json.id as number;
  };
  const agents = await created('/api/agents/', { name: 'Seed', description: '', config: {} });
  const topics = await created('/api/topics/', { name: 'Seed', description: '' });
  const conversations = await created('/api/conversations/', { title: 'Seed' });
  const messages = await created(`/api/conversations/${conversations}/messages/`, { sender: 'user', content: 'seed' });
  const upload = await client.upload('seed.txt', 'seed', { topic_id: String(topics), agent_id: String(agents) });
  expect(upload.status, upload.text).to.equal(201);
  return { agents, topics, conversations, messages, documents: upload.json.id };
}

/** The error that killed a Node process, from the end of its stderr. */
function crashSummary(stderr: string): string {
  const lines = stderr.split('\n');
  const thrown = lines.findIndex((line) => /^\s*throw /.test(line));
  const error = lines.slice(Math.max(0, thrown)).find((line) => /^\w*Error\b/.test(line)) ?? lines.filter(Boolean).slice(-1)[0] ?? 'no stderr';
  const where = lines.find((line) => /^Emitted 'error' event on/.test(line));
  return where ? `${error} (${where.replace(/:$/, '')})` : error;
}

/** Why an answer is not a proper refusal (4xx, JSON, exactly `{"detail": …}`), or undefined if it is one. */
function refusalProblem(reply: Pick<Reply, 'status' | 'headers' | 'text' | 'json'>): string | undefined {
  const text = reply.text.length > 240 ? `${reply.text.slice(0, 120)}…${reply.text.slice(-120)}` : reply.text;
  const shown = `${reply.status} ${String(reply.headers['content-type'] ?? 'no content type')} ${JSON.stringify(text)}`;
  if (reply.status < 400 || reply.status > 499) return shown;
  if (!/^application\/json/.test(String(reply.headers['content-type'] ?? ''))) return shown;
  const body = reply.json;
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).join() !== 'detail') return shown;
  return undefined;
}

/** One line per kind of failure (route, what was wrong, answer), with the smallest example. */
function summarise(failures: Array<{ request: BadRequest; outcome: string }>): string[] {
  const kinds = new Map<string, { request: BadRequest; outcome: string; count: number }>();
  for (const failure of failures) {
    const route = failure.request.path.replace(/^\/api/, '').replace(/\?.*$/, '').replace(/\/\d+/g, '/{id}');
    const key = `${failure.request.method} ${route} [${failure.request.why.replace(/ = .*| of the wrong type| \d+.*$/, '')}] → ${failure.outcome.slice(0, 3)}`;
    const known = kinds.get(key);
    if (!known) kinds.set(key, { ...failure, count: 1 });
    else {
      known.count++;
      if ((failure.request.body?.length ?? 0) < (known.request.body?.length ?? 0)) Object.assign(known, { request: failure.request, outcome: failure.outcome });
    }
  }
  const lines = [...kinds].slice(0, MAX_KINDS_SHOWN).map(([key, { request, outcome, count: times }]) => {
    const body = request.body ? ` body ${JSON.stringify(request.body.subarray(0, 100).toString('latin1'))}${request.body.length > 100 ? `… (${count(request.body.length)} bytes)` : ''}` : '';
    return `  ${key} ×${times}\n      e.g. ${request.method} ${request.path.slice(0, 100)} ${JSON.stringify(request.headers)}${body}\n      → ${outcome.slice(0, 300)}`;
  });
  if (kinds.size > MAX_KINDS_SHOWN) lines.push(`  … and ${kinds.size - MAX_KINDS_SHOWN} more kinds`);
  return lines;
}

const MAX_KINDS_SHOWN = 12;

/** Status, headers and body of a raw HTTP/1.1 response, or undefined when there is none. */
function parseRawResponse(bytes: Buffer): Pick<Reply, 'status' | 'headers' | 'text' | 'json'> | undefined {
  const text = bytes.toString('latin1');
  const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of match[2].split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  let json;
  try {
    json = JSON.parse(match[3]);
  } catch {
    json = undefined;
  }
  return { status: Number(match[1]), headers, text: match[3], json };
}
