#!/usr/bin/env node
// Dana's benchmark: `npm run bench` (which builds first), or `node bench/run.mjs` on a
// fresh build. Prints a table, writes bench/results.json, and exits 1 when a target is
// missed. Not part of `npm test`.
//
//   node bench/run.mjs [--quick] [--only=cli,api,chat,rows,upload,postgres,retrieval,embeddings,keeping,operations,runs] [--profile] [--keep]
//
//   --quick    fewer and shorter rounds, for development (figures are noisier)
//   --only     run only some parts (api = HTTP throughput against the reference server;
//              postgres = the same routes on PostgreSQL, one server and two, when
//              DANA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) answers)
//   --profile  run the Dana servers and one run of each CLI command under `node --cpu-prof`
//              (profiles in bench/profiles/)
//   --keep     keep the temporary data folders (their paths are printed)
//
// Machines are shared and noisy, so every speed target is a ratio against a reference
// measured in the same run (the bare node:http server of reference-server.mjs, `node -e 0`,
// a plain GET), except the two absolute ones the issue names (POST p99, chat median).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const BIN = path.join(ROOT, 'bin', 'run.js');
const REFERENCE = path.join(BENCH_DIR, 'reference-server.mjs');
const UPLOAD_REFERENCE = path.join(BENCH_DIR, 'upload-reference.mjs');
const RESULTS_FILE = path.join(BENCH_DIR, 'results.json');
const PROFILE_DIR = path.join(BENCH_DIR, 'profiles');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const PROFILE = argv.includes('--profile');
const KEEP = argv.includes('--keep');
const ONLY = (argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',') ?? []).filter(Boolean);
const PARTS = ['cli', 'api', 'chat', 'rows', 'upload', 'postgres', 'retrieval', 'embeddings', 'keeping', 'operations', 'runs'];
// Parts measured by modules of their own (each exports run() → [{figure, value, unit, target, ok}]).
const MODULE_PARTS = {
  retrieval: 'retrieval.mjs', // chat p95 over 1,000 documents, full-text retrieval over 100,000 passages, indexing MB/s
  embeddings: 'embeddings.mjs', // hybrid retrieval over 100,000 passages with stored vectors
  keeping: 'keeping.mjs', // backup and restore MB/s against tar, search latency
  operations: 'operations.mjs', // what /metrics instrumentation and change-event triggers add to a request
  runs: 'runs.mjs', // run answers/s on PostgreSQL: one server, then one server and two dana worker processes
};
for (const part of ONLY) {
  if (!PARTS.includes(part)) fatal(`--only: unknown part "${part}" (one of ${PARTS.join(', ')})`);
}
for (const arg of argv) {
  if (!['--quick', '--profile', '--keep'].includes(arg) && !arg.startsWith('--only=')) fatal(`unknown option ${arg}`);
}
const runs = (part) => !ONLY.length || ONLY.includes(part);

const SETTINGS = QUICK
  ? { rounds: 1, seconds: 2, warmupSeconds: 1, cliRuns: 10, chatRequests: 20, getRequests: 40, rowRequests: 15, uploadRounds: 1 }
  : { rounds: 3, seconds: 5, warmupSeconds: 1, cliRuns: 12, chatRequests: 100, getRequests: 200, rowRequests: 50, uploadRounds: 3 };
const CONNECTIONS = 10;
const AGENTS = 1_000;
const CHAT_DOCUMENTS = 1_000;
const MESSAGES = 100_000;
const MIB = 1024 * 1024;
const DOWNLOAD_BYTES = 1 * MIB;
const UPLOAD_LIMIT_MB = 40;
const UPLOAD_OK_BYTES = 40 * MIB;
const UPLOAD_TOO_LARGE_BYTES = 45 * MIB;
const LARGE_UPLOAD_BYTES = 400 * MIB;

const TARGETS = {
  throughputRatio: 0.5, // Dana req/s >= 0.5 x the reference's, on every route
  postP99Ms: 10, // p99 of POST /api/agents/ under 10 ms at 10 connections
  uploadGrowthMb: 16, // RSS growth during a 40 MB upload, until it is answered
  uploadSettleMb: 8, // RSS after three sequential 40 MiB uploads within 8 MB of where it started
  largeUploadExtraMb: 8, // a 400 MiB upload grows RSS no more than a 40 MiB one + 8 MB
  readDuringUploadP99Ms: 25, // GET /api/agents/1 p99 while a 40 MiB text file is uploaded and indexed
  cliRatio: 4, // CLI start-up median <= 4 x `node -e 0`
  startupRatio: 2, // `dana serve` spawn -> first 200 within 2 x the reference server's
  chatMs: 100, // POST /api/chat/ median <= 100 ms
  chatRatio: 10, // ... and <= 10 x GET /api/agents/1
  rowsRatio: 5, // skip=99900 within 5 x skip=0
};

// ---------------------------------------------------------------------------------------
// Small statistics and formatting helpers

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}
function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
function fmt(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}
function fmtSummary(s, unit, digits = 1) {
  return `${fmt(s.median, digits)} ${unit} [${fmt(s.min, digits)}-${fmt(s.max, digits)}]`;
}
function log(message) {
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
}
function fatal(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A deterministic random source, so every run generates the same texts and questions.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------
// Generated text: a vocabulary of pronounceable words, drawn with a skewed (Zipf-like)
// frequency so that some words are common and most are rare, like real prose.

const VOCABULARY = (() => {
  const random = prng(7);
  const onsets = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'cl', 'dr', 'gr', 'pl', 'st', 'tr', 'sh', 'ch'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'io', 'ou'];
  const codas = ['', '', 'n', 'r', 's', 'l', 'm', 'nd', 'st', 'rk', 'x'];
  const words = new Set();
  while (words.size < 4000) {
    const syllables = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < syllables; i++) {
      word += onsets[Math.floor(random() * onsets.length)] + vowels[Math.floor(random() * vowels.length)];
    }
    word += codas[Math.floor(random() * codas.length)];
    words.add(word);
  }
  return [...words];
})();
const FILLER = ['the', 'of', 'and', 'a', 'to', 'in', 'is', 'that', 'for', 'it', 'as', 'with', 'on', 'by', 'this'];

function wordAt(random) {
  return VOCABULARY[Math.floor(random() ** 2.2 * VOCABULARY.length)];
}

function generateText(random, bytes) {
  const sentences = [];
  let length = 0;
  while (length < bytes) {
    const words = [];
    const count = 8 + Math.floor(random() * 10);
    for (let i = 0; i < count; i++) words.push(random() < 0.3 ? FILLER[Math.floor(random() * FILLER.length)] : wordAt(random));
    const sentence = `${words.join(' ')}.`;
    sentences.push(sentence[0].toUpperCase() + sentence.slice(1));
    length += sentence.length + 1;
  }
  return sentences.join(' ');
}

/** A text file of exactly `bytes` bytes, written block by block (never all in memory). */
async function writeTextFile(file, bytes, seed) {
  const handle = await fsp.open(file, 'w');
  try {
    const random = prng(seed);
    let written = 0;
    while (written < bytes) {
      const size = Math.min(MIB, bytes - written);
      let block = `${generateText(random, size)}\n`;
      block = block.length >= size ? `${block.slice(0, size - 1)}\n` : block.padEnd(size, ' ');
      await handle.write(block);
      written += size;
    }
  } finally {
    await handle.close();
  }
}

/** A CSV of numbers of exactly `bytes` bytes: the 1 MB download (no words the chat could match). */
function numericCsv(bytes) {
  const random = prng(11);
  const lines = ['id,reading,ratio,code'];
  let length = lines[0].length + 1;
  for (let i = 1; length < bytes; i++) {
    const line = `${i},${(random() * 1e6).toFixed(3)},${random().toFixed(6)},${Math.floor(random() * 1e9)}`;
    lines.push(line);
    length += line.length + 1;
  }
  const text = `${lines.join('\n')}\n`;
  return Buffer.from(text.slice(0, bytes - 1) + '\n');
}

// ---------------------------------------------------------------------------------------
// Processes: every child is remembered and stopped on exit, by its own pid.

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping\n`);
    cleanupTemp();
    process.exit(130);
  });
}

function childEnv(extra = {}) {
  const env = { ...process.env };
  // The benchmark's agents answer with the local runner; nothing may reach a real model.
  for (const key of Object.keys(env)) {
    if (key.startsWith('DANA_') || key === 'OPENAI_API_KEY' || key === 'DEBUG' || key === 'NODE_OPTIONS') delete env[key];
  }
  return { ...env, ...extra };
}

// Servers run on core 0 and this process (the load generator) on core 1: sharing cores
// would hide a server's own cost per request behind the generator's. Servers are started
// through `taskset`, which execs them, so a child's pid is the server's own.
const PINNED = os.cpus().length >= 2 && spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }).status === 0;

/** The command that runs `node args` on the servers' core, when cores can be pinned. */
function serverCommand(args) {
  return PINNED ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
}

/** Starts a process that prints its port; resolves once it is known. */
function startServer(label, args, env, portOf) {
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = serverCommand(args);
    const child = spawn(command, commandArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${label} did not start within 60 s`)), 60_000);
    function fail(error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const port = portOf(stdout);
      if (port && !settled) {
        settled = true;
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ label, child, pid: child.pid, port, stderr: () => stderr });
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!settled) fail(new Error(`${label} exited (${code ?? signal}) before listening`));
      else if (code && code !== 0) log(`${label} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
    });
  });
}

function startDana(label, home, extraEnv = {}) {
  const nodeArgs = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, `--cpu-prof-name=${label.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`] : [];
  return startServer(
    label,
    [...nodeArgs, BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--log-level', 'warning'],
    childEnv({ DANA_HOME: home, ...extraEnv }),
    (out) => Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]) || undefined,
  );
}

function startReference(dbFile, uploadDir) {
  return startServer(
    'reference',
    [REFERENCE, '--db', dbFile, '--uploads', uploadDir, '--port', '0'],
    childEnv(),
    (out) => {
      const line = out.split('\n').find((text) => text.startsWith('{'));
      return line ? JSON.parse(line).port : undefined;
    },
  );
}

function startUploadReference(dir) {
  return startServer('upload-reference', [UPLOAD_REFERENCE, '--dir', dir, '--port', '0'], childEnv(), (out) => {
    const line = out.split('\n').find((text) => text.startsWith('{'));
    return line ? JSON.parse(line).port : undefined;
  });
}

async function stopServer(server) {
  if (!server || server.child.exitCode !== null || server.child.signalCode) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, 15_000, 'timeout')));
  const outcome = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log(`${server.label} did not stop on SIGTERM; killing it`);
    server.child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------
// HTTP

const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * One request. `body` is a Buffer/string or a readable stream (piped). Resolves with the
 * status, headers, body and the time from sending to the last byte of the response.
 */
function request(port, { method = 'GET', path: urlPath, headers = {}, body, agent = keepAliveAgent, onBodySent }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let responded = false;
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent }, (res) => {
      responded = true;
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.on('error', (error) => {
      // A server that refuses an upload answers before the body is sent and closes.
      if (!responded) reject(error);
    });
    req.on('finish', () => onBodySent?.(performance.now()));
    if (body && typeof body.pipe === 'function') {
      body.on('error', (error) => req.destroy(error));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

function json(response) {
  return JSON.parse(response.body.toString('utf8'));
}

async function postJson(port, urlPath, value) {
  const body = JSON.stringify(value);
  return request(port, {
    method: 'POST',
    path: urlPath,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    body,
  });
}

/** A multipart/form-data body around one file: the parts before and after its bytes. */
function multipartFrame(fileName, contentType, fields = {}) {
  const boundary = `----danabench${Math.random().toString(16).slice(2)}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${contentType}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  return { contentType: `multipart/form-data; boundary=${boundary}`, head: Buffer.from(head), tail: Buffer.from(tail) };
}

async function uploadBuffer(port, fileName, contentType, bytes, fields) {
  const frame = multipartFrame(fileName, contentType, fields);
  const body = Buffer.concat([frame.head, bytes, frame.tail]);
  return request(port, {
    method: 'POST',
    path: '/api/documents/upload',
    headers: { 'Content-Type': frame.contentType, 'Content-Length': body.length },
    body,
  });
}

/** Streams a file from disk as a multipart upload (never whole in this process's memory). */
async function uploadFile(port, file, fileName, contentType, onBodySent) {
  const frame = multipartFrame(fileName, contentType);
  const { size } = await fsp.stat(file);
  const body = new PassThrough();
  body.write(frame.head);
  const source = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  source.on('error', (error) => body.destroy(error));
  source.on('end', () => body.end(frame.tail));
  source.pipe(body, { end: false });
  return request(port, {
    method: 'POST',
    path: '/api/documents/upload',
    headers: { 'Content-Type': frame.contentType, 'Content-Length': frame.head.length + size + frame.tail.length },
    body,
    agent: false,
    onBodySent,
  });
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function inParallel(items, concurrency, work) {
  let next = 0;
  const results = new Array(items.length);
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

function expectStatus(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Results

const figures = [];
const raw = {};
const notes = [];

/**
 * One row of the table. `pass` is true/false, or null for a figure shown for information.
 */
function figure(row) {
  figures.push(row);
  const mark = row.pass === null ? 'info' : row.pass ? 'PASS' : 'FAIL';
  log(`${mark}  ${row.name}: ${row.value}${row.reference ? `  (vs ${row.reference})` : ''}${row.ratio ? `  ${row.ratio}` : ''}`);
}

// ---------------------------------------------------------------------------------------
// Part 1: CLI start-up

async function benchCli(tempRoot) {
  log('CLI start-up: preparing a data folder with a few agents');
  const home = path.join(tempRoot, 'cli-home');
  const env = childEnv({ DANA_HOME: home });
  const exec = (args) => {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 * MIB });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return { ms, stdout: result.stdout };
  };
  for (const name of ['Researcher', 'Writer', 'Librarian']) {
    exec([BIN, 'agents', 'create', '--name', name, '--description', `${name} agent`, '--config', '{"provider": "local"}', '--json']);
  }
  const commands = {
    'node -e 0': ['-e', '0'],
    'dana --version': [BIN, '--version'],
    'dana agents list --json': [BIN, 'agents', 'list', '--json'],
  };
  const version = exec(commands['dana --version']).stdout;
  if (!/\d+\.\d+\.\d+/.test(version)) throw new Error(`dana --version printed ${JSON.stringify(version)}`);
  const listed = JSON.parse(exec(commands['dana agents list --json']).stdout);
  if (!Array.isArray(listed) || listed.length !== 3) throw new Error(`dana agents list --json listed ${JSON.stringify(listed).slice(0, 200)}`);
  // Warm the file system cache, then interleave the commands so noise hits all alike.
  for (let i = 0; i < 2; i++) for (const args of Object.values(commands)) exec(args);
  const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  log(`CLI start-up: ${SETTINGS.cliRuns} runs of each command, interleaved`);
  for (let i = 0; i < SETTINGS.cliRuns; i++) {
    for (const [name, args] of Object.entries(commands)) times[name].push(exec(args).ms);
  }
  if (PROFILE) {
    for (const [name, args] of Object.entries(commands)) {
      if (name === 'node -e 0') continue;
      const profileName = `cli-${name.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`;
      exec(['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, `--cpu-prof-name=${profileName}`, ...args]);
      log(`  profile of ${name}: ${path.relative(ROOT, path.join(PROFILE_DIR, profileName))}`);
    }
  }
  raw.cli = Object.fromEntries(Object.entries(times).map(([name, values]) => [name, values.map((ms) => round(ms))]));
  const baseline = summary(times['node -e 0']);
  for (const name of ['dana --version', 'dana agents list --json']) {
    const s = summary(times[name]);
    const ratio = s.median / baseline.median;
    figure({
      name: `CLI start-up: ${name}`,
      value: fmtSummary(s, 'ms'),
      reference: `node -e 0: ${fmtSummary(baseline, 'ms')}`,
      ratio: `${ratio.toFixed(2)}x`,
      target: `<= ${TARGETS.cliRatio}x`,
      pass: ratio <= TARGETS.cliRatio,
      data: { dana: s, baseline, ratio },
    });
  }
}

// ---------------------------------------------------------------------------------------
// Seeding the main data folder

async function seed(dana, home) {
  const { port } = dana;
  const random = prng(42);

  log(`seeding ${AGENTS} agents through the API`);
  // Agent 1 first, alone: it is the chat agent and the GET target.
  const librarian = await postJson(port, '/api/agents/', { name: 'Librarian', description: 'Answers from the benchmark library', config: { provider: 'local' } });
  expectStatus(librarian, 201, 'creating agent 1');
  if (json(librarian).id !== 1) throw new Error('the first agent did not get id 1');
  await inParallel(Array.from({ length: AGENTS - 1 }, (_, i) => i + 1), 10, async (i) => {
    const body = {
      name: `Agent ${String(i + 1).padStart(4, '0')}`,
      description: `A benchmark agent that ${generateText(random, 60).toLowerCase()}`,
      config: { provider: 'local', temperature: round(random(), 2), topic_ids: [], tags: ['bench', `group-${i % 7}`] },
    };
    expectStatus(await postJson(port, '/api/agents/', body), 201, 'seeding an agent');
  });

  log('uploading the 1 MB download document through the API');
  const csv = numericCsv(DOWNLOAD_BYTES);
  const download = await uploadBuffer(port, 'readings.csv', 'text/csv', csv);
  expectStatus(download, 201, 'uploading the 1 MB document');
  const downloadDoc = json(download);
  if (downloadDoc.id !== 1 || downloadDoc.file_size !== DOWNLOAD_BYTES) throw new Error(`unexpected download document ${JSON.stringify(downloadDoc)}`);

  log('creating conversation 1');
  const conversation = await postJson(port, '/api/conversations/', { title: 'A very long history', agent_id: 1 });
  expectStatus(conversation, 201, 'creating the conversation');
  if (json(conversation).id !== 1) throw new Error('the conversation did not get id 1');

  log(`uploading ${CHAT_DOCUMENTS} generated documents (~2 KB) for agent 1 through the API, 8 at a time`);
  const uploadStarted = performance.now();
  await inParallel(Array.from({ length: CHAT_DOCUMENTS }, (_, i) => i), 8, async (i) => {
    const text = generateText(prng(1000 + i), 1800 + Math.floor(prng(5000 + i)() * 400));
    const response = await uploadBuffer(port, `note-${String(i + 1).padStart(4, '0')}.txt`, 'text/plain', Buffer.from(text), { agent_id: '1' });
    expectStatus(response, 201, `uploading document ${i + 1}`);
  });
  const uploadSeconds = (performance.now() - uploadStarted) / 1000;
  log(`  ${CHAT_DOCUMENTS} uploads in ${uploadSeconds.toFixed(1)} s (${(CHAT_DOCUMENTS / uploadSeconds).toFixed(0)}/s)`);
  raw.seeding = { documentUploadsPerSecond: round(CHAT_DOCUMENTS / uploadSeconds) };

  log(`inserting ${MESSAGES.toLocaleString('en-US')} messages into conversation 1 directly (one transaction)`);
  const db = new Database(path.join(home, 'local.db'));
  db.pragma('busy_timeout = 10000');
  try {
    const insert = db.prepare('INSERT INTO messages (conversation_id, sender, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const messageRandom = prng(99);
    db.transaction(() => {
      for (let i = 0; i < MESSAGES; i++) {
        const at = new Date(base + i * 1000).toISOString();
        insert.run(1, i % 2 ? 'agent' : 'user', generateText(messageRandom, 40 + Math.floor(messageRandom() * 200)), at, at);
      }
    })();
    const { indexed } = db.prepare("SELECT COUNT(*) AS indexed FROM documents WHERE agent_id = 1 AND text_status = 'indexed'").get();
    const { passages } = db.prepare('SELECT COUNT(*) AS passages FROM passages').get();
    raw.seeding.indexedDocuments = indexed;
    raw.seeding.passages = passages;
    if (indexed !== CHAT_DOCUMENTS) throw new Error(`only ${indexed} of ${CHAT_DOCUMENTS} documents are indexed`);
    log(`  ${indexed} documents indexed, ${passages} passages in the index`);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------
// Part 2: API throughput against the reference server

const ROUTES = [
  { name: 'GET /api/agents/1', method: 'GET', path: '/api/agents/1' },
  { name: 'GET /api/agents/?limit=100', method: 'GET', path: '/api/agents/?limit=100' },
  { name: 'GET /api/documents/1/download', method: 'GET', path: '/api/documents/1/download' },
  // Last: it grows the agents table, which the list route counts. Each request names a new
  // agent (autocannon's own idReplacement miscounts Content-Length in this version).
  {
    name: 'POST /api/agents/',
    method: 'POST',
    path: '/api/agents/',
    headers: { 'content-type': 'application/json' },
    makeBody: (n) => JSON.stringify({ name: `bench ${n}`, description: 'Created by the benchmark', config: { provider: 'local', temperature: 0.2, topic_ids: [] } }),
  },
];

let postCounter = 0;

async function cannon(port, route, seconds) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${route.path}`,
    method: route.method,
    headers: route.headers,
    requests: route.makeBody ? [{ setupRequest: (req) => ({ ...req, body: route.makeBody(++postCounter) }) }] : undefined,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
  });
  return {
    seconds: round(result.duration),
    rps: round(result.requests.average),
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    mbPerSec: round(result.throughput.average / 1e6),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Dana and the reference must give the same answers before their speeds are compared. */
async function compareResponses(dana, reference) {
  const headersToMatch = ['content-type', 'content-length', 'x-total-count', 'content-disposition', 'x-content-type-options'];
  const problems = [];
  for (const route of ROUTES) {
    if (route.method !== 'GET') continue;
    const [a, b] = await Promise.all([request(dana.port, { path: route.path }), request(reference.port, { path: route.path })]);
    if (a.status !== 200 || b.status !== 200) problems.push(`${route.name}: status ${a.status} vs ${b.status}`);
    for (const header of headersToMatch) {
      if (a.headers[header] !== b.headers[header]) problems.push(`${route.name}: ${header} ${a.headers[header]} vs ${b.headers[header]}`);
    }
    if (!a.body.equals(b.body)) problems.push(`${route.name}: bodies differ`);
  }
  const body = { name: '  Compared  ', description: 'same shape?', config: { nested: { a: [1, 2] } } };
  const [a, b] = await Promise.all([postJson(dana.port, '/api/agents/', body), postJson(reference.port, '/api/agents/', body)]);
  if (a.status !== 201 || b.status !== 201) problems.push(`POST /api/agents/: status ${a.status} vs ${b.status}`);
  const [ja, jb] = [json(a), json(b)];
  const strip = ({ id, created_at, updated_at, ...rest }) => rest;
  if (JSON.stringify(Object.keys(ja)) !== JSON.stringify(Object.keys(jb))) problems.push('POST /api/agents/: keys differ');
  if (JSON.stringify(strip(ja)) !== JSON.stringify(strip(jb))) problems.push('POST /api/agents/: bodies differ');
  if (a.headers.location !== `/api/agents/${ja.id}` || b.headers.location !== `/api/agents/${jb.id}`) problems.push('POST /api/agents/: Location');
  if (a.headers['content-type'] !== b.headers['content-type']) problems.push('POST /api/agents/: content-type');
  const [ra, rb] = await Promise.all([request(dana.port, { path: `/api/agents/${jb.id}` }), request(reference.port, { path: `/api/agents/${ja.id}` })]);
  if (ra.status !== 200 || rb.status !== 200) problems.push('an agent created by one server is not read by the other');
  return problems;
}

async function benchApi(dana, reference) {
  const problems = await compareResponses(dana, reference);
  figure({
    name: 'Reference server answers like Dana',
    value: problems.length ? problems.join('; ') : 'same status, JSON and headers on the 4 routes',
    target: 'identical',
    pass: problems.length === 0,
  });
  raw.throughput = {};
  for (const route of ROUTES) {
    log(`throughput ${route.name}: warm-up`);
    await cannon(dana.port, route, SETTINGS.warmupSeconds);
    await cannon(reference.port, route, SETTINGS.warmupSeconds);
    const rounds = { dana: [], reference: [] };
    for (let r = 0; r < SETTINGS.rounds; r++) {
      const order = r % 2 === 0 ? ['dana', 'reference'] : ['reference', 'dana'];
      for (const who of order) {
        const server = who === 'dana' ? dana : reference;
        const cpuBefore = cpuMsOf(server.pid);
        const result = await cannon(server.port, route, SETTINGS.seconds);
        result.cpuUsPerRequest = round(((cpuMsOf(server.pid) - cpuBefore) * 1000) / Math.max(1, result.total), 0);
        rounds[who].push(result);
        log(`  round ${r + 1} ${who.padEnd(9)} ${fmt(result.rps, 0).padStart(7)} req/s  p99 ${result.p99} ms  ${result.cpuUsPerRequest} µs CPU/request${result.non2xx || result.errors ? `  non-2xx ${result.non2xx} errors ${result.errors}` : ''}`);
      }
    }
    raw.throughput[route.name] = rounds;
    // A round with failed requests, or none at all, measured nothing worth comparing.
    const failures = [...rounds.dana, ...rounds.reference].reduce((sum, round) => sum + round.non2xx + round.errors + round.timeouts + (round.total ? 0 : 1), 0);
    const danaRps = summary(rounds.dana.map((round) => round.rps));
    const refRps = summary(rounds.reference.map((round) => round.rps));
    const ratio = danaRps.median / refRps.median;
    const danaCpu = summary(rounds.dana.map((round) => round.cpuUsPerRequest));
    const refCpu = summary(rounds.reference.map((round) => round.cpuUsPerRequest));
    // The server's own CPU time per request: steadier than req/s when other work shares the core.
    figure({
      name: `CPU per request ${route.name}`,
      value: fmtSummary(danaCpu, 'µs', 0),
      reference: `reference: ${fmtSummary(refCpu, 'µs', 0)}`,
      ratio: `${(refCpu.median / danaCpu.median).toFixed(2)}x`,
      target: 'info',
      pass: null,
      data: { dana: danaCpu, reference: refCpu },
    });
    figure({
      name: `Throughput ${route.name}`,
      value: fmtSummary(danaRps, 'req/s', 0),
      reference: `reference: ${fmtSummary(refRps, 'req/s', 0)}`,
      ratio: `${ratio.toFixed(2)}x${failures ? ` (${failures} failed requests!)` : ''}`,
      target: `>= ${TARGETS.throughputRatio}x`,
      pass: ratio >= TARGETS.throughputRatio && failures === 0,
      data: { dana: danaRps, reference: refRps, ratio, failures },
    });
    if (route.method === 'POST') {
      const p99 = summary(rounds.dana.map((round) => round.p99));
      const refP99 = summary(rounds.reference.map((round) => round.p99));
      figure({
        name: `p99 latency ${route.name} (${CONNECTIONS} connections)`,
        value: fmtSummary(p99, 'ms', 0),
        reference: `reference: ${fmtSummary(refP99, 'ms', 0)}`,
        ratio: `${p99.median} ms`,
        target: `< ${TARGETS.postP99Ms} ms`,
        pass: p99.median < TARGETS.postP99Ms && failures === 0,
        data: { dana: p99, reference: refP99 },
      });
    }
  }
}

// ---------------------------------------------------------------------------------------
// Part 3: chat retrieval

/**
 * Questions in several forms, their words drawn at the frequency they have in the generated
 * text (chosen before any result was seen; common words match many passages).
 */
function questions(count) {
  const random = prng(2024);
  const forms = [
    (w) => `What do my notes say about ${w[0]}?`,
    (w) => `Tell me about ${w[0]} and ${w[1]}.`,
    (w) => `How does ${w[0]} relate to ${w[1]} in the ${w[2]}?`,
    (w) => `Where is ${w[0]} ${w[1]} mentioned?`,
    (w) => `${w[0]} ${w[1]} ${w[2]} ${w[3]}`,
    (w) => `Why would the ${w[0]} need ${w[1]} before ${w[2]} and ${w[3]} reach ${w[4]}?`,
  ];
  return Array.from({ length: count }, (_, i) => {
    const words = Array.from({ length: 5 }, () => wordAt(random));
    return forms[i % forms.length](words);
  });
}

async function benchChat(dana) {
  const { port } = dana;
  const asks = questions(SETTINGS.chatRequests + 5);
  const chat = async (message) => {
    const response = await postJson(port, '/api/chat/', { message, agent_id: 1 });
    expectStatus(response, 200, 'POST /api/chat/');
    return response;
  };
  const getAgent = async () => {
    const response = await request(port, { path: '/api/agents/1' });
    expectStatus(response, 200, 'GET /api/agents/1');
    return response;
  };
  log('chat retrieval: warm-up');
  for (const message of asks.slice(0, 5)) await chat(message);
  for (let i = 0; i < 20; i++) await getAgent();
  log(`chat retrieval: ${SETTINGS.chatRequests} chats and ${SETTINGS.getRequests} GETs, interleaved`);
  const chatTimes = [];
  const getTimes = [];
  let withSources = 0;
  let runner;
  const perChat = Math.max(1, Math.round(SETTINGS.getRequests / SETTINGS.chatRequests));
  for (const message of asks.slice(5)) {
    for (let i = 0; i < perChat; i++) getTimes.push((await getAgent()).ms);
    const response = await chat(message);
    chatTimes.push(response.ms);
    const body = json(response);
    runner = body.runner;
    if (body.sources.length) withSources++;
  }
  raw.chat = { chatMs: chatTimes.map((ms) => round(ms, 3)), getAgentMs: getTimes.map((ms) => round(ms, 3)), withSources, runner };
  const chatS = summary(chatTimes);
  const getS = summary(getTimes);
  const ratio = chatS.median / getS.median;
  const valid = runner === 'local' && withSources >= chatTimes.length * 0.8;
  if (!valid) notes.push(`chat: runner ${runner}, ${withSources}/${chatTimes.length} answers had sources: not a retrieval benchmark`);
  figure({
    name: `Chat POST /api/chat/ (local runner, ${CHAT_DOCUMENTS} docs)`,
    value: fmtSummary(chatS, 'ms', 2),
    reference: `${withSources}/${chatTimes.length} answers quoted sources`,
    ratio: `${fmt(chatS.median, 2)} ms`,
    target: `<= ${TARGETS.chatMs} ms`,
    pass: chatS.median <= TARGETS.chatMs && valid,
    data: { chat: chatS, withSources },
  });
  figure({
    name: 'Chat vs GET /api/agents/1',
    value: fmtSummary(chatS, 'ms', 2),
    reference: `GET /api/agents/1: ${fmtSummary(getS, 'ms', 2)}`,
    ratio: `${ratio.toFixed(1)}x`,
    target: `<= ${TARGETS.chatRatio}x`,
    pass: ratio <= TARGETS.chatRatio && valid,
    data: { chat: chatS, get: getS, ratio },
  });
}

// ---------------------------------------------------------------------------------------
// Part 4: many rows

// The two queries Dana runs for GET /api/conversations/1/messages/ (readPage in
// src/core/services/support.ts), as text, to show SQLite's plan for them.
const MESSAGE_QUERIES = {
  count: { sql: 'SELECT COUNT(*) AS total FROM messages WHERE conversation_id = ?', params: [1] },
  page: { sql: 'SELECT * FROM messages WHERE conversation_id = ? ORDER BY id LIMIT ? OFFSET ?', params: [1, 100, 99_900] },
};

async function benchRows(dana, home) {
  const { port } = dana;
  const pagePath = (skip) => `/api/conversations/1/messages/?limit=100&skip=${skip}`;
  const fetchPage = async (skip) => {
    const response = await request(port, { path: pagePath(skip) });
    expectStatus(response, 200, `GET ${pagePath(skip)}`);
    return response;
  };
  // Check the answers once: the right rows and the right total.
  for (const skip of [0, 99_900]) {
    const response = await fetchPage(skip);
    const items = json(response);
    if (response.headers['x-total-count'] !== String(MESSAGES) || items.length !== 100 || items[0].conversation_id !== 1) {
      throw new Error(`GET ${pagePath(skip)}: X-Total-Count ${response.headers['x-total-count']}, ${items.length} items`);
    }
  }
  for (let i = 0; i < 3; i++) {
    await fetchPage(0);
    await fetchPage(99_900);
  }
  log(`many rows: ${SETTINGS.rowRequests} requests each for skip=0 and skip=99900, interleaved`);
  const times = { first: [], last: [] };
  for (let i = 0; i < SETTINGS.rowRequests; i++) {
    times.first.push((await fetchPage(0)).ms);
    times.last.push((await fetchPage(99_900)).ms);
  }
  raw.rows = { skip0Ms: times.first.map((ms) => round(ms, 3)), skip99900Ms: times.last.map((ms) => round(ms, 3)) };
  const first = summary(times.first);
  const last = summary(times.last);
  const ratio = last.median / first.median;
  figure({
    name: `Messages page skip=99900 vs skip=0 (${MESSAGES.toLocaleString('en-US')} rows)`,
    value: fmtSummary(last, 'ms', 2),
    reference: `skip=0: ${fmtSummary(first, 'ms', 2)}`,
    ratio: `${ratio.toFixed(2)}x`,
    target: `<= ${TARGETS.rowsRatio}x`,
    pass: ratio <= TARGETS.rowsRatio,
    data: { skip0: first, skip99900: last, ratio },
  });

  const db = new Database(path.join(home, 'local.db'), { readonly: true, fileMustExist: true });
  const plans = {};
  let allIndexed = true;
  try {
    for (const [name, { sql, params }] of Object.entries(MESSAGE_QUERIES)) {
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params);
      plans[name] = { sql, plan: rows.map((row) => row.detail) };
      // A full scan of the table, or a sort outside an index, is what must not happen.
      const bad = rows.filter((row) => /^SCAN messages\b(?!.*USING (COVERING )?INDEX)/.test(row.detail) || /TEMP B-TREE/.test(row.detail));
      const usesIndex = rows.some((row) => /messages USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/.test(row.detail));
      if (bad.length || !usesIndex) allIndexed = false;
    }
  } finally {
    db.close();
  }
  raw.queryPlans = plans;
  const explained = Object.values(plans).map(({ sql, plan }) => `  ${sql}\n${plan.map((line) => `    -> ${line}`).join('\n')}`).join('\n');
  process.stdout.write(`\nEXPLAIN QUERY PLAN of the messages list (what Dana runs):\n${explained}\n`);
  figure({
    name: 'Messages list queries use an index',
    value: Object.entries(plans).map(([name, { plan }]) => `${name}: ${plan.join(' / ').replace(/SEARCH messages USING /g, '')}`).join('; '),
    target: 'no SCAN messages, no temp b-tree',
    pass: allIndexed,
  });
}

// ---------------------------------------------------------------------------------------
// Part 5: upload memory

function rssKb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
  } catch {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  }
}

/** Samples a process's RSS every 20 ms until stopped. */
function sampler(pid) {
  const samples = [];
  const started = performance.now();
  const take = () => samples.push({ t: performance.now() - started, kb: rssKb(pid) });
  take();
  const timer = setInterval(take, 20);
  return {
    samples,
    started,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

async function listFiles(dir) {
  const found = [];
  async function walk(current) {
    for (const entry of await fsp.readdir(current, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else found.push(path.relative(dir, full));
    }
  }
  await walk(dir);
  return found.sort();
}

async function documentCount(port) {
  const response = await request(port, { path: '/api/documents/?limit=1' });
  expectStatus(response, 200, 'GET /api/documents/');
  return Number(response.headers['x-total-count']);
}

async function benchUpload(tempRoot) {
  const home = path.join(tempRoot, 'upload-home');
  const files = path.join(tempRoot, 'upload-files');
  await fsp.mkdir(files, { recursive: true });
  const okFile = path.join(files, 'forty.txt');
  const tooLargeFile = path.join(files, 'forty-five.txt');
  log('upload memory: writing a 40 MiB and a 45 MiB text file');
  await writeTextFile(okFile, UPLOAD_OK_BYTES, 40);
  await writeTextFile(tooLargeFile, UPLOAD_TOO_LARGE_BYTES, 45);

  const dana = await startDana('dana-upload', home, { DANA_MAX_UPLOAD_MB: String(UPLOAD_LIMIT_MB) });
  let sink;
  try {
    sink = await startUploadReference(path.join(tempRoot, 'upload-sink'));
    const uploadDir = path.join(home, 'uploads');
    // Warm-up: the upload path a few times with a small file, so code loaded and compiled on
    // first use is not counted as growth.
    for (let i = 0; i < 3; i++) {
      for (const server of [dana, sink]) {
        const small = await uploadBuffer(server.port, 'warm.txt', 'text/plain', Buffer.from(generateText(prng(i), 20_000)));
        expectStatus(small, 201, `warm-up upload (${server.label})`);
      }
    }
    await sleep(500);
    const rounds = { dana: [], reference: [] };
    for (let r = 0; r < SETTINGS.uploadRounds; r++) {
      for (const [who, server] of [['dana', dana], ['reference', sink]]) {
        const measured = await measureUpload(server, okFile);
        rounds[who].push(measured);
        log(`  round ${r + 1} ${who.padEnd(9)} RSS ${measured.baselineMb} MB -> peak ${measured.peakMb} MB (+${measured.growthMb} MB; +${measured.growthWhileReceivingMb} MB until the body was sent at ${measured.bodySentMs} ms; answered at ${measured.respondedMs} ms)`);
      }
    }
    raw.upload = { rounds };
    const growth = summary(rounds.dana.map((r) => r.growthMb));
    const receiving = summary(rounds.dana.map((r) => r.growthWhileReceivingMb));
    const floor = summary(rounds.reference.map((r) => r.growthMb));
    figure({
      name: `Upload memory: RSS growth, ${UPLOAD_OK_BYTES / MIB} MiB upload (until answered)`,
      value: fmtSummary(growth, 'MB'),
      reference: `bare node:http to disk: ${fmtSummary(floor, 'MB')}`,
      ratio: `+${fmt(growth.median)} MB (+${fmt(receiving.median)} while receiving)`,
      target: `< ${TARGETS.uploadGrowthMb} MB`,
      pass: growth.median < TARGETS.uploadGrowthMb,
      data: { growth, receiving, reference: floor },
    });

    // Where RSS settles after the rounds, against where it stood before the first.
    const settledKb = median(await sampleFor(dana.pid, 1000));
    const startedKb = rounds.dana[0].baselineMb * 1024;
    const settledGrowth = (settledKb - startedKb) / 1024;
    const referenceSettled = (median(await sampleFor(sink.pid, 1000)) - rounds.reference[0].baselineMb * 1024) / 1024;
    figure({
      name: `Upload memory: RSS after ${SETTINGS.uploadRounds} sequential ${UPLOAD_OK_BYTES / MIB} MiB uploads`,
      value: `${fmt(startedKb / 1024)} -> ${fmt(settledKb / 1024)} MB`,
      reference: `bare node:http to disk: +${fmt(referenceSettled)} MB`,
      ratio: `+${fmt(settledGrowth)} MB`,
      target: `within ${TARGETS.uploadSettleMb} MB`,
      pass: settledGrowth <= TARGETS.uploadSettleMb,
      data: { startedKb, settledKb, referenceSettledMb: round(referenceSettled) },
    });

    await benchReadDuringUpload(dana, okFile);

    // Over the limit: 413, nothing on disk, no row.
    const countBefore = await documentCount(dana.port);
    const filesBefore = await listFiles(uploadDir);
    const idle = sampler(dana.pid);
    await sleep(300);
    const baselineKb = median(idle.stop().map((sample) => sample.kb));
    const during = sampler(dana.pid);
    const refused = await uploadFile(dana.port, tooLargeFile, 'forty-five.txt', 'text/plain');
    await sleep(500);
    const peakKb = Math.max(...during.stop().map((sample) => sample.kb));
    const countAfter = await documentCount(dana.port);
    const filesAfter = await listFiles(uploadDir);
    const leftovers = filesAfter.filter((file) => !filesBefore.includes(file));
    const detail = refused.body.toString('utf8');
    const expectedDetail = `File too large. Maximum size is ${UPLOAD_LIMIT_MB}MB`;
    const ok = refused.status === 413 && JSON.parse(detail || '{}').detail === expectedDetail && countAfter === countBefore && leftovers.length === 0;
    raw.upload.tooLarge = {
      status: refused.status, body: detail, rowsBefore: countBefore, rowsAfter: countAfter, newFiles: leftovers,
      answeredMs: round(refused.ms), rssGrowthMb: round((peakKb - baselineKb) / 1024),
    };
    figure({
      name: `Upload ${UPLOAD_TOO_LARGE_BYTES / MIB} MiB over a ${UPLOAD_LIMIT_MB} MiB limit`,
      value: `${refused.status}: ${JSON.parse(detail || '{}').detail ?? detail}`,
      reference: `rows ${countBefore} -> ${countAfter}, new files: ${leftovers.length ? leftovers.join(', ') : 'none'}`,
      ratio: `RSS +${fmt((peakKb - baselineKb) / 1024)} MB`,
      target: '413, no row, no file',
      pass: ok,
    });
  } finally {
    await stopServer(sink);
    await stopServer(dana);
  }
}

/** CPU time (user + system) a process has used so far, from /proc; NaN where there is none. */
function cpuMsOf(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS);
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * From spawn to the first 200 of GET /api/agents/1, for `dana serve` and the reference server
 * on the same database, interleaved: wall time, and the CPU time the server used until then.
 */
async function benchStartup(home) {
  const runsEach = QUICK ? 3 : 7;
  const times = { dana: [], reference: [] };
  const cpu = { dana: [], reference: [] };
  log(`start-up to the first 200: ${runsEach} runs of each server, interleaved`);
  for (let i = 0; i < runsEach; i++) {
    for (const who of ['dana', 'reference']) {
      const started = performance.now();
      const server = who === 'dana' ? await startDana('dana-startup', home) : await startReference(path.join(home, 'local.db'), path.join(home, 'uploads'));
      for (;;) {
        const response = await request(server.port, { path: '/api/agents/1' }).catch(() => undefined);
        if (response?.status === 200) break;
        await sleep(2);
      }
      times[who].push(performance.now() - started);
      cpu[who].push(cpuMsOf(server.pid));
      await stopServer(server);
    }
  }
  raw.startup = { times, cpu };
  const [dana, reference] = [summary(times.dana), summary(times.reference)];
  const ratio = dana.median / reference.median;
  figure({
    name: 'dana serve: spawn to first 200',
    value: fmtSummary(dana, 'ms', 0),
    reference: `reference: ${fmtSummary(reference, 'ms', 0)}`,
    ratio: `${ratio.toFixed(2)}x`,
    target: `<= ${TARGETS.startupRatio}x`,
    pass: ratio <= TARGETS.startupRatio,
    data: { dana, reference, ratio },
  });
  const [danaCpu, referenceCpu] = [summary(cpu.dana), summary(cpu.reference)];
  figure({
    name: 'dana serve: CPU time until first 200',
    value: fmtSummary(danaCpu, 'ms', 0),
    reference: `reference: ${fmtSummary(referenceCpu, 'ms', 0)}`,
    ratio: `${(danaCpu.median / referenceCpu.median).toFixed(2)}x`,
    target: 'info',
    pass: null,
    data: { dana: danaCpu, reference: referenceCpu },
  });
}

async function sampleFor(pid, ms) {
  const samples = sampler(pid);
  await sleep(ms);
  return samples.stop().map((sample) => sample.kb);
}

/** GET /api/agents/1, one request at a time, for as long as a 40 MiB text file is uploaded and indexed. */
async function benchReadDuringUpload(dana, file) {
  const created = await postJson(dana.port, '/api/agents/', { name: 'Reader', description: '', config: {} });
  expectStatus(created, 201, 'POST /api/agents/');
  const agent = json(created);
  const latencies = [];
  let uploading = true;
  const upload = uploadFile(dana.port, file, 'during.txt', 'text/plain').finally(() => (uploading = false));
  while (uploading) {
    const started = performance.now();
    const response = await request(dana.port, { path: `/api/agents/${agent.id}` });
    expectStatus(response, 200, `GET /api/agents/${agent.id}`);
    latencies.push(performance.now() - started);
  }
  expectStatus(await upload, 201, 'the upload read beside');
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
  raw.readDuringUpload = { requests: latencies.length, p50: round(median(latencies)), p99: round(p99), max: round(latencies.at(-1)) };
  figure({
    name: `GET /api/agents/1 p99 while a ${UPLOAD_OK_BYTES / MIB} MiB text file is uploaded and indexed`,
    value: `${fmt(p99)} ms`,
    reference: `${latencies.length} requests, p50 ${fmt(median(latencies))} ms, max ${fmt(latencies.at(-1))} ms`,
    ratio: '',
    target: `<= ${TARGETS.readDuringUploadP99Ms} ms`,
    pass: p99 <= TARGETS.readDuringUploadP99Ms,
  });
}

/** A 400 MiB upload (limit raised for it) against the 40 MiB upload's growth. */
async function benchLargeUpload(tempRoot, growth40Mb) {
  const home = path.join(tempRoot, 'large-upload-home');
  const file = path.join(tempRoot, 'upload-files', 'four-hundred.txt');
  log(`upload memory: writing a ${LARGE_UPLOAD_BYTES / MIB} MiB text file`);
  await writeTextFile(file, LARGE_UPLOAD_BYTES, 400);
  const dana = await startDana('dana-large-upload', home, { DANA_MAX_UPLOAD_MB: String(LARGE_UPLOAD_BYTES / MIB) });
  try {
    for (let i = 0; i < 3; i++) {
      const small = await uploadBuffer(dana.port, 'warm.txt', 'text/plain', Buffer.from(generateText(prng(i), 20_000)));
      expectStatus(small, 201, 'warm-up upload');
    }
    await sleep(500);
    const measured = await measureUpload(dana, file, LARGE_UPLOAD_BYTES);
    log(`  ${LARGE_UPLOAD_BYTES / MIB} MiB: RSS ${measured.baselineMb} MB -> peak ${measured.peakMb} MB (+${measured.growthMb} MB)`);
    raw.largeUpload = measured;
    figure({
      name: `Upload memory: RSS growth, ${LARGE_UPLOAD_BYTES / MIB} MiB upload`,
      value: `+${fmt(measured.growthMb)} MB`,
      reference: `first ${UPLOAD_OK_BYTES / MIB} MiB upload: +${fmt(growth40Mb)} MB`,
      ratio: `${measured.growthMb - growth40Mb >= 0 ? '+' : ''}${fmt(measured.growthMb - growth40Mb)} MB`,
      target: `<= +${TARGETS.largeUploadExtraMb} MB over the ${UPLOAD_OK_BYTES / MIB} MiB upload`,
      pass: measured.growthMb <= growth40Mb + TARGETS.largeUploadExtraMb,
    });
  } finally {
    await stopServer(dana);
    await fsp.rm(file, { force: true });
  }
}

/**
 * One 40 MiB upload streamed from disk while the server's RSS is sampled: the growth over
 * the idle baseline (median of half a second of samples) until the answer, and until the
 * last byte of the body was sent.
 */
async function measureUpload(server, file, bytes = UPLOAD_OK_BYTES) {
  const idle = sampler(server.pid);
  await sleep(500);
  const baselineKb = median(idle.stop().map((sample) => sample.kb));
  const during = sampler(server.pid);
  let bodySentAt;
  const response = await uploadFile(server.port, file, path.basename(file), 'text/plain', (at) => (bodySentAt = at - during.started));
  const respondedAt = performance.now() - during.started;
  await sleep(200);
  const samples = during.stop();
  expectStatus(response, 201, `the ${bytes / MIB} MiB upload (${server.label})`);
  const stored = json(response).file_size;
  const expected = server.label.startsWith('dana') ? bytes : undefined;
  if (expected !== undefined && stored !== expected) throw new Error(`the upload was stored with ${stored} bytes, not ${expected}`);
  const peakKb = Math.max(...samples.map((sample) => sample.kb));
  const transferPeakKb = Math.max(...samples.filter((sample) => sample.t <= (bodySentAt ?? respondedAt)).map((sample) => sample.kb));
  await sleep(1000);
  return {
    baselineMb: round(baselineKb / 1024),
    peakMb: round(peakKb / 1024),
    growthMb: round((peakKb - baselineKb) / 1024),
    growthWhileReceivingMb: round((transferPeakKb - baselineKb) / 1024),
    bodySentMs: round(bodySentAt ?? NaN),
    respondedMs: round(respondedAt),
    timeline: samples.map((sample) => [round(sample.t, 0), round(sample.kb / 1024, 1)]),
  };
}

// ---------------------------------------------------------------------------------------
// Output

function printTable() {
  const header = ['figure', 'Dana: median [min-max]', 'reference / baseline', 'ratio / value', 'target', 'result'];
  const rows = figures.map((row) => [row.name, row.value, row.reference ?? '', row.ratio ?? '', row.target ?? '', row.pass === null ? 'info' : row.pass ? 'PASS' : 'FAIL']);
  const limit = [58, 44, 48, 36, 34, 6];
  const cut = (text, width) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
  const widths = header.map((title, i) => Math.min(limit[i], Math.max(title.length, ...rows.map((row) => row[i].length))));
  const line = (cells) => cells.map((cell, i) => cut(cell, widths[i]).padEnd(widths[i])).join(' | ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${rows.map(line).join('\n')}\n`);
}

let tempRoot;
function cleanupTemp() {
  if (!tempRoot) return;
  if (KEEP) {
    process.stderr.write(`bench: data kept in ${tempRoot}\n`);
    return;
  }
  fs.rmSync(tempRoot, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// Part 6: PostgreSQL, one server and two behind one database (figures beside SQLite's)

const PG_URL = process.env.DANA_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAdmin() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
}

/** autocannon on several servers at once, the connections split between them. */
async function cannonSplit(ports, route, seconds) {
  const share = { ...route };
  const results = await Promise.all(ports.map((port) => cannonWith(port, share, seconds, Math.ceil(CONNECTIONS / ports.length))));
  return {
    rps: round(results.reduce((sum, result) => sum + result.rps, 0)),
    p99: Math.max(...results.map((result) => result.p99)),
    failures: results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0),
  };
}

async function cannonWith(port, route, seconds, connections) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${route.path}`,
    method: route.method,
    headers: route.headers,
    requests: route.makeBody ? [{ setupRequest: (req) => ({ ...req, body: route.makeBody(++postCounter) }) }] : undefined,
    connections,
    pipelining: 1,
    duration: seconds,
  });
  return { rps: round(result.requests.average), p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts };
}

async function benchPostgres(tempRoot) {
  let admin;
  try {
    admin = await postgresAdmin();
  } catch (error) {
    notes.push(`PostgreSQL figures skipped: nothing answers at ${PG_URL.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')} (${error.message})`);
    return;
  }
  const schema = `dana_bench_${process.pid}`;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env = { DANA_DATABASE_URL: url.toString(), DANA_UPLOAD_DIR: path.join(tempRoot, 'pg-uploads') };
  const servers = [];
  try {
    servers.push(await startDana('dana-postgres', path.join(tempRoot, 'pg-home-1'), env));
    const [first] = servers;
    log(`Dana on PostgreSQL listening on ${first.port}; seeding ${AGENTS} agents and the 1 MB document`);
    await inParallel(Array.from({ length: AGENTS }, (_, i) => i), 10, async (i) => {
      const body = { name: `Agent ${String(i + 1).padStart(4, '0')}`, description: 'A benchmark agent', config: { provider: 'local', tags: ['bench'] } };
      expectStatus(await postJson(first.port, '/api/agents/', body), 201, 'seeding an agent on PostgreSQL');
    });
    expectStatus(await uploadBuffer(first.port, 'readings.csv', 'text/csv', numericCsv(DOWNLOAD_BYTES)), 201, 'uploading the 1 MB document');

    raw.postgres = {};
    for (const route of ROUTES) {
      await cannon(first.port, route, SETTINGS.warmupSeconds);
      const rounds = [];
      for (let r = 0; r < SETTINGS.rounds; r++) rounds.push(await cannon(first.port, route, SETTINGS.seconds));
      raw.postgres[route.name] = rounds;
      const rps = summary(rounds.map((round) => round.rps));
      const failures = rounds.reduce((sum, round) => sum + round.non2xx + round.errors + round.timeouts, 0);
      const sqlite = raw.throughput?.[route.name] ? summary(raw.throughput[route.name].dana.map((round) => round.rps)) : undefined;
      log(`  PostgreSQL ${route.name}: ${fmtSummary(rps, 'req/s', 0)}`);
      figure({
        name: `PostgreSQL: ${route.name}`,
        value: fmtSummary(rps, 'req/s', 0),
        reference: sqlite ? `Dana on SQLite: ${fmt(sqlite.median, 0)} req/s` : 'Dana on SQLite: not measured (--only)',
        ratio: `p99 ${summary(rounds.map((round) => round.p99)).median} ms`,
        target: 'reported; no failures',
        pass: failures === 0,
        data: { dana: rps, failures },
      });
    }

    servers.push(await startDana('dana-postgres-2', path.join(tempRoot, 'pg-home-2'), env));
    const ports = servers.map((server) => server.port);
    raw.postgresTwoServers = {};
    for (const route of ROUTES.filter((r) => r.name === 'GET /api/agents/1' || r.method === 'POST')) {
      await cannonSplit(ports, route, SETTINGS.warmupSeconds);
      const one = [];
      const two = [];
      for (let r = 0; r < SETTINGS.rounds; r++) {
        one.push(await cannonSplit([ports[0]], route, SETTINGS.seconds));
        two.push(await cannonSplit(ports, route, SETTINGS.seconds));
      }
      raw.postgresTwoServers[route.name] = { one, two };
      const oneRps = summary(one.map((round) => round.rps));
      const twoRps = summary(two.map((round) => round.rps));
      const failures = [...one, ...two].reduce((sum, round) => sum + round.failures, 0);
      log(`  two servers ${route.name}: ${fmtSummary(twoRps, 'req/s', 0)} (one: ${fmt(oneRps.median, 0)})`);
      figure({
        name: `PostgreSQL, two servers: ${route.name}`,
        value: fmtSummary(twoRps, 'req/s', 0),
        reference: `one server: ${fmt(oneRps.median, 0)} req/s`,
        ratio: `${(twoRps.median / oneRps.median).toFixed(2)}x`,
        target: 'reported; no failures',
        pass: failures === 0,
        data: { one: oneRps, two: twoRps, failures },
      });
    }
  } finally {
    for (const server of servers) await stopServer(server);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------
// Main

const startedAt = performance.now();

/** A part measured by bench/<file>: its rows become figures of this run. */
async function benchModule(part, file) {
  log(`${part}: bench/${file}`);
  const { run } = await import(new URL(file, import.meta.url).href);
  const rows = await run({ quick: QUICK });
  raw[part] = rows;
  for (const row of rows) {
    figure({
      name: row.figure,
      value: `${typeof row.value === 'number' ? fmt(row.value, 2) : row.value}${row.unit ? ` ${row.unit}` : ''}`,
      reference: row.reference,
      ratio: row.ratio,
      target: row.target,
      pass: row.ok === undefined ? null : row.ok,
    });
  }
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist'))) fatal('dist/ is missing: run `npm run build` first (`npm run bench` does)');
  if (PROFILE) await fsp.mkdir(PROFILE_DIR, { recursive: true });
  tempRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'dana-bench-'));
  log(`data in ${tempRoot}; ${os.cpus().length} CPUs, node ${process.version}${QUICK ? ', --quick' : ''}`);

  let error;
  try {
    if (runs('cli')) await benchCli(tempRoot);

    if (runs('api') || runs('chat') || runs('rows')) {
      const home = path.join(tempRoot, 'home');
      const dana = await startDana('dana', home);
      let reference;
      try {
        log(`Dana listening on ${dana.port} (pid ${dana.pid})`);
        await seed(dana, home);
        if (runs('api')) {
          reference = await startReference(path.join(home, 'local.db'), path.join(home, 'uploads'));
          log(`reference listening on ${reference.port} (pid ${reference.pid})`);
          await benchApi(dana, reference);
          await benchStartup(home);
        }
        if (runs('chat')) await benchChat(dana);
        if (runs('rows')) await benchRows(dana, home);
      } finally {
        await stopServer(reference);
        await stopServer(dana);
      }
    }

    if (runs('upload')) {
      await benchUpload(tempRoot);
      // Both first large uploads of a server warmed up the same way.
      await benchLargeUpload(tempRoot, raw.upload.rounds.dana[0].growthMb);
    }
    if (runs('postgres')) await benchPostgres(tempRoot);
    for (const [part, file] of Object.entries(MODULE_PARTS)) {
      if (runs(part)) await benchModule(part, file);
    }
  } catch (caught) {
    error = caught;
  }

  const seconds = (performance.now() - startedAt) / 1000;
  if (error) {
    figure({ name: 'Benchmark ran to the end', value: String(error.message).split('\n')[0], target: 'no error', pass: false });
    process.stderr.write(`${error.stack ?? error}\n`);
  }
  printTable();
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  const failed = figures.filter((row) => row.pass === false);
  process.stdout.write(`\n${failed.length ? `${failed.length} target(s) missed` : 'all targets met'} in ${seconds.toFixed(0)} s${QUICK ? ' (--quick: fewer, shorter rounds)' : ''}\n`);

  const results = {
    date: new Date().toISOString(),
    quick: QUICK,
    only: ONLY.length ? ONLY : undefined,
    seconds: round(seconds, 1),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      totalMemMb: Math.round(os.totalmem() / MIB),
      loadavg: os.loadavg().map((value) => round(value)),
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      node: process.version,
    },
    settings: { ...SETTINGS, connections: CONNECTIONS, agents: AGENTS, chatDocuments: CHAT_DOCUMENTS, messages: MESSAGES },
    targets: TARGETS,
    figures: figures.map(({ name, value, reference, ratio, target, pass, data }) => ({ name, value, reference, ratio, target, pass, data })),
    raw,
    notes,
    error: error ? String(error.stack ?? error) : undefined,
  };
  await fsp.writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results written to ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}\n`);
  cleanupTemp();
  keepAliveAgent.destroy();
  process.exitCode = failed.length ? 1 : 0;
}

await main();
