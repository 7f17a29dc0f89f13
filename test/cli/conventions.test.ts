// The habits a command line is expected to have: did-you-mean on a typo, `help`, `-h`,
// `version`, shell completion, confirmation before deleting on a terminal, tables that fit
// the terminal, readable timestamps and colour only where it belongs.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { DANA_BIN, PROJECT_ROOT, cleanEnv, runDana } from '../helpers/cli.js';
import { danaIn } from '../helpers/cli-in-process.js';
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

  describe('help examples', () => {
    // The commands of an EXAMPLES section as a shell reads them: `\` continuations joined.
    function exampleCommands(help: string): string[] {
      const section = help.slice(help.indexOf('EXAMPLES'));
      return section.replace(/ \\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line.startsWith('$ ')).map((line) => line.slice(2));
    }

    for (const columns of [40, 60, 80]) {
      it(`break only between shell words at ${columns} columns`, async () => {
        const help = await runDana(['agents', 'create', '--help'], { env: { OCLIF_COLUMNS: String(columns) } });
        expect(exampleCommands(help.stdout)).to.include.members([
          'dana providers add ollama --base-url http://127.0.0.1:11434/v1 --model llama3.2',
          `dana agents create --name Writer --config '{"provider":"openai","model":"gpt-4o-mini","temperature":0.3}'`,
        ]);
      });
    }

    it('the Ollama example pasted into a shell adds the provider', async () => {
      const home = tempDir();
      const help = await runDana(['agents', 'create', '--help'], { env: { OCLIF_COLUMNS: '40' } });
      const lines = help.stdout.split('\n');
      const start = lines.findIndex((line) => line.includes('$ dana providers add'));
      let pasted = '';
      for (let i = start; i < lines.length; i++) {
        pasted += `${lines[i].trim().replace(/^\$ /, '')}\n`;
        if (!lines[i].endsWith('\\')) break;
      }
      const script = `dana() { "${process.execPath}" "${DANA_BIN}" "$@"; }\n${pasted}`;
      const shell = spawn('bash', ['-c', script], { env: cleanEnv({ DANA_HOME: home }) });
      const code = await new Promise((resolve) => shell.on('close', resolve));
      expect(code).to.equal(0);
      const provider = await runDana(['providers', 'get', 'ollama', '--json'], { env: { DANA_HOME: home } });
      expect(provider.json).to.include({ base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2' });
    });
  });

  describe('shell completion', () => {
    it('`dana autocomplete fish` prints fish completions for commands and their flags', async () => {
      const result = await runDana(['autocomplete', 'fish']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain("complete -c dana -n __fish_use_subcommand -a agents -d 'Manage agents");
      expect(result.stdout).to.contain("complete -c dana -n '__fish_seen_subcommand_from agents; and not __fish_seen_subcommand_from");
      expect(result.stdout).to.contain("complete -c dana -n '__fish_seen_subcommand_from agents; and __fish_seen_subcommand_from delete' -l yes -s y");
    });

    it('`dana autocomplete bash` builds a completion that knows the commands', async () => {
      const home = tempDir();
      const result = await runDana(['autocomplete', 'bash'], { env: { HOME: home, XDG_CACHE_HOME: undefined } });
      expect(result.code, result.stderr).to.equal(0);
      const script = fs.readFileSync(path.join(home, '.cache', 'dana', 'autocomplete', 'functions', 'bash', 'dana.bash'), 'utf8');
      expect(script).to.match(/agents[: ]list/);
    });

    for (const shell of ['bash', 'zsh']) {
      it(`\`dana autocomplete script ${shell}\` prints the line to add to the shell's start-up file`, async () => {
        const home = tempDir();
        const result = await runDana(['autocomplete', 'script', shell], { env: { HOME: home, XDG_CACHE_HOME: undefined } });
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.contain(`DANA_AC_${shell.toUpperCase()}_SETUP_PATH=`);
      });
    }
  });

  describe('deleting on a terminal', () => {
    const TERMINAL = { tty: { stdin: true, stdout: true, stderr: true }, columns: 80 };

    async function withAgent() {
      const dana = danaIn(tempDir());
      const created = await dana(['agents', 'create', '--name', 'Researcher', '--json']);
      return { dana, id: String(created.json.id) };
    }

    it('asks first, and a "no" deletes nothing (exit 1)', async () => {
      const { dana, id } = await withAgent();
      const result = await dana(['agents', 'delete', id], { ...TERMINAL, input: 'n\n' });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`Delete agent ${id} "Researcher"?`).and.contain('[y/N]').and.contain('Nothing deleted.');
      expect((await dana(['agents', 'get', id])).code).to.equal(0);
    });

    it('deletes on "y"', async () => {
      const { dana, id } = await withAgent();
      const result = await dana(['agents', 'delete', id], { ...TERMINAL, input: 'y\n' });
      expect(result.code, result.stderr).to.equal(0);
      expect((await dana(['agents', 'get', id])).code).to.equal(3);
    });

    it('does not ask with --yes or -y', async () => {
      const { dana, id } = await withAgent();
      const second = (await dana(['agents', 'create', '--name', 'Other', '--json'])).json.id;
      for (const [flag, target] of [['--yes', id], ['-y', String(second)]]) {
        const result = await dana(['agents', 'delete', target, flag], TERMINAL);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.not.contain('[y/N]');
      }
    });

    it('never asks when stdin or stdout is not a terminal, so scripts keep working', async () => {
      const { dana, id } = await withAgent();
      const piped = await dana(['agents', 'delete', id], { tty: { stdin: false, stdout: true } });
      expect(piped.code, piped.stderr).to.equal(0);
      expect(piped.stderr).to.not.contain('[y/N]');
    });

    it('every delete command takes --yes', async () => {
      for (const topic of ['agents', 'topics', 'docs', 'conversations', 'messages']) {
        const help = await runDana([topic, 'delete', '--help']);
        expect(help.stdout, topic).to.match(/-y, --yes/);
      }
    });

    // A real terminal: the prompt is written to it and the answer typed into it.
    it('asks in a real terminal and waits for the answer', async function () {
      this.timeout(30_000);
      const home = tempDir();
      const created = await runDana(['agents', 'create', '--name', 'Researcher', '--json'], { env: { DANA_HOME: home } });
      const command = `${process.execPath} ${DANA_BIN} agents delete ${created.json.id}`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env: cleanEnv({ DANA_HOME: home, TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
      let screen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString('utf8');
        if (screen.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end('y\r');
      });
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(screen).to.contain(`Delete agent ${created.json.id} "Researcher"?`);
      expect(code, screen).to.equal(0);
      expect((await runDana(['agents', 'get', String(created.json.id)], { env: { DANA_HOME: home } })).code).to.equal(3);
    });
  });

  describe('tables on a terminal', () => {
    const LONG = 'An agent that reads every paper on photosynthesis and answers questions about chlorophyll';

    it('fit 80 columns, cutting long text with …, while --json keeps it whole', async () => {
      const dana = danaIn(tempDir());
      await dana(['agents', 'create', '--name', 'A researcher with a rather long name indeed', '--description', LONG]);
      const table = await dana(['agents', 'list'], { tty: { stdout: true }, columns: 80 });
      const rows = table.stdout.trimEnd().split('\n');
      for (const row of rows) expect(row.length, row).to.be.at.most(80);
      expect(rows[1]).to.contain('…');
      const json = await dana(['agents', 'list', '--json'], { tty: { stdout: true }, columns: 80 });
      expect(json.json[0].description).to.equal(LONG);
    });

    it('show timestamps to the minute, without milliseconds', async () => {
      const dana = danaIn(tempDir());
      const agent = (await dana(['agents', 'create', '--name', 'Ada', '--json'])).json;
      const table = await dana(['agents', 'list'], { tty: { stdout: true }, columns: 120 });
      const updated = new Date(agent.updated_at);
      const two = (n: number) => String(n).padStart(2, '0');
      const shown = `${updated.getFullYear()}-${two(updated.getMonth() + 1)}-${two(updated.getDate())} ${two(updated.getHours())}:${two(updated.getMinutes())}`;
      expect(table.stdout).to.contain(shown).and.not.contain(agent.updated_at);
    });
  });

  describe('colour', () => {
    const ESC = '\x1b[';
    const colourTerminal = { tty: { stdout: true, stderr: true }, columns: 100, env: { NO_COLOR: undefined, TERM: 'xterm-256color' } };

    it('a terminal gets a bold table header and a red "Error:"', async () => {
      const dana = danaIn(tempDir());
      await dana(['agents', 'create', '--name', 'Ada']);
      const [table, missing] = await Promise.all([dana(['agents', 'list'], colourTerminal), dana(['agents', 'get', '99'], colourTerminal)]);
      expect(table.stdout.split('\n')[0]).to.match(/^\x1b\[1mID/);
      expect(missing.stderr).to.contain(`${ESC}31mError:`);
    });

    it('none with NO_COLOR, --no-color, --json or off a terminal', async () => {
      const dana = danaIn(tempDir());
      await dana(['agents', 'create', '--name', 'Ada']);
      const runs = await Promise.all([
        dana(['agents', 'list'], { ...colourTerminal, env: { ...colourTerminal.env, NO_COLOR: '1' } }),
        dana(['agents', 'list', '--no-color'], colourTerminal),
        dana(['agents', 'list', '--json'], colourTerminal),
        dana(['agents', 'list'], { env: { NO_COLOR: undefined, TERM: 'xterm-256color' } }),
        dana(['agents', 'get', '99', '--no-color'], colourTerminal),
      ]);
      for (const result of runs) expect(result.stdout + result.stderr).to.not.contain(ESC);
    });
  });

  describe('conversations get', () => {
    it('shows every message whole, wrapped to the terminal, with each reply\'s sources', async function () {
      this.timeout(30_000);
      const dana = danaIn(tempDir());
      const question = `What does chlorophyll absorb? ${Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ')}`;
      await dana(['agents', 'create', '--name', 'Ada']);
      await dana(['docs', 'upload', path.join(PROJECT_ROOT, 'test', 'fixtures', 'photosynthesis.pdf'), '--agent', '1']);
      const chat = await dana(['chat', '--agent', '1', '-m', question, '--json']);
      expect(chat.code, chat.stderr).to.equal(0);
      const shown = await dana(['conversations', 'get', String(chat.json.conversation_id)], { tty: { stdout: true }, columns: 60 });
      expect(shown.code, shown.stderr).to.equal(0);
      const lines = shown.stdout.split('\n');
      for (const line of lines) expect(line.length, line).to.be.at.most(60);
      const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
      expect(flat(shown.stdout)).to.contain(flat(question)).and.contain(flat(chat.json.agent_response));
      expect(flat(shown.stdout)).to.contain('Sources: photosynthesis.pdf (document 1)');
    });
  });

  describe('chat -m', () => {
    it('shows a spinner on a terminal\'s stderr until the first words, then erases it', async () => {
      const dana = danaIn(tempDir());
      await dana(['agents', 'create', '--name', 'Ada']);
      const result = await dana(['chat', '--agent', '1', '-m', 'hello'], { tty: { stdout: true, stderr: true } });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.contain('Thinking…').and.contain('\r\x1b[K');
      expect(result.stdout).to.not.contain('Thinking');
    });

    it('shows none when stderr is not a terminal', async () => {
      const dana = danaIn(tempDir());
      await dana(['agents', 'create', '--name', 'Ada']);
      const result = await dana(['chat', '--agent', '1', '-m', 'hello']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.not.contain('Thinking');
    });
  });
});
