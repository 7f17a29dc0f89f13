// `npm pack` makes a package that installs and runs: the tarball holds the entry point, the
// compiled code and the oclif manifest, and the extracted copy answers as `dana` does. Its
// dependencies come from the project's node_modules (linked in), so the check is offline.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as tar from 'tar';
import { PROJECT_ROOT, cleanEnv } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);

describe('the npm package', function () {
  this.timeout(120_000);
  let files: string[];
  let unpacked: string;
  const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };

  before(async () => {
    const destination = tempDir();
    // --ignore-scripts: the build is the test run's own (dist/ is built before the suite).
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], { cwd: PROJECT_ROOT, env: cleanEnv() });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed.files.map((file) => file.path);
    unpacked = tempDir();
    await tar.x({ file: path.join(destination, packed.filename), cwd: unpacked });
    fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(unpacked, 'package', 'node_modules'), 'dir');
  });

  it('holds the entry point, the compiled commands and the oclif manifest, and no sources or tests', () => {
    expect(files).to.include.members(['package.json', 'bin/run.js', 'oclif.manifest.json', 'dist/commands/agents/list.js', 'dist/cli/hooks/command-not-found.js']);
    expect(files.filter((file) => file.startsWith('src/') || file.startsWith('test/'))).to.deep.equal([]);
  });

  it('has a file for every command its manifest lists', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'package', 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { relativePath?: string[] }> };
    const ids = Object.keys(manifest.commands);
    expect(ids).to.include('agents:list');
    for (const id of ids) expect(files, id).to.include(`dist/commands/${id.replaceAll(':', '/')}.js`);
  });

  it('runs from the extracted copy: --version and a command on a fresh data folder', async () => {
    const bin = path.join(unpacked, 'package', 'bin', 'run.js');
    const env = cleanEnv({ DANA_HOME: tempDir() });
    const versionOut = await run(process.execPath, [bin, '--version'], { cwd: tempDir(), env });
    expect(versionOut.stdout).to.match(new RegExp(`^dana/${version.replaceAll('.', '\\.')} `));
    const listed = await run(process.execPath, [bin, 'agents', 'list', '--json'], { cwd: tempDir(), env });
    expect(JSON.parse(listed.stdout)).to.deep.equal([]);
  });
});
