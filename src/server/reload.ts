// `dana serve --reload`, for development: the server runs in a child process that Node
// restarts whenever the built code changes (node --watch-path), while `tsc --watch`
// rebuilds it from src/ when the TypeScript sources are present.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function serveWithReload(serveArgs: string[]): Promise<void> {
  const children: ChildProcess[] = [];
  const tsconfig = path.join(projectRoot, 'tsconfig.json');
  if (fs.existsSync(path.join(projectRoot, 'src')) && fs.existsSync(tsconfig)) {
    try {
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      children.push(spawn(process.execPath, [tsc, '-p', tsconfig, '--watch', '--preserveWatchOutput'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    } catch {
      process.stderr.write('TypeScript is not installed: reloading on changes to dist/ only.\n');
    }
  }
  const bin = path.join(projectRoot, 'bin', 'run.js');
  const server = spawn(
    process.execPath,
    ['--watch-path', path.join(projectRoot, 'dist'), '--watch-preserve-output', bin, 'serve', ...serveArgs],
    { stdio: 'inherit' },
  );
  children.push(server);

  await new Promise<void>((resolve) => {
    const stop = () => {
      for (const child of children) child.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    server.once('exit', () => {
      stop();
      resolve();
    });
  });
}
