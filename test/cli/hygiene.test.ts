// What the built `dana` shows on a terminal: stored text never sends control characters
// (a name holding an OSC title or a clear-screen sequence is shown escaped), --json stays
// exact, database passwords are masked, and `dana db check` reports what it finds.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import knexFactory from 'knex';
import { danaIn } from '../helpers/cli-in-process.js';
import { expectCliError, parseRecord, parseTable } from '../helpers/cli-output.js';
import { dropSchema, freshPostgresUrl, TEST_DATABASE_URL } from '../helpers/backend.js';
import { startServe } from '../helpers/serve.js';
import { storedFiles, tempDir } from '../helpers/temp.js';

const TITLE = '\u001b]0;pwned\u0007';
const CLEAR = '\u001b[2J';
const HOSTILE = `Evil${TITLE}${CLEAR}\u009b31m`;
const SHOWN = 'Evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m';
// Any C0 control but newline and tab, DEL, or C1.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function expectNoControls(text: string, what: string): void {
  expect(RAW_CONTROL.test(text), `${what}: ${JSON.stringify(text)}`).to.equal(false);
}

describe('dana on a terminal', () => {
  let home: string;
  let dana: ReturnType<typeof danaIn>;
  beforeEach(() => {
    home = tempDir();
    dana = danaIn(home);
  });

  describe('shows control characters from stored data escaped', () => {
    it('in tables and key: value records, while --json keeps them exact', async () => {
      const created = await dana(['agents', 'create', '--name', HOSTILE, '--description', `about ${CLEAR}`, '--json']);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.json.name).to.equal(HOSTILE);

      const list = await dana(['agents', 'list']);
      expectNoControls(list.stdout, 'agents list');
      expect(parseTable(list.stdout)[0].NAME).to.equal(SHOWN);
      const record = await dana(['agents', 'get', String(created.json.id)]);
      expectNoControls(record.stdout, 'agents get');
      expect(parseRecord(record.stdout)).to.include({ name: SHOWN, description: 'about \\x1b[2J' });
      expect((await dana(['agents', 'get', String(created.json.id), '--json'])).json.name).to.equal(HOSTILE);
    });

    it('in error messages on stderr that quote a stored name', async () => {
      await dana(['topics', 'create', '--name', HOSTILE]);
      const duplicate = await dana(['topics', 'create', '--name', HOSTILE]);
      expectCliError(duplicate, 4);
      expectNoControls(duplicate.stderr.replace(/\n$/, ''), 'stderr');
      expect(duplicate.stderr).to.contain('\\x1b]0;pwned\\x07');
      const json = await dana(['topics', 'create', '--name', HOSTILE, '--json']);
      expect(json.json.detail).to.equal(`Topic '${HOSTILE}' already exists`);
    });

    it('in a conversation and its messages', async () => {
      const conversation = (await dana(['conversations', 'create', '--title', `Talk ${TITLE}`, '--json'])).json;
      const id = String(conversation.id);
      await dana(['messages', 'create', '--conversation', id, '--sender', `user${CLEAR}`, '--content', `hello ${TITLE} ${CLEAR}\u0085`]);
      const shown = await dana(['conversations', 'get', id]);
      expect(shown.code, shown.stderr).to.equal(0);
      expectNoControls(shown.stdout, 'conversations get');
      expect(shown.stdout).to.contain('Talk \\x1b]0;pwned\\x07').and.contain('user\\x1b[2J').and.contain('hello \\x1b]0;pwned\\x07 \\x1b[2J\\x85');
      const listed = await dana(['messages', 'list', '--conversation', id]);
      expectNoControls(listed.stdout, 'messages list');
      expect(listed.stdout).to.contain('user\\x1b[2J');
      const conversations = await dana(['conversations', 'list']);
      expectNoControls(conversations.stdout, 'conversations list');
    });

    it('in a one-shot chat reply quoting a stored document', async () => {
      const source = path.join(tempDir(), 'notes.txt');
      fs.writeFileSync(source, `Chlorophyll absorbs sunlight ${TITLE} and ${CLEAR} then rests.\n`);
      const agent = (await dana(['agents', 'create', '--name', `Ada${TITLE}`, '--json'])).json;
      await dana(['docs', 'upload', source, '--agent', String(agent.id)]);
      const plain = await dana(['chat', '--agent', String(agent.id), '-m', 'What does chlorophyll absorb?']);
      expect(plain.code, plain.stderr).to.equal(0);
      expectNoControls(plain.stdout, 'chat stdout');
      expectNoControls(plain.stderr, 'chat stderr');
      expect(plain.stdout).to.contain('\\x1b]0;pwned\\x07');
      const json = await dana(['chat', '--agent', String(agent.id), '-m', 'What does chlorophyll absorb?', '--json']);
      expect(json.json.agent_response).to.contain(TITLE);
    });
  });

  describe('masks database passwords', () => {
    let schema: string | undefined;
    let reachable = true;
    before(async () => {
      const probe = knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000 });
      reachable = await probe.raw('SELECT 1').then(() => true, () => false);
      await probe.destroy();
    });
    afterEach(async () => {
      if (schema) await dropSchema(schema);
      schema = undefined;
    });

    /** A URL of a fresh schema carrying a password both ways (the test server trusts any). */
    async function urlWithPasswords(): Promise<string> {
      const fresh = await freshPostgresUrl();
      schema = fresh.schema;
      const url = new URL(fresh.url);
      url.password = 'userpart-secret';
      url.searchParams.set('password', 'query-secret');
      url.searchParams.set('sslpassword', 'ssl-secret');
      return url.toString();
    }

    const expectMasked = (text: string) => {
      for (const secret of ['userpart-secret', 'query-secret', 'ssl-secret']) expect(text, text).not.to.contain(secret);
      expect(text).to.contain(':***@').and.contain('password=***').and.contain('sslpassword=***');
    };

    it('in dana db status and dana db check, human and --json', async function () {
      // PostgreSQL is the only backend whose location has a password.
      if (!reachable) this.skip();
      const env = { DANA_DATABASE_URL: await urlWithPasswords() };
      for (const args of [['db', 'status'], ['db', 'status', '--json'], ['db', 'migrate'], ['db', 'check'], ['db', 'check', '--json']]) {
        const result = await dana(args, { env });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
        if (args[1] !== 'migrate') expectMasked(result.stdout);
      }
    });

    it('in the serve banner', async function () {
      if (!reachable) this.skip();
      const server = await startServe(home, { env: { DANA_DATABASE_URL: await urlWithPasswords() } });
      try {
        expectMasked(server.stdout());
      } finally {
        await server.stop();
      }
    });

    it('in the error when the database cannot be reached', async () => {
      const result = await dana(['agents', 'list'], { env: { DANA_DATABASE_URL: 'postgres://u:userpart-secret@127.0.0.1:1/db?password=query-secret' } });
      expect(result.code).to.not.equal(0);
      expect(result.stderr + result.stdout).not.to.contain('secret');
    });
  });

  describe('dana db check', () => {
    const upload = async (name: string, bytes: string | Buffer) => {
      const file = path.join(tempDir(), name);
      fs.writeFileSync(file, bytes);
      const result = await dana(['docs', 'upload', file, '--json']);
      expect(result.code, result.stderr).to.equal(0);
      return result.json;
    };

    it('reports a stored file replaced by a symlink (exit 1), which is not served', async () => {
      const document = await upload('notes.txt', 'notes');
      const uploads = path.join(home, 'uploads');
      const [stored] = storedFiles(uploads);
      fs.rmSync(path.join(uploads, stored));
      fs.symlinkSync('/etc/passwd', path.join(uploads, stored));
      const check = await dana(['db', 'check']);
      expect(check.code, check.stderr).to.equal(1);
      expect(check.stdout).to.match(new RegExp(`not_regular_file: document ${document.id} \\(notes\\.txt\\)`));
      expect((await dana(['db', 'check', '--json'])).json.problems.map((p: { kind: string }) => p.kind)).to.deep.equal(['not_regular_file']);
      const target = path.join(tempDir(), 'out.txt');
      expectCliError(await dana(['docs', 'download', String(document.id), '-o', target]), 3, 'Document file not found');
      expect(fs.existsSync(target)).to.equal(false);
    });

    it('lists documents whose text failed apart, without failing the check', async () => {
      await upload('fine.txt', 'fine words');
      const broken = await upload('broken.pdf', 'not a pdf at all');
      expect(broken.text_status).to.equal('failed');
      const check = await dana(['db', 'check', '--json']);
      expect(check.code, check.stderr).to.equal(0);
      expect(check.json).to.include({ ok: true, documents_checked: 2 });
      expect(check.json.problems).to.deep.equal([]);
      expect(check.json.documents_without_text).to.deep.equal([
        { document_id: broken.id, original_filename: 'broken.pdf', text_status: 'failed', text_error: broken.text_error },
      ]);
      const human = await dana(['db', 'check']);
      expect(human.code).to.equal(0);
      expect(human.stdout).to.contain(`text failed: document ${broken.id} (broken.pdf): ${broken.text_error}`);
    });

    it('reports a SQLite file with a damaged page as an integrity problem (exit 1), without a stack trace', async () => {
      await dana(['agents', 'create', '--name', 'kept']);
      const db = path.join(home, 'local.db');
      const fd = fs.openSync(db, 'r+');
      // Page 2 is a table's b-tree page: a bad header and garbage make integrity_check complain.
      fs.writeSync(fd, Buffer.concat([Buffer.from([0x0d, 0xff, 0xff, 0x00, 0x05]), Buffer.alloc(200, 0xee)]), 0, 205, 4096);
      fs.closeSync(fd);
      const check = await dana(['db', 'check']);
      expect(check.code).to.equal(1);
      expect(check.stdout).to.match(/^ {2}integrity: /m);
      expect(check.stderr).to.equal('');
      const json = await dana(['db', 'check', '--json']);
      expect(json.json.ok).to.equal(false);
      expect(json.json.problems[0].kind).to.equal('integrity');
    });

    it('reports a file that is not a database at all the same way', async () => {
      fs.writeFileSync(path.join(home, 'local.db'), 'this is not a database, but it is long enough to have a header '.repeat(100));
      const check = await dana(['db', 'check']);
      expect(check.code).to.equal(1);
      expect(check.stdout).to.contain('1 problem').and.contain('integrity: the database file is damaged: file is not a database');
      expect(check.stderr).to.equal('');
    });
  });
});
