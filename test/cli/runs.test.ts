// `dana runs …` through the built CLI as a child process: starting runs, following them to
// their end (working on them in the process when no worker takes them), the exit codes of
// each final status, JSON lines, lists, results, logs, cancel and delete.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { DANA_BIN, cleanEnv, danaIn, type CliResult } from '../helpers/cli.js';
import { expectCliError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { waitFor } from '../helpers/chat.js';
import { tempDir } from '../helpers/temp.js';
import { startFakeOpenAi } from '../helpers/fake-openai.js';
import { startWorker } from '../helpers/serve.js';

describe('dana runs', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  let agentId: number;

  async function ok(args: string[]): Promise<CliResult> {
    const result = await dana(args);
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).to.equal(0);
    return result;
  }

  async function upload(name: string, text: string): Promise<number> {
    const file = path.join(tempDir(), name);
    fs.writeFileSync(file, text);
    return (await ok(['docs', 'upload', file, '--agent', String(agentId), '--json'])).json.id;
  }

  beforeEach(async () => {
    home = tempDir();
    dana = danaIn(home);
    agentId = (await ok(['agents', 'create', '--name', 'Reader', '--json'])).json.id;
  });

  it('start queues a run and prints it (the API shape with --json); get, list and cancel show it', async () => {
    const started = await ok(['runs', 'start', '--agent', String(agentId), '--input', 'What is in my notes?', '--json']);
    const run = started.json;
    expect(run).to.include({ agent_id: agentId, status: 'queued', input: 'What is in my notes?', each_document: false });
    expect((await ok(['runs', 'get', String(run.id), '--json'])).json).to.deep.equal(run);
    expect(parseRecord((await ok(['runs', 'get', String(run.id)])).stdout)).to.include({ id: String(run.id), status: 'queued' });

    const table = parseTable((await ok(['runs', 'list', '--agent', String(agentId)])).stdout);
    expect(table).to.have.length(1);
    expect(table[0]).to.include({ ID: String(run.id), AGENT: String(agentId), STATUS: 'queued', DONE: '0/0', INPUT: 'What is in my notes?' });
    expect((await ok(['runs', 'list', '--status', 'succeeded', '--json'])).json).to.deep.equal([]);

    const cancelled = await ok(['runs', 'cancel', String(run.id), '--json']);
    expect(cancelled.json).to.include({ id: run.id, status: 'cancelled' });
    expectCliError(await dana(['runs', 'cancel', String(run.id)]), 4, /has already finished/);
  });

  it('delete refuses a run that has not finished (exit 4), deletes a finished one, then says it is not found (exit 3)', async () => {
    const run = (await ok(['runs', 'start', '--agent', String(agentId), '--input', 'x', '--json'])).json;
    expectCliError(await dana(['runs', 'delete', String(run.id), '--yes']), 4, /cancel it before deleting it/);
    await ok(['runs', 'cancel', String(run.id)]);
    expect((await ok(['runs', 'delete', String(run.id), '--json'])).json).to.deep.equal({ message: 'Run deleted successfully' });
    expectCliError(await dana(['runs', 'get', String(run.id)]), 3, 'Run not found');
    const json = await dana(['runs', 'results', String(run.id), '--json']);
    expect(json.code).to.equal(3);
    expect(json.json).to.deep.equal({ detail: 'Run not found' });
  });

  it('refuses an unknown agent (exit 3) and a document that names nothing (exit 2, naming the flag)', async () => {
    expectCliError(await dana(['runs', 'start', '--agent', '999', '--input', 'x']), 3, 'Agent not found');
    expectCliError(await dana(['runs', 'start', '--agent', String(agentId), '--input', 'x', '--document', '999']), 2, /^Error: --document: Document 999 does not exist/);
  });

  it('start --follow with no worker running works on the run itself, prints the answer and exits 0', async () => {
    await upload('photosynthesis.txt', 'Photosynthesis turns light into chemical energy in the chloroplasts.');
    const result = await ok(['runs', 'start', '--agent', String(agentId), '--input', 'What does photosynthesis turn light into?', '--follow']);
    expect(result.stdout).to.contain('chemical energy');
    expect(result.stderr).to.match(/No worker took run \d+ within 2 s: working on it here/);
    expect(result.stderr).to.match(/Run \d+ succeeded/);
    const [run] = (await ok(['runs', 'list', '--json'])).json;
    expect(run).to.include({ status: 'succeeded', done: 1, total: 1 });
  });

  it('start --each-document --follow --json prints one JSON event per line, ending with the final status', async () => {
    const ids = [await upload('a.txt', 'Alpha is the first letter.'), await upload('b.txt', 'Beta is the second letter.')];
    const result = await ok(['runs', 'start', '--agent', String(agentId), '--input', 'Summarise', '--each-document', '--follow', '--json']);
    const events = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    for (const event of events) expect(event).to.have.all.keys('id', 'type', 'data');
    expect(events.map((event) => event.id)).to.deep.equal([...events.map((event) => event.id)].sort((a, b) => a - b));
    expect(events[0]).to.deep.include({ type: 'status', data: { status: 'queued' } });
    expect(events.at(-1)).to.deep.include({ type: 'status', data: { status: 'succeeded' } });
    const results = events.filter((event) => event.type === 'result');
    expect(results.map((event) => event.data.document_id)).to.have.members(ids);
    expect(events.filter((event) => event.type === 'progress').at(-1).data).to.deep.equal({ done: 2, total: 2 });

    const runId = (await ok(['runs', 'list', '--json'])).json[0].id;
    const shown = (await ok(['runs', 'results', String(runId)])).stdout;
    expect(shown).to.contain(`== Document ${ids[0]} ==`).and.contain(`== Document ${ids[1]} ==`).and.contain('Alpha');
    const paged = (await ok(['runs', 'results', String(runId), '--limit', '1', '--skip', '1', '--json'])).json;
    expect(paged.map((row: { document_id: number }) => row.document_id)).to.deep.equal([ids[1]]);

    const logs = await ok(['runs', 'logs', String(runId)]);
    expect(logs.stdout).to.match(new RegExp(`^Run ${runId} queued$`, 'm'));
    expect(logs.stdout).to.match(/^2 of 2 answered$/m);
    expect(logs.stdout).to.match(new RegExp(`^Run ${runId} succeeded$`, 'm'));
    const logsJson = (await ok(['runs', 'logs', String(runId), '--json'])).json;
    expect(logsJson.map((event: { id: number }) => event.id)).to.deep.equal(events.map((event) => event.id));
    // A finished run's logs --follow replays and ends at once, with the run's exit code.
    const followed = await ok(['runs', 'logs', String(runId), '--follow', '--after', String(events.at(-2).id)]);
    expect(followed.stdout.trimEnd()).to.equal(`Run ${runId} succeeded`);
  });

  it('--follow exits 5 when the run fails (the agent runner failed)', async () => {
    await ok(['providers', 'add', 'nowhere', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm']);
    const failing = (await ok(['agents', 'create', '--name', 'Broken', '--config', '{"provider":"nowhere","timeout":5}', '--json'])).json.id;
    const result = await dana(['runs', 'start', '--agent', String(failing), '--input', 'Anything', '--follow']);
    expect(result.code, result.stderr).to.equal(5);
    expect(result.stderr).to.match(/Run \d+ failed: /);
  });

  it('--follow exits 1 when the run is cancelled while it runs', async () => {
    // A model that takes seconds to answer, so the cancel lands mid-run.
    const fake = await startFakeOpenAi('slowly '.repeat(200), 50);
    try {
      await ok(['providers', 'add', 'slow', '--base-url', fake.baseUrl, '--model', 'paced']);
      const slow = (await ok(['agents', 'create', '--name', 'Slow', '--config', '{"provider":"slow"}', '--json'])).json.id;
      const child = spawn(process.execPath, [DANA_BIN, 'runs', 'start', '--agent', String(slow), '--input', 'Take your time', '--follow'], {
        env: cleanEnv({ DANA_HOME: home }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const running = await waitFor(async () => (await dana(['runs', 'list', '--status', 'running', '--json'])).json?.[0], 20_000, 'the run to be running');
      await ok(['runs', 'cancel', String(running.id)]);
      expect(await exited, stderr).to.equal(1);
      expect(stderr).to.match(/Run \d+ cancelled/);
      expect((await ok(['runs', 'get', String(running.id), '--json'])).json.status).to.equal('cancelled');
    } finally {
      await fake.close();
    }
  });

  it('start --follow leaves the run to a `dana worker` that takes it, and says nothing about working on it', async () => {
    await upload('photosynthesis.txt', 'Photosynthesis turns light into chemical energy in the chloroplasts.');
    const worker = await startWorker(home);
    try {
      const result = await ok(['runs', 'start', '--agent', String(agentId), '--input', 'What does photosynthesis turn light into?', '--follow']);
      expect(result.stdout).to.contain('chemical energy');
      expect(result.stderr).to.not.contain('working on it here');
    } finally {
      await worker.stop('SIGTERM');
    }
  });

  it('Ctrl-C while following a run worked on here exits 130 and hands the run back to the queue', async () => {
    const fake = await startFakeOpenAi('slowly '.repeat(400), 50);
    try {
      await ok(['providers', 'add', 'slow', '--base-url', fake.baseUrl, '--model', 'paced']);
      const slow = (await ok(['agents', 'create', '--name', 'Slow', '--config', '{"provider":"slow"}', '--json'])).json.id;
      const child = spawn(process.execPath, [DANA_BIN, 'runs', 'start', '--agent', String(slow), '--input', 'Take your time', '--follow'], {
        env: cleanEnv({ DANA_HOME: home }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const running = await waitFor(async () => (await dana(['runs', 'list', '--status', 'running', '--json'])).json?.[0], 20_000, 'the run to be running');
      child.kill('SIGINT');
      expect(await exited, stderr).to.equal(130);
      expect(stderr).to.contain('working on it here').and.match(/Stopped following run \d+ \(\w+\); it goes on/);
      expect((await ok(['runs', 'get', String(running.id), '--json'])).json.status).to.equal('queued');
    } finally {
      await fake.close();
    }
  });

  it('has help with examples for every runs command', async () => {
    for (const command of ['start', 'list', 'get', 'results', 'cancel', 'delete', 'logs']) {
      const help = await ok(['runs', command, '--help']);
      expect(help.stdout, command).to.contain('EXAMPLES').and.contain(`$ dana runs ${command}`);
    }
  });
});
