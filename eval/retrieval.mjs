#!/usr/bin/env node
// Dana's retrieval eval: `npm run eval:retrieval` (which builds first), or
// `node eval/retrieval.mjs [--limit N] [--verbose]` on a fresh build.
//
// A known-item set from text nobody here wrote: the README of each package in node_modules
// that has a one-line `description` in its package.json. The description is the question;
// it is cut from the README (its first paragraph, and every line that contains it), so the
// answer is never a copy of the question. The READMEs are uploaded through the real API
// (an in-process server on a free loopback port, over a temp data folder), each question
// is asked with POST /api/chat/ and the offline runner, and the document expected is looked
// for among the reply's `sources`. A textbook BM25 over whole documents (lower-cased words,
// k1 1.2, b 0.75) is computed over the same uploaded text in the same run, as the baseline.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at === -1 ? fallback : argv[at + 1];
};
const LIMIT = Number(option('--limit', 1000));
const VERBOSE = argv.includes('--verbose');
if (!Number.isSafeInteger(LIMIT) || LIMIT < 1) fatal('--limit takes a positive integer');

const MIN_README_CHARS = 500;
const MAX_README_CHARS = 100_000;

/** Every package folder under node_modules (scoped ones too), nested copies included. */
function packageDirs(modules, found = []) {
  let entries;
  try {
    entries = fs.readdirSync(modules, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const dir = path.join(modules, entry.name);
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (entry.name.startsWith('@')) packageDirs(dir, found);
    else {
      found.push(dir);
      packageDirs(path.join(dir, 'node_modules'), found);
    }
  }
  return found;
}

const squash = (text) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/** The README with its first paragraph (after the title and badges) and every line holding the description cut. */
function withoutDescription(readme, description) {
  const lines = readme.replace(/\r\n?/g, '\n').split('\n');
  const wanted = squash(description);
  const kept = lines.filter((line) => !(wanted.length >= 12 && squash(line).includes(wanted)));
  // The first paragraph of prose: the first block of lines that are not headings, badges,
  // HTML or blank.
  const prose = (line) => line.trim() && !/^\s*(#|!\[|\[!\[|<|=+\s*$|-+\s*$)/.test(line);
  const start = kept.findIndex(prose);
  if (start === -1) return kept.join('\n');
  let end = start;
  while (end < kept.length && kept[end].trim()) end++;
  kept.splice(start, end - start);
  return kept.join('\n').trim();
}

function collectItems(limit) {
  const byName = new Map();
  for (const dir of packageDirs(path.join(ROOT, 'node_modules'))) {
    let manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const { name, description } = manifest;
    if (typeof name !== 'string' || byName.has(name)) continue;
    if (typeof description !== 'string' || squash(description).split(' ').length < 3) continue;
    const readmeName = fs.readdirSync(dir).find((file) => /^readme(\.(md|markdown|txt))?$/i.test(file));
    if (!readmeName) continue;
    const readme = fs.readFileSync(path.join(dir, readmeName), 'utf8');
    if (readme.length < MIN_README_CHARS || readme.length > MAX_README_CHARS) continue;
    const text = withoutDescription(readme, description);
    if (text.length < MIN_README_CHARS / 2) continue;
    byName.set(name, { name, question: description.trim(), text });
  }
  // Dedupe identical questions (forks share descriptions): a question must name one document.
  const seenQuestions = new Map();
  for (const item of byName.values()) seenQuestions.set(squash(item.question), (seenQuestions.get(squash(item.question)) ?? 0) + 1);
  const items = [...byName.values()].filter((item) => seenQuestions.get(squash(item.question)) === 1);
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return items.slice(0, limit);
}

// ---- The baseline: textbook BM25 over whole documents -------------------------------------

const words = (text) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function bm25Baseline(items, k1 = 1.2, b = 0.75) {
  const docs = items.map((item) => {
    const counts = new Map();
    const tokens = words(item.text);
    for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
    return { counts, length: tokens.length };
  });
  const df = new Map();
  for (const doc of docs) for (const term of doc.counts.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = docs.length;
  const avgdl = docs.reduce((sum, doc) => sum + doc.length, 0) / n;
  return (question) => {
    const terms = [...new Set(words(question))];
    const scores = docs.map((doc, i) => {
      let score = 0;
      for (const term of terms) {
        const tf = doc.counts.get(term);
        if (!tf) continue;
        const nt = df.get(term);
        const idf = Math.log(1 + (n - nt + 0.5) / (nt + 0.5));
        score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / avgdl));
      }
      return { i, score };
    });
    return scores.filter((s) => s.score > 0).sort((x, y) => y.score - x.score || x.i - y.i).slice(0, 5).map((s) => s.i);
  };
}

// ---- Dana through its API --------------------------------------------------------------------

async function startDana(home) {
  const { resolveConfig } = await import(path.join(ROOT, 'dist/core/config.js'));
  const { createContext } = await import(path.join(ROOT, 'dist/core/context.js'));
  const { createApp } = await import(path.join(ROOT, 'dist/server/app.js'));
  const env = { DANA_HOME: home, ...(process.env.DANA_DATABASE_URL && { DANA_DATABASE_URL: process.env.DANA_DATABASE_URL }) };
  const context = await createContext(resolveConfig({}, env));
  const server = http.createServer(createApp(context).callback());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    api: (route, init) => fetch(`${url}${route}`, init),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await context.close();
    },
  };
}

async function expectOk(response, what) {
  if (response.ok) return response.json();
  fatal(`${what}: ${response.status} ${await response.text()}`);
}

function scoreRanks(ranks) {
  const n = ranks.length;
  return {
    r1: ranks.filter((rank) => rank === 1).length / n,
    r5: ranks.filter((rank) => rank && rank <= 5).length / n,
    mrr: ranks.reduce((sum, rank) => sum + (rank ? 1 / rank : 0), 0) / n,
  };
}

async function main() {
  const started = Date.now();
  const items = collectItems(LIMIT);
  if (items.length < 10) fatal(`only ${items.length} packages with a description and a README were found under node_modules`);
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'dana-eval-'));
  const dana = await startDana(home);
  try {
    const agent = await expectOk(
      await dana.api('/api/agents/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Eval', description: '', config: { provider: 'local' } }) }),
      'create agent',
    );
    const idOf = new Map();
    for (const [i, item] of items.entries()) {
      const form = new FormData();
      form.append('file', new Blob([item.text], { type: 'text/markdown' }), `doc-${String(i + 1).padStart(4, '0')}.md`);
      form.append('agent_id', String(agent.id));
      const document = await expectOk(await dana.api('/api/documents/', { method: 'POST', body: form }), `upload ${item.name}`);
      idOf.set(document.id, i);
    }
    const uploaded = Date.now();
    const baseline = bm25Baseline(items);
    const danaRanks = [];
    let sourcesGiven = 0;
    const baselineRanks = [];
    for (const [i, item] of items.entries()) {
      const reply = await expectOk(
        await dana.api('/api/chat/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: item.question, agent_id: agent.id }) }),
        `chat about ${item.name}`,
      );
      const found = reply.sources.map((source) => idOf.get(source.document_id));
      sourcesGiven += found.length;
      const rank = found.indexOf(i) + 1;
      danaRanks.push(rank);
      const baseRank = baseline(item.question).indexOf(i) + 1;
      baselineRanks.push(baseRank);
      if (VERBOSE && rank !== 1) {
        console.log(`${item.name}: rank ${rank || '-'} (baseline ${baseRank || '-'}) "${item.question}" -> ${found.map((j) => items[j]?.name).join(', ')}`);
      }
    }
    const rows = [
      ['Dana (POST /api/chat/, local runner)', scoreRanks(danaRanks)],
      ['BM25 over whole documents (k1 1.2, b 0.75)', scoreRanks(baselineRanks)],
    ];
    console.log(`\n${items.length} known-item questions from node_modules READMEs (upload ${((uploaded - started) / 1000).toFixed(1)} s, questions ${((Date.now() - uploaded) / 1000).toFixed(1)} s, ${(sourcesGiven / items.length).toFixed(2)} sources per answer)\n`);
    console.log(`| N = ${items.length} | recall@1 | recall@5 | MRR |`);
    console.log('|---|---|---|---|');
    for (const [name, s] of rows) console.log(`| ${name} | ${s.r1.toFixed(3)} | ${s.r5.toFixed(3)} | ${s.mrr.toFixed(3)} |`);
  } finally {
    await dana.close();
    if (process.env.EVAL_KEEP) console.log(`kept ${home}`);
    else await fsp.rm(home, { recursive: true, force: true });
  }
}

function fatal(message) {
  console.error(`eval:retrieval: ${message}`);
  process.exit(1);
}

await main();
