// Reading what `dana` printed: aligned tables, `key: value` records, one-line errors.
import { expect } from 'chai';
import type { CliResult } from './cli.js';

/**
 * The rows of an aligned table, cut at the terminal columns where the header's words start
 * (CJK and emoji take two columns). A cell that is not aligned with its header ends up in
 * the wrong column, so comparing the rows checks the alignment too.
 */
export function parseTable(stdout: string): Array<Record<string, string>> {
  const [header, ...lines] = stdout.replace(/\n+$/, '').split('\n');
  const columns = [...header.matchAll(/\S+/g)].map((match) => ({ name: match[0], start: match.index ?? 0 }));
  expect(columns[0]?.start, `table header: ${header}`).to.equal(0);
  return lines.map((line) => {
    const cells = columns.map(() => '');
    let at = 0;
    for (const char of line) {
      const column = columns.findLastIndex((candidate) => candidate.start <= at);
      const next = columns[column + 1];
      if (next && at === next.start - 1) expect(char, `column ${next.name} of "${line}"`).to.equal(' ');
      cells[column] += char;
      at += displayWidth(char);
    }
    return Object.fromEntries(columns.map((column, i) => [column.name, cells[i].trim()]));
  });
}

/** Terminal columns a character takes: two for East Asian wide characters and emoji. */
function displayWidth(char: string): number {
  return /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u.test(char) ? 2 : 1;
}

/** The header words of a table. */
export function tableHeader(stdout: string): string[] {
  return stdout.split('\n')[0].split(/\s+/).filter(Boolean);
}

/** `key: value` lines as an object of strings. */
export function parseRecord(stdout: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const line of stdout.replace(/\n+$/, '').split('\n')) {
    const at = line.indexOf(': ');
    if (at > 0) record[line.slice(0, at)] = line.slice(at + 2);
    else if (line.endsWith(':')) record[line.slice(0, -1)] = '';
  }
  return record;
}

/** A failure as users should see it: the exit code, one line on stderr, no stack trace. */
export function expectCliError(result: CliResult, exitCode: number, message?: string | RegExp): void {
  const context = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.code, context).to.equal(exitCode);
  const lines = result.stderr.replace(/\n+$/, '').split('\n');
  expect(lines, context).to.have.length(1);
  expect(lines[0], context).to.match(/^Error: \S/);
  expect(result.stderr, context).to.not.match(/^\s+at /m);
  if (typeof message === 'string') expect(lines[0], context).to.equal(`Error: ${message}`);
  else if (message) expect(lines[0], context).to.match(message);
}

/** A failure under --json: as above, and stdout is exactly `{"detail": …}`. */
export function expectJsonError(result: CliResult, exitCode: number, detail?: unknown): void {
  expectCliError(result, exitCode);
  expect(result.json, `stdout: ${result.stdout}`).to.be.an('object').with.all.keys('detail');
  if (detail !== undefined) expect(result.json).to.deep.equal({ detail });
}
