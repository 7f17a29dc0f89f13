// `npm start`: builds Dana when the build is missing or older than its sources, then runs
// `dana serve` (extra arguments pass through: `npm start -- --port 9000`).
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

const manifest = path.join(root, 'oclif.manifest.json');
const isBuilt = fs.existsSync(manifest) && fs.existsSync(path.join(root, 'dist', 'commands', 'serve.js'));
const isStale = isBuilt && fs.existsSync(path.join(root, 'src')) && newestMtime(path.join(root, 'src')) > fs.statSync(manifest).mtimeMs;
if (!isBuilt || isStale) {
  console.error(isBuilt ? 'Sources changed: rebuilding…' : 'Building Dana…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const server = spawn(process.execPath, [path.join(root, 'bin', 'run.js'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
