// The habits a command line is expected to have: did-you-mean on a typo, `help`, `-h`,
// `version`, shell completion, confirmation before deleting on a terminal, tables that fit
// the terminal, readable timestamps and colour only where it belongs.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT, runDana } from '../helpers/cli.js';
import { expectCliError } from '../helpers/cli-output.js';
import { tempDir } from '../helpers/temp.js';

describe('CLI conventions', () => {
  describe('a mistyped command', () => {
    it('suggests the nearest command and exits 2', async () => {
      const result = await runDana(['agnts', 'list'], { env: { DANA_HOME: tempDir() } });
      expectCliError(result, 2, /Did you mean "dana agents list"\?/);
    });

    it('names an unexpected argument instead of calling it an unknown command', async () => {
      const result = await runDana(['agents', 'list', 'extra'], { env: { DANA_HOME: tempDir() } });
      expectCliError(result, 2, /Unexpected argument "extra": "dana agents list" takes no arguments/);
      expect(result.stderr).to.not.contain('is not a dana command');
    });

    it('suggests nothing for a word that is no typo of any command', async () => {
      const result = await runDana(['frobnicate'], { env: { DANA_HOME: tempDir() } });
      expectCliError(result, 2, /"dana frobnicate" is not a dana command\. See "dana --help"/);
    });
  });

  describe('help and version', () => {
    it('`dana help TOPIC COMMAND` and `-h` print the command help', async () => {
      const [help, short] = await Promise.all([runDana(['help', 'agents', 'list']), runDana(['agents', 'list', '-h'])]);
      for (const result of [help, short]) {
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.contain('List agents.').and.contain('$ dana agents list');
      }
    });

    it('`dana version` and `--version` print the package version', async () => {
      const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
      const [command, flag] = await Promise.all([runDana(['version']), runDana(['--version'])]);
      for (const result of [command, flag]) {
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.match(new RegExp(`^dana/${version.replaceAll('.', '\\.')} `));
      }
    });
  });

  describe('shell completion', () => {
    for (const shell of ['bash', 'zsh']) {
      it(`\`dana autocomplete script ${shell}\` prints the line to add to the shell's start-up file`, async () => {
        const home = tempDir();
        const result = await runDana(['autocomplete', 'script', shell], { env: { HOME: home, XDG_CACHE_HOME: undefined } });
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.contain(`DANA_AC_${shell.toUpperCase()}_SETUP_PATH=`);
      });
    }
  });
});
