// Committed snapshots of the public surface: a change to it shows up in review as a change
// to a file under test/snapshots. UPDATE_SNAPSHOTS=1 rewrites them from the code.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from './cli.js';

export const SNAPSHOT_DIR = path.join(PROJECT_ROOT, 'test', 'snapshots');

/** Compares `value` with test/snapshots/`name`, or rewrites the file under UPDATE_SNAPSHOTS=1. */
export function expectSnapshot(name: string, value: unknown): void {
  const file = path.join(SNAPSHOT_DIR, name);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
    fs.writeFileSync(file, text);
    return;
  }
  const how = `If the change is intended, rewrite the snapshot with: npm run build && UPDATE_SNAPSHOTS=1 npx mocha, and commit test/snapshots/${name}`;
  expect(fs.existsSync(file), `test/snapshots/${name} is missing. ${how}`).to.equal(true);
  expect(JSON.parse(text), `The public surface differs from test/snapshots/${name}. ${how}`).to.deep.equal(JSON.parse(fs.readFileSync(file, 'utf8')));
}
