#!/usr/bin/env node
// Run throughput on PostgreSQL, measured on a fresh build (`npm run build` first): answers
// per second with the local runner for
//   - one each_document run over 1,000 documents, executed by one `dana serve` (2 workers),
//     then by one server and two `dana worker` processes: idle workers help with a running
//     run's documents, so the second figure shows what more processes do for one large run;
//   - the same 1,000 documents as 10 runs of 100, by one server, then by one server and two
//     workers: the queue spreads runs over every process.
// No target: the figures are reported (the machine is shared; compare within a run).
//
//   node bench/runs.mjs [--quick]      prints a table
//   import { run } from './runs.mjs'   → [{ figure, value, unit, target, ok }]
//   DANA_BENCH_DATABASE_URL            default postgres://postgres@127.0.0.1:5432/test
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const BIN = path.join(ROOT, 'bin', 'run.js');
const DATABASE_URL = process.env.DANA_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const load = (module) => import(pathToFileURL(path.join(DIST, module)).href);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `dana serve` or `dana worker`, resolved once it says it is ready. */
async function startDana(args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (output += text));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`dana ${args[0]} did not start:\n${output}`);
    await sleep(20);
  }
  return {
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Seconds until every run given has succeeded. */
async function timeRuns(context, agentId, bodies) {
  const started = performance.now();
  const runs = [];
  for (const body of bodies) runs.push(await context.services.runs.create(agentId, body));
  for (;;) {
    const states = await Promise.all(runs.map((run) => context.services.runs.get(run.id)));
    const failed = states.find((run) => run.status === 'failed' || run.status === 'cancelled');
    if (failed) throw new Error(`run ${failed.id} ended ${failed.status}: ${failed.error}`);
    if (states.every((run) => run.status === 'succeeded')) break;
    await sleep(50);
  }
  return (performance.now() - started) / 1000;
}

export async function run({ quick = false } = {}) {
  const documents = quick ? 200 : 1000;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  const schema = `dana_bench_runs_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dana-bench-runs-'));
  const env = { DANA_HOME: home, DANA_DATABASE_URL: url.toString(), DANA_UPLOAD_DIR: path.join(home, 'uploads') };
  const { resolveConfig } = await load('core/config.js');
  const { createContext } = await load('core/context.js');
  const context = await createContext(resolveConfig({}, env));
  const processes = [];
  const rows = [];
  try {
    const agent = await context.services.agents.create({ name: 'Bench', description: '', config: { provider: 'local' } });
    const ids = [];
    for (let i = 0; i < documents; i++) {
      const text = `Report ${i}. The station measured ${i % 97} millimetres of rain and ${i % 13} storms in week ${i % 52}.\n`;
      ids.push((await context.services.documents.receive(Readable.from([Buffer.from(text)]), { clientName: `report-${i}.txt`, fields: { agent_id: agent.id } })).id);
    }
    // Statistics for the planner, as autovacuum would gather them some time after the load.
    for (const table of ['documents', 'passages', 'document_terms', 'document_words', 'runs', 'run_results', 'run_items', 'run_events']) await admin.query(`ANALYZE "${schema}"."${table}"`);
    const one = [{ input: 'How much rain?', each_document: true }];
    const tenth = documents / 10;
    const ten = Array.from({ length: 10 }, (_, i) => ({ input: 'How much rain?', each_document: true, document_ids: ids.slice(i * tenth, (i + 1) * tenth) }));

    // Each figure is the best of `rounds`, the two set-ups taking turns: the machine is shared and noisy.
    const rounds = quick ? 1 : 2;
    const best = new Map();
    const measure = async (label, bodies) => {
      const seconds = await timeRuns(context, agent.id, bodies);
      best.set(label, Math.max(best.get(label) ?? 0, documents / seconds));
      process.stderr.write(`runs: ${label}: ${documents} answers in ${seconds.toFixed(2)} s\n`);
    };
    processes.push(await startDana(['serve', '--port', '0'], env));
    // A first run warms the server up (JIT, statement caches); it is not counted.
    await timeRuns(context, agent.id, [{ input: 'How much rain?', each_document: true, document_ids: ids.slice(0, 50) }]);
    for (let round = 0; round < rounds; round++) {
      await measure(`1 run of ${documents} documents, 1 server`, one);
      await measure(`10 runs of ${tenth} documents, 1 server`, ten);
      const workers = [await startDana(['worker'], env), await startDana(['worker'], env)];
      processes.push(...workers);
      await measure(`1 run of ${documents} documents, 1 server + 2 workers`, one);
      await measure(`10 runs of ${tenth} documents, 1 server + 2 workers`, ten);
      await Promise.all(workers.map((worker) => worker.stop()));
      processes.splice(processes.length - 2, 2);
    }
    for (const [label, value] of best) rows.push({ figure: `Run answers/s, ${label}`, value, unit: 'answers/s' });
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    await context.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
    fs.rmSync(home, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await run({ quick: process.argv.includes('--quick') });
  for (const row of rows) process.stdout.write(`${row.figure.padEnd(60)} ${row.value.toFixed(1)} ${row.unit}\n`);
}
