#!/usr/bin/env node
// Finding and keeping data, measured on a fresh build (`npm run build` first):
//   - dana backup and dana restore throughput (MB/s of the data folder) for 1,000 documents
//     beside 10,000 messages, against `tar czf` / `tar xzf` of the same folder in the same run
//     (the machine is shared and noisy, so the targets are ratios to those);
//   - GET /api/search median over 10,000 messages and 1,000 documents (target <= 50 ms),
//     the search service alone, and `dana search` as a user runs it (start-up included).
//
//   node bench/keeping.mjs            prints a table (exit 1 when a target is missed)
//   import { run } from './keeping.mjs'  → [{ figure, value, unit, target, ok }]
//   DANA_BENCH_KEEP=1 keeps the temporary folders and archives (their path is printed)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const BIN = path.join(ROOT, 'bin', 'run.js');
const DOCUMENTS = 1_000;
const MESSAGES = 10_000;
const CONVERSATIONS = 200;
const SEARCHES = 60;
const CLI_SEARCHES = 8;
const MB = 1024 * 1024;

const TARGETS = {
  searchMs: 50, // GET /api/search median
  backupRatio: 0.5, // dana backup MB/s >= 0.5 x tar czf MB/s of the same folder
  restoreRatio: 0.25, // dana restore MB/s >= 0.25 x tar xzf MB/s (restore also checks every SHA-256 and inserts every row)
};

const load = (module) => import(pathToFileURL(path.join(DIST, module)).href);

// A vocabulary of made-up words: texts differ (gzip has real work) and queries match some rows.
function words(seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tas', 'vu', 'quo', 'zen', 'pra', 'dul', 'fe', 'gor', 'hin', 'jas', 'nex', 'sol'];
  const vocabulary = Array.from({ length: 3000 }, (_, i) => syllables[i % 16] + syllables[(i >> 4) % 16] + syllables[(i >> 8) % 16]);
  return (count) => Array.from({ length: count }, () => vocabulary[Math.floor(next() ** 2 * vocabulary.length)]).join(' ');
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function folderBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

async function fill(context) {
  const text = words(7);
  for (let i = 0; i < DOCUMENTS; i++) {
    const body = `Document ${i}. ${text(2000 + (i % 7) * 500)}\n`;
    await context.services.documents.receive(Readable.from([Buffer.from(body)]), { clientName: `doc-${i}.txt`, fields: {} });
  }
  const { knex } = context;
  const now = new Date().toISOString();
  const conversations = Array.from({ length: CONVERSATIONS }, (_, i) => ({ title: `Conversation ${i} ${text(3)}`, agent_id: null, created_at: now, updated_at: now }));
  for (let i = 0; i < conversations.length; i += 100) await knex('conversations').insert(conversations.slice(i, i + 100));
  const messages = Array.from({ length: MESSAGES }, (_, i) => ({
    conversation_id: (i % CONVERSATIONS) + 1, sender: i % 2 ? 'agent' : 'user', content: text(20 + (i % 11) * 15), sources: null, created_at: now, updated_at: now,
  }));
  for (let i = 0; i < messages.length; i += 200) await knex('messages').insert(messages.slice(i, i + 200));
}

function timed(work) {
  const started = performance.now();
  return Promise.resolve(work()).then(() => (performance.now() - started) / 1000);
}

export async function run() {
  const { createContext } = await load('core/context.js');
  const { resolveConfig } = await load('core/config.js');
  const { createBackup, restoreBackup } = await load('core/backup.js');
  const { createApp } = await load('server/app.js');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dana-bench-keeping-'));
  const home = path.join(scratch, 'home');
  const env = { DANA_HOME: home, PATH: process.env.PATH, HOME: process.env.HOME };
  const results = [];
  const context = await createContext(resolveConfig({}, env));
  try {
    await fill(context);
    // The WAL folded into the database file, so both tools see the same folder.
    await context.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = folderBytes(home);
    const mb = bytes / MB;

    const archive = path.join(scratch, 'dana.tar.gz');
    const backupSeconds = await timed(() => createBackup(context, archive));
    const tarArchive = path.join(scratch, 'tar.tar.gz');
    const tarSeconds = await timed(() => execFileSync('tar', ['czf', tarArchive, '-C', home, '.']));
    const restoreHome = path.join(scratch, 'restored');
    const restoreContext = await createContext(resolveConfig({}, { ...env, DANA_HOME: restoreHome }));
    let restoreSeconds;
    try {
      restoreSeconds = await timed(() => restoreBackup(restoreContext, archive));
    } finally {
      await restoreContext.close();
    }
    const untarHome = path.join(scratch, 'untarred');
    fs.mkdirSync(untarHome);
    const untarSeconds = await timed(() => execFileSync('tar', ['xzf', tarArchive, '-C', untarHome]));
    const rate = (seconds) => Math.round((mb / seconds) * 10) / 10;
    results.push(
      { figure: `data folder (${DOCUMENTS} documents, ${MESSAGES} messages)`, value: Math.round(mb * 10) / 10, unit: 'MB', target: null, ok: true },
      { figure: 'tar czf of the data folder', value: rate(tarSeconds), unit: 'MB/s', target: null, ok: true },
      { figure: 'dana backup', value: rate(backupSeconds), unit: 'MB/s', target: `>= ${TARGETS.backupRatio} x tar czf`, ok: rate(backupSeconds) >= TARGETS.backupRatio * rate(tarSeconds) },
      { figure: 'tar xzf of that archive', value: rate(untarSeconds), unit: 'MB/s', target: null, ok: true },
      { figure: 'dana restore (into an empty SQLite folder)', value: rate(restoreSeconds), unit: 'MB/s', target: `>= ${TARGETS.restoreRatio} x tar xzf`, ok: rate(restoreSeconds) >= TARGETS.restoreRatio * rate(untarSeconds) },
      { figure: 'archive size: dana backup / tar czf', value: Math.round((fs.statSync(archive).size / fs.statSync(tarArchive).size) * 100) / 100, unit: 'x', target: null, ok: true },
    );

    // Search: the same few-word queries through the service, the API and the CLI.
    const text = words(7);
    const queries = Array.from({ length: SEARCHES }, () => text(2));
    for (const q of queries.slice(0, 5)) await context.services.search.search({ q });
    const serviceTimes = [];
    for (const q of queries) {
      const started = performance.now();
      await context.services.search.search({ q });
      serviceTimes.push(performance.now() - started);
    }
    const server = http.createServer(createApp(context).callback());
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    const apiTimes = [];
    let found = 0;
    try {
      for (const q of queries) {
        const started = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/api/search?q=${encodeURIComponent(q)}`);
        const body = await res.json();
        apiTimes.push(performance.now() - started);
        if (res.status !== 200) throw new Error(`GET /api/search answered ${res.status}: ${JSON.stringify(body)}`);
        found += body.length ? 1 : 0;
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const cliTimes = [];
    for (const q of queries.slice(0, CLI_SEARCHES)) {
      const started = performance.now();
      const result = spawnSync(process.execPath, [BIN, 'search', q, '--json'], { env: { ...env, NO_COLOR: '1' }, encoding: 'utf8' });
      cliTimes.push(performance.now() - started);
      if (result.status !== 0) throw new Error(`dana search failed: ${result.stderr}`);
    }
    const apiMedian = Math.round(median(apiTimes) * 10) / 10;
    results.push(
      { figure: `GET /api/search median (${found}/${queries.length} queries found something)`, value: apiMedian, unit: 'ms', target: `<= ${TARGETS.searchMs}`, ok: apiMedian <= TARGETS.searchMs },
      { figure: 'search service median (no HTTP)', value: Math.round(median(serviceTimes) * 10) / 10, unit: 'ms', target: null, ok: true },
      { figure: 'dana search median (process start-up included)', value: Math.round(median(cliTimes)), unit: 'ms', target: null, ok: true },
    );
  } finally {
    await context.close();
    // DANA_BENCH_KEEP=1 keeps the folders and archives for a closer look.
    if (process.env.DANA_BENCH_KEEP) process.stderr.write(`kept ${scratch}\n`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await run();
  const width = Math.max(...results.map((row) => row.figure.length));
  for (const row of results) {
    console.log(`${row.figure.padEnd(width)}  ${String(row.value).padStart(8)} ${row.unit.padEnd(5)} ${row.target ?? ''}${row.ok ? '' : '  MISSED'}`);
  }
  process.exitCode = results.every((row) => row.ok) ? 0 : 1;
}
