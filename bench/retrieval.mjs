#!/usr/bin/env node
// Retrieval benchmark: `node bench/retrieval.mjs [--quick]` after `npm run build`, or
// `run()` from another script. Three figures, each against its target:
//
// - chat latency: p95 of POST /api/chat/ (offline runner) over 1,000 documents, through
//   a real HTTP server on loopback;
// - full-text retrieval: p95 of one search (the chat's retriever, 5 sources) over 100,000
//   passages;
// - indexing throughput: MB/s of text stored and indexed by Dana (file, passages, FTS,
//   term counts), against a bare better-sqlite3 FTS5 insert of the same passages, measured
//   in the same run (a ratio, since machines are shared and noisy).
//
// The text is made of words drawn from the READMEs in node_modules (real words with their
// real frequencies), with a fixed seed: every run indexes the same documents.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (module) => import(pathToFileURL(path.join(ROOT, 'dist', module)).href);

const TARGETS = { chatP95Ms: 30, searchP95Ms: 50, indexingRatio: 0.3 };

/** A small seeded generator (mulberry32): the same text on every run. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every word of the READMEs under node_modules, in order: drawing from it keeps their frequencies. */
function wordStream() {
  const words = [];
  const modules = path.join(ROOT, 'node_modules');
  const visit = (dir, depth) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < 2 && !entry.name.startsWith('.')) visit(full, entry.name.startsWith('@') ? depth : depth + 1);
      else if (/^readme\.md$/i.test(entry.name) && words.length < 2_000_000) {
        words.push(...(fs.readFileSync(full, 'utf8').toLowerCase().match(/[a-z]{3,14}/g) ?? []));
      }
    }
  };
  visit(modules, 0);
  if (words.length < 10_000) throw new Error('too few README words under node_modules to make text from');
  return words;
}

function textMaker(seed) {
  const words = wordStream();
  const next = random(seed);
  const word = () => words[Math.floor(next() * words.length)];
  const sentence = () => {
    const length = 6 + Math.floor(next() * 14);
    const parts = Array.from({ length }, word);
    parts[0] = parts[0][0].toUpperCase() + parts[0].slice(1);
    return `${parts.join(' ')}.`;
  };
  const paragraph = (sentences) => Array.from({ length: sentences }, sentence).join(' ');
  return { word, sentence, paragraph, next };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function openDana(home) {
  const { resolveConfig } = await dist('core/config.js');
  const { createContext } = await dist('core/context.js');
  return createContext(resolveConfig({}, { DANA_HOME: home }));
}

async function serveOver(context) {
  const { createApp } = await dist('server/app.js');
  const server = http.createServer(createApp(context).callback());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const store = (context, name, text, agentId) =>
  context.services.documents.receive(Readable.from([Buffer.from(text)]), { clientName: name, fields: { agent_id: agentId } });

/** A question made of a few words of one passage, as a user would half-remember them. */
function questionFrom(text, make) {
  const words = text.toLowerCase().match(/[a-z]{4,}/g) ?? ['nothing'];
  const start = Math.floor(make.next() * Math.max(1, words.length - 6));
  return `What about ${words.slice(start, start + 3 + Math.floor(make.next() * 3)).join(' ')}?`;
}

/** p95 of POST /api/chat/ over 1,000 documents of about 500 words. */
async function chatLatency({ documents, chats }) {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'dana-bench-chat-'));
  const context = await openDana(home);
  try {
    const make = textMaker(1);
    const agent = await context.services.agents.create({ name: 'Bench', description: '', config: { provider: 'local' } });
    const texts = [];
    for (let i = 0; i < documents; i++) {
      const text = Array.from({ length: 5 }, () => make.paragraph(5)).join('\n\n');
      texts.push(text);
      await store(context, `doc-${i}.txt`, text, agent.id);
    }
    const server = await serveOver(context);
    try {
      const ask = async (message) => {
        const started = performance.now();
        const res = await fetch(`${server.url}/api/chat/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message, agent_id: agent.id }),
        });
        const body = await res.json();
        if (res.status !== 200) throw new Error(`POST /api/chat/: ${res.status} ${JSON.stringify(body)}`);
        return { ms: performance.now() - started, sources: body.sources.length };
      };
      const questions = Array.from({ length: chats + 10 }, () => questionFrom(texts[Math.floor(make.next() * texts.length)], make));
      for (const question of questions.slice(0, 10)) await ask(question);
      const times = [];
      let answered = 0;
      for (const question of questions.slice(10)) {
        const { ms, sources } = await ask(question);
        times.push(ms);
        if (sources) answered++;
      }
      return { p95: percentile(times, 95), answered, asked: chats };
    } finally {
      await server.close();
    }
  } finally {
    await context.close();
    await fsp.rm(home, { recursive: true, force: true });
  }
}

/** Search p95 over 100,000 passages, and indexing MB/s against a bare FTS5 insert of the same passages. */
async function searchAndIndexing({ documents, sections, searches }) {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'dana-bench-search-'));
  const context = await openDana(home);
  try {
    const make = textMaker(2);
    const agent = await context.services.agents.create({ name: 'Bench', description: '', config: { provider: 'local' } });
    // Each section (a heading and a paragraph of ~60 words) is one passage.
    const texts = Array.from({ length: documents }, () =>
      Array.from({ length: sections }, (_, s) => `## Section ${s} ${make.word()}\n\n${make.paragraph(4)}`).join('\n\n'));
    const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    let started = performance.now();
    for (const [i, text] of texts.entries()) await store(context, `long-${i}.md`, text, agent.id);
    const danaSeconds = (performance.now() - started) / 1000;
    const passages = (await context.knex('passages').select('content').orderBy('id')).map((row) => row.content);

    // The same passages into a bare FTS5 table, the way a hand-written indexer would.
    const barePath = path.join(home, 'bare.db');
    const bare = new Database(barePath);
    bare.pragma('journal_mode = WAL');
    bare.exec(`CREATE VIRTUAL TABLE passages_fts USING fts5(content, tokenize = 'porter unicode61 remove_diacritics 2')`);
    const insert = bare.prepare('INSERT INTO passages_fts (content) VALUES (?)');
    started = performance.now();
    bare.transaction(() => {
      for (const content of passages) insert.run(content);
    })();
    const bareSeconds = (performance.now() - started) / 1000;
    bare.close();

    const { scopeOf } = await dist('core/chat/service.js');
    const retriever = context.services.chat.retrieverFor(agent);
    const scope = scopeOf(agent);
    const questions = Array.from({ length: searches + 10 }, () => questionFrom(passages[Math.floor(make.next() * passages.length)], make));
    for (const question of questions.slice(0, 10)) await retriever.search(question, scope, 5);
    const times = [];
    let found = 0;
    for (const question of questions.slice(10)) {
      const at = performance.now();
      const hits = await retriever.search(question, scope, 5);
      times.push(performance.now() - at);
      if (hits.length) found++;
    }
    const mb = bytes / 1e6;
    return {
      passages: passages.length,
      p95: percentile(times, 95),
      found,
      searches,
      danaMbS: mb / danaSeconds,
      bareMbS: mb / bareSeconds,
    };
  } finally {
    await context.close();
    await fsp.rm(home, { recursive: true, force: true });
  }
}

/** The figures, each with its target and whether it is met. */
export async function run({ quick = false } = {}) {
  const chat = await chatLatency({ documents: 1000, chats: quick ? 50 : 200 });
  const search = await searchAndIndexing({ documents: quick ? 200 : 1000, sections: 100, searches: quick ? 50 : 200 });
  const ratio = search.danaMbS / search.bareMbS;
  return [
    {
      figure: `chat POST /api/chat/ p95 (local runner, 1,000 documents; ${chat.answered}/${chat.asked} answers quoted sources)`,
      value: round(chat.p95, 2),
      unit: 'ms',
      target: `<= ${TARGETS.chatP95Ms}`,
      ok: chat.p95 <= TARGETS.chatP95Ms,
    },
    {
      figure: `full-text retrieval p95 (${search.passages.toLocaleString('en')} passages, 5 sources; ${search.found}/${search.searches} found some)`,
      value: round(search.p95, 2),
      unit: 'ms',
      target: `<= ${TARGETS.searchP95Ms}`,
      ok: search.p95 <= TARGETS.searchP95Ms,
    },
    {
      figure: `indexing throughput: Dana ${round(search.danaMbS, 2)} MB/s vs bare better-sqlite3 FTS5 insert ${round(search.bareMbS, 2)} MB/s`,
      value: round(ratio, 3),
      unit: 'x',
      target: `>= ${TARGETS.indexingRatio}`,
      ok: ratio >= TARGETS.indexingRatio,
    },
  ];
}

const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await run({ quick: process.argv.includes('--quick') });
  for (const result of results) {
    console.log(`${result.ok ? 'ok  ' : 'MISS'} ${result.figure}: ${result.value} ${result.unit} (target ${result.target} ${result.unit})`);
  }
  process.exitCode = results.every((result) => result.ok) ? 0 : 1;
}
