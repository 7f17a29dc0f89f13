#!/usr/bin/env node
// Hybrid retrieval over 100,000 passages with stored vectors: what one chat turn's search
// costs an agent whose provider has an embedding model: the question's vector from an
// embeddings server on loopback, the full-text ranking, the vector ranking (sign-bit scan
// of every passage in scope, exact cosine of the best candidates) and their fusion.
// Standalone after `npm run build` (`node bench/embeddings.mjs [--dimensions 256]
// [--passages 100000] [--postgres]`), or `run()` from another script. SQLite always;
// PostgreSQL too with --postgres (filling 100,000 passages there takes minutes), at
// DANA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (file) => pathToFileURL(path.join(ROOT, 'dist', file)).href;

const TARGET_P95_MS = 50;
const PG_URL = process.env.DANA_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A reproducible pseudo-random sequence (mulberry32). */
function randomFrom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCABULARY = Array.from({ length: 5000 }, (_, i) => `term${i.toString(36)}`);

/** Passage text: content words with a skewed frequency (the commonest in about half the passages). */
function wordsOf(random, count) {
  const words = [];
  for (let i = 0; i < count; i++) words.push(VOCABULARY[Math.floor(VOCABULARY.length * random() ** 2)]);
  return words.join(' ');
}

/** A question's content words: any word of the vocabulary, each in about 1% of the passages on average. */
function questionOf(random) {
  return Array.from({ length: 4 }, () => VOCABULARY[Math.floor(VOCABULARY.length * random())]).join(' ');
}

/** Vectors around a few hundred topic centres, like embeddings of a real library. */
function vectorMaker(dimensions, seed) {
  const random = randomFrom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: 300 }, () => Array.from({ length: dimensions }, gaussian));
  return () => {
    const centre = centres[Math.floor(random() * centres.length)];
    return centre.map((value) => value + 0.8 * gaussian());
  };
}

/** An OpenAI-compatible /embeddings on loopback that answers any question with a vector near a topic. */
async function startEmbeddingsServer(dimensions) {
  const nextVector = vectorMaker(dimensions, 7);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const input = Array.isArray(body.input) ? body.input : [body.input];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', model: body.model, data: input.map((_, index) => ({ object: 'embedding', index, embedding: nextVector() })) }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { baseUrl: `http://127.0.0.1:${server.address().port}/v1`, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function fillDatabase(context, { passages, dimensions, encodeVector }) {
  const { knex } = context;
  const perDocument = 200;
  const documents = Math.ceil(passages / perDocument);
  const agent = await context.services.agents.create({ name: 'Bench', description: '', config: { provider: 'bench' } });
  const now = new Date().toISOString();
  const random = randomFrom(1);
  const nextVector = vectorMaker(dimensions, 3);
  for (let d = 0; d < documents; d++) {
    const [row] = await knex('documents').insert({
      filename: `bench-${d}.txt`, original_filename: `bench-${d}.txt`, file_path: `bench/${d}.txt`, file_size: 0, mime_type: 'text/plain',
      sha256: null, text_status: 'indexed', text_error: null, topic_id: null, agent_id: agent.id, created_at: now, updated_at: now,
    }).returning('id');
    const documentId = typeof row === 'object' ? row.id : row;
    const count = Math.min(perDocument, passages - d * perDocument);
    await knex.transaction(async (trx) => {
      const rows = Array.from({ length: count }, (_, position) => ({ document_id: documentId, position, content: wordsOf(random, 60) }));
      const ids = [];
      for (let at = 0; at < rows.length; at += 100) {
        const inserted = await trx('passages').insert(rows.slice(at, at + 100)).returning('id');
        ids.push(...inserted.map((value) => (typeof value === 'object' ? value.id : value)));
      }
      const vectors = ids.map((passageId) => ({ passage_id: passageId, document_id: documentId, model: 'bench-embed', ...encodeVector(nextVector()) }));
      for (let at = 0; at < vectors.length; at += 100) await trx('passage_embeddings').insert(vectors.slice(at, at + 100));
    });
  }
  // Each document's term counts, as indexing keeps them: the full-text half ranks documents by them.
  await context.services.documents.recountTerms(knex);
  return agent;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(label, config, options, server) {
  const { createContext } = await import(dist('core/context.js'));
  const { encodeVector } = await import(dist('core/search/vectors.js'));
  const { scopeOf } = await import(dist('core/chat/service.js'));
  const { embedderFor } = await import(dist('core/search/embedder.js'));
  const warnings = [];
  const context = await createContext(config, { log: (level, message) => level === 'warning' && warnings.push(message) });
  try {
    await context.services.providers.add({ name: 'bench', base_url: server.baseUrl, model: 'bench', embedding_model: 'bench-embed' });
    const started = Date.now();
    const agent = await fillDatabase(context, { ...options, encodeVector });
    const fillSeconds = (Date.now() - started) / 1000;
    const search = await context.services.embeddings.searchFor(agent, context.services.chat.retrieverFor(agent), scopeOf(agent));
    const random = randomFrom(11);
    const question = () => questionOf(random);
    // The first search reads every passage's sign bits into memory; later ones only check for new rows.
    const loadStarted = performance.now();
    await search(question(), 5);
    const firstMs = performance.now() - loadStarted;
    for (let i = 0; i < 20; i++) await search(question(), 5);
    // The two halves alone, for reading the total: the full-text retriever, and the question's
    // vector plus the vector ranking.
    const retriever = context.services.chat.retrieverFor(agent);
    const documentIds = new Set((await context.knex('documents').pluck('id')).map(Number));
    const provider = await context.services.providers.resolve('bench');
    const embedder = embedderFor(provider, {});
    const parts = {
      hybrid: (text) => search(text, 5),
      fullText: (text) => retriever.search(text, scopeOf(agent), 5),
      vector: async (text) => context.services.embeddings.vectors.search('bench-embed', (await embedder.embed([text]))[0], documentIds, 5),
    };
    const times = { hybrid: [], fullText: [], vector: [] };
    let hits = 0;
    for (let i = 0; i < options.queries; i++) {
      const text = question();
      for (const [name, part] of Object.entries(parts)) {
        const at = performance.now();
        const found = await part(text);
        times[name].push(performance.now() - at);
        if (name === 'hybrid') hits += found.length;
      }
    }
    if (warnings.length) throw new Error(`hybrid search fell back to full text: ${warnings[0]}`);
    const round = (ms) => Math.round(ms * 10) / 10;
    const p95Of = (name) => round(percentile(times[name].sort((a, b) => a - b), 95));
    const medianOf = (name) => round(percentile(times[name], 50));
    const scale = `${options.passages.toLocaleString('en-US')} passages, ${options.dimensions} dims, ${label}`;
    const load = os.loadavg()[0].toFixed(1);
    return [
      {
        figure: `hybrid retrieval over ${scale}: p95`,
        value: p95Of('hybrid'),
        unit: 'ms',
        target: `<= ${TARGET_P95_MS} ms`,
        ok: p95Of('hybrid') <= TARGET_P95_MS && hits > 0,
        detail: { median_ms: medianOf('hybrid'), first_search_ms: round(firstMs), queries: options.queries, fill_s: round(fillSeconds), load_average: load },
      },
      { figure: `  of which full-text ranking (${label}): p95`, value: p95Of('fullText'), unit: 'ms', target: 'info', ok: null, detail: { median_ms: medianOf('fullText') } },
      { figure: `  of which question vector + vector ranking (${label}): p95`, value: p95Of('vector'), unit: 'ms', target: 'info', ok: null, detail: { median_ms: medianOf('vector') } },
    ];
  } finally {
    await context.close();
  }
}

export async function run({ passages = 100_000, dimensions = 256, queries = 200, postgres = false } = {}) {
  const { resolveConfig } = await import(dist('core/config.js'));
  const server = await startEmbeddingsServer(dimensions);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dana-bench-embeddings-'));
  const options = { passages, dimensions, queries };
  const figures = [];
  try {
    figures.push(...(await measure('SQLite', resolveConfig({}, { DANA_HOME: path.join(home, 'sqlite') }), options, server)));
    if (postgres) figures.push(...(await measurePostgres(resolveConfig, home, options, server)));
  } finally {
    await server.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
  return figures;
}

async function measurePostgres(resolveConfig, home, options, server) {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    return [{ figure: 'hybrid retrieval on PostgreSQL', value: null, unit: 'ms', target: `<= ${TARGET_P95_MS} ms`, ok: null, detail: `skipped: ${error.message}` }];
  }
  const schema = `dana_bench_embeddings_${process.pid}`;
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const config = resolveConfig({}, { DANA_HOME: path.join(home, 'postgres'), DANA_DATABASE_URL: url.toString() });
    return await measure('PostgreSQL', config, options, server);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

function flag(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const figures = await run({
    passages: flag('passages', 100_000),
    dimensions: flag('dimensions', 256),
    queries: flag('queries', 200),
    postgres: process.argv.includes('--postgres'),
  });
  for (const row of figures) {
    const verdict = row.ok === null ? 'info' : row.ok ? 'PASS' : 'FAIL';
    console.log(`${row.figure}: ${row.value} ${row.unit} (target ${row.target}) ${verdict} ${JSON.stringify(row.detail)}`);
  }
  process.exitCode = figures.some((row) => row.ok === false) ? 1 : 0;
}
