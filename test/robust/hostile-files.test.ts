// Hostile file names and content-type lies, sent the way attackers and careless clients
// send them (raw bytes in the multipart headers), and decompression bombs. Whatever the name, the file lands inside
// the upload folder under a UUID name, `original_filename` is a clean base name, downloads
// carry safe headers, and the MIME type comes from the extension, never from the client.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { PROJECT_ROOT, runDana } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { filesUnder, tempDir } from '../helpers/temp.js';
import { HttpClient, type Reply } from './support/http-client.js';
import { auditUploads, selectAll, type UploadAudit } from './support/data-folder.js';
import { ms, report } from './support/report.js';
import { docxBomb, pdfBomb } from '../helpers/bombs.js';
import { childProcesses } from '../helpers/processes.js';

const ALLOWED_MIME: Record<string, string> = {
  '.csv': 'text/csv',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};

interface NameCase {
  /** The file name as sent: a string is sent as UTF-8, a Buffer byte for byte. */
  sent: string | Buffer;
  /**
   * The name Dana should keep; "clean" when any clean base name will do; "refused" for a
   * 4xx; "clean or refused" when a 4xx is as right as storing it under a clean name.
   */
  expected: string | 'clean' | 'refused' | 'clean or refused';
  /** Sent as RFC 5987 `filename*=UTF-8''…` instead of `filename="…"`. */
  extended?: boolean;
}

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));

const NAME_CASES: NameCase[] = [
  // Directories, relative and absolute, POSIX and Windows.
  { sent: '../../etc/passwd.txt', expected: 'passwd.txt' },
  { sent: '..\\..\\windows\\win.ini.txt', expected: 'win.ini.txt' },
  { sent: '/etc/passwd.txt', expected: 'passwd.txt' },
  { sent: 'C:\\Windows\\System32\\drivers\\etc\\hosts.txt', expected: 'hosts.txt' },
  { sent: '\\\\server\\share\\secret.md', expected: 'secret.md' },
  { sent: 'a/../../../b.csv', expected: 'b.csv' },
  { sent: '....//....//x.json', expected: 'x.json' },
  { sent: `${'../'.repeat(333)}deep.txt`, expected: 'deep.txt' },
  { sent: '..%2F..%2Fencoded.txt', expected: '..%2F..%2Fencoded.txt' },
  { sent: "..%2F..%2Fsecret.txt", expected: 'secret.txt', extended: true },
  // NUL and control characters, raw in the header.
  { sent: bytes('nul', [0], 'byte.txt'), expected: 'nulbyte.txt' },
  { sent: bytes('evil.exe', [0], '.txt'), expected: 'evil.exe.txt' },
  { sent: bytes('tab', [9], 'here.txt'), expected: 'tabhere.txt' },
  { sent: bytes('esc', [0x1b], '[31mred.txt'), expected: 'esc[31mred.txt' },
  { sent: bytes('del', [0x7f], '.txt'), expected: 'del.txt' },
  { sent: 'c1\u0085\u009b.txt', expected: 'c1.txt' },
  { sent: bytes('line', [13, 10], 'Content-Type: text/html.txt'), expected: 'clean or refused' },
  { sent: bytes([0xff, 0xfe], '.txt'), expected: 'clean' },
  { sent: 'quote\\"d.txt', expected: 'clean' },
  { sent: "it's;name=x.txt", expected: "it's;name=x.txt" },
  // 1,000-character names.
  { sent: `${'a'.repeat(996)}.txt`, expected: 'clean' },
  { sent: `${'日本語'.repeat(332)}.md`, expected: 'clean' },
  { sent: `${'😀'.repeat(498)}.txt`, expected: 'clean' },
  // Windows reserved device names: harmless here (stored under a UUID), kept as given.
  { sent: 'CON.txt', expected: 'CON.txt' },
  { sent: 'nul.txt', expected: 'nul.txt' },
  { sent: 'COM1.md', expected: 'COM1.md' },
  { sent: 'LPT9.csv', expected: 'LPT9.csv' },
  { sent: 'aux.json', expected: 'aux.json' },
  // Unicode tricks: normalisation, bidirectional overrides, look-alike separators.
  { sent: 'cafe\u0301.txt', expected: 'caf\u00e9.txt' },
  { sent: 'report\u202Egpj.txt', expected: 'reportgpj.txt' },
  { sent: '..\uff0f..\uff0fetc\uff0fpasswd.txt', expected: '..\uff0f..\uff0fetc\uff0fpasswd.txt' },
  { sent: '..\u2215..\u2215x.txt', expected: '..\u2215..\u2215x.txt' },
  { sent: '\ufb01le.txt', expected: '\ufb01le.txt' },
  { sent: 'UPPER.TXT', expected: 'UPPER.TXT' },
  // Names whose real extension is not allowed, however they are dressed up.
  { sent: 'invoice\u202Etxt.exe', expected: 'refused' },
  { sent: 'file.txt::$DATA', expected: 'refused' },
  { sent: 'report.txt.', expected: 'refused' },
  { sent: 'notes.txt.exe', expected: 'refused' },
  { sent: '.txt', expected: 'refused' },
  { sent: '..', expected: 'refused' },
  { sent: '.', expected: 'refused' },
  { sent: '', expected: 'refused' },
  { sent: '../', expected: 'refused' },
  { sent: 'evil\uff0etxt', expected: 'refused' },
];

interface ContentLie {
  name: string;
  partType: string;
  data: Buffer;
  /** The MIME type Dana must store and serve: the extension's; undefined when the type is refused. */
  mime?: string;
}

const MZ_HEADER = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff', 'latin1'), Buffer.alloc(48), Buffer.from('PE\x00\x00', 'latin1'), randomBytes(256)]);
const CONTENT_LIES: ContentLie[] = [
  { name: 'setup.txt', partType: 'application/x-msdownload', data: MZ_HEADER, mime: 'text/plain' },
  { name: 'page.txt', partType: 'text/html', data: Buffer.from('<!doctype html><html><script>alert(document.cookie)</script></html>'), mime: 'text/plain' },
  { name: 'data.json', partType: 'application/pdf', data: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj'), mime: 'application/json' },
  { name: 'notes.md', partType: 'image/svg+xml', data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), mime: 'text/markdown' },
  { name: 'table.csv', partType: 'application/javascript', data: Buffer.from('=cmd|" /C calc"!A0,2\n'), mime: 'text/csv' },
  { name: 'evil.exe', partType: 'text/plain', data: MZ_HEADER },
  { name: 'page.html', partType: 'text/plain', data: Buffer.from('<script>alert(1)</script>') },
  { name: 'image.svg', partType: 'text/plain', data: Buffer.from('<svg/>') },
];

interface Sent {
  sent: string | Buffer;
  reply: Reply;
  download?: Reply;
}

describe('hostile files: hostile names and content-type lies', function () {
  this.timeout(120_000);
  let base: string;
  let home: string;
  let server: ServeProcess;
  let client: HttpClient;
  const names = new Map<NameCase, Sent>();
  const lies = new Map<ContentLie, Sent>();
  let audit: UploadAudit;

  before(async () => {
    // The data folder sits four levels down, so that a `../` that escaped would still land in `base`, where we look.
    base = tempDir('dana-robust-hostile-');
    home = path.join(base, 'a', 'b', 'c', 'home');
    server = await startServe(home);
    client = new HttpClient(server.url);
    for (const testCase of NAME_CASES) {
      const reply = await uploadNamed(client, testCase.sent, Buffer.from(`contents of ${testCase.expected}`), 'application/octet-stream', testCase.extended);
      names.set(testCase, { sent: testCase.sent, reply, download: reply.status === 201 ? await download(client, reply.json.id) : undefined });
    }
    for (const lie of CONTENT_LIES) {
      const reply = await uploadNamed(client, lie.name, lie.data, lie.partType);
      lies.set(lie, { sent: lie.name, reply, download: reply.status === 201 ? await download(client, reply.json.id) : undefined });
    }
    audit = auditUploads(home);
    const stored = [...names.values(), ...lies.values()].filter((sent) => sent.reply.status === 201).length;
    report(`hostile files: ${NAME_CASES.length} hostile names and ${CONTENT_LIES.length} content-type lies sent; ${stored} stored, ${NAME_CASES.length + CONTENT_LIES.length - stored} refused`);
  });

  after(async () => {
    client?.close();
    await server?.stop('SIGKILL');
  });

  it('answers every upload with 201 or a 4xx {"detail": …}, never a 5xx', () => {
    const unexpected = [...names.values(), ...lies.values()]
      .filter(({ reply }) => reply.status !== 201 && !(reply.status >= 400 && reply.status < 500 && reply.json && 'detail' in reply.json))
      .map(({ sent, reply }) => `${JSON.stringify(sent.toString())}: ${reply.status} ${reply.text.slice(0, 200)}`);
    expect(unexpected).to.deep.equal([]);
  });

  it('stores every accepted file inside the upload folder under a UUID name, and writes nothing anywhere else', () => {
    const homeFromBase = path.relative(base, home);
    const allowed = new RegExp(`^${escapeRegExp(homeFromBase)}/(local\\.db(-wal|-shm)?|uploads/\\d{4}/\\d{2}/\\d{2}/[0-9a-f-]{36}\\.(txt|md|csv|json|pdf|docx))$`);
    const elsewhere = filesUnder(base).filter((file) => !allowed.test(file));
    expect(elsewhere, 'files outside the upload folder or not named <uuid><ext>').to.deep.equal([]);
    expect(audit.orphanRows).to.deep.equal([]);
    expect(audit.orphanFiles).to.deep.equal([]);
    for (const row of audit.documents) {
      expect(path.resolve(home, 'uploads', row.file_path).startsWith(path.join(home, 'uploads') + path.sep), row.file_path).to.equal(true);
      expect(row.file_path.endsWith(`/${row.filename}`), row.file_path).to.equal(true);
    }
    // Where an escaped `../` or absolute path would have landed.
    const targets = NAME_CASES.map((testCase) => testCase.sent.toString()).filter((name) => /[\\/]/.test(name))
      .flatMap((name) => [home, path.join(home, 'uploads'), path.join(home, 'uploads', '.tmp'), PROJECT_ROOT].map((dir) => path.resolve(dir, name.replaceAll('\\', '/'))));
    expect(targets.filter((target) => fs.statSync(target, { throwIfNoEntry: false })?.isFile()), 'files written where a hostile name points').to.deep.equal([]);
  });

  it('keeps only a clean base name as original_filename: no directory, no control or bidi character, NFC, at most 255 characters', () => {
    const dirty = [...names.values(), ...lies.values()].filter(({ reply }) => reply.status === 201)
      .map(({ sent, reply }) => ({ sent: sent.toString().slice(0, 60), name: reply.json.original_filename as string, problem: nameProblem(reply.json.original_filename) }))
      .filter((entry) => entry.problem);
    expect(dirty).to.deep.equal([]);
  });

  it('keeps the expected name for each classic trick, and refuses names whose real extension is not allowed', () => {
    const wrong = NAME_CASES.flatMap((testCase) => {
      const { reply } = names.get(testCase) as Sent;
      const shown = JSON.stringify(testCase.sent.toString().slice(0, 60));
      if (testCase.expected === 'clean or refused' && reply.status !== 201) return reply.status >= 400 && reply.status < 500 ? [] : [`${shown}: got ${reply.status}`];
      if (testCase.expected === 'refused') return reply.status >= 400 && reply.status < 500 ? [] : [`${shown}: expected a 4xx, got ${reply.status} ${reply.json?.original_filename ?? reply.text}`];
      if (reply.status !== 201) return [`${shown}: expected 201, got ${reply.status} ${reply.text.slice(0, 120)}`];
      if (!testCase.expected.startsWith('clean') && reply.json.original_filename !== testCase.expected) return [`${shown}: stored as ${JSON.stringify(reply.json.original_filename)}, expected ${JSON.stringify(testCase.expected)}`];
      return [];
    });
    expect(wrong).to.deep.equal([]);
    const long = [...names.entries()].filter(([testCase]) => testCase.expected === 'clean' && testCase.sent.length >= 1000).map(([, { reply }]) => reply.json.original_filename as string);
    for (const name of long) expect(name.length, name).to.be.within(200, 255);
  });

  it('serves downloads with safe headers: attachment, an ASCII fallback without quotes, slashes or controls, the exact name in filename*, nosniff', () => {
    const unsafe = [...names.values(), ...lies.values()].filter(({ download: reply }) => reply)
      .map(({ sent, reply, download: got }) => ({ sent: JSON.stringify(sent.toString().slice(0, 40)), problem: headerProblem(reply.json, got as Reply) }))
      .filter((entry) => entry.problem);
    const count = [...names.values(), ...lies.values()].filter(({ download: reply }) => reply).length;
    report(`hostile files: ${count} downloads checked, ${unsafe.length} with unsafe headers`);
    expect(unsafe).to.deep.equal([]);
  });

  it('stores a content-type lie with the MIME type of its extension, and serves it as that type with nosniff', () => {
    for (const lie of CONTENT_LIES) {
      const { reply, download: got } = lies.get(lie) as Sent;
      if (!lie.mime) {
        expect(reply.status, `${lie.name}: ${reply.text}`).to.equal(415);
        continue;
      }
      expect(reply.status, `${lie.name}: ${reply.text}`).to.equal(201);
      expect(reply.json.mime_type, lie.name).to.equal(lie.mime);
      expect(got?.headers['content-type'], lie.name).to.equal(lie.mime);
      expect(got?.headers['x-content-type-options'], lie.name).to.equal('nosniff');
      expect(got?.body.equals(lie.data), `${lie.name}: the exact bytes`).to.equal(true);
    }
  });

  it('keeps names clean when `dana docs upload` is given files with hostile names', async () => {
    const dir = tempDir('dana-robust-hostile-cli-');
    const hostile = ['tab\there.txt', 'new\nline.md', 'bidi\u202Egpj.txt', 'esc\u001b[1mbold.csv', ' spaced .txt', `${'x'.repeat(240)}.txt`];
    const wrong: string[] = [];
    for (const name of hostile) {
      fs.writeFileSync(path.join(dir, name), `a file named ${JSON.stringify(name)}`);
      const result = await runDana(['docs', 'upload', path.join(dir, name), '--json'], { env: { DANA_HOME: home } });
      const problem = result.code === 0 ? nameProblem(result.json.original_filename) : `exit ${result.code}: ${result.stderr.trim()}`;
      if (problem) wrong.push(`${JSON.stringify(name)}: ${problem}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('`dana docs download` writes a hostile-named document inside the current folder only', async () => {
    const traversal = (names.get(NAME_CASES[0]) as Sent).reply.json;
    const fullwidth = (names.get(NAME_CASES.find((testCase) => testCase.sent.toString().includes('\uff0f')) as NameCase) as Sent).reply.json;
    const outer = tempDir('dana-robust-download-');
    const cwd = path.join(outer, 'x', 'y', 'cwd');
    fs.mkdirSync(cwd, { recursive: true });
    for (const document of [traversal, fullwidth]) {
      const result = await runDana(['docs', 'download', String(document.id)], { env: { DANA_HOME: home }, cwd });
      expect(result.code, result.stderr).to.equal(0);
    }
    expect(filesUnder(outer).sort()).to.deep.equal([path.join('x', 'y', 'cwd', traversal.original_filename), path.join('x', 'y', 'cwd', fullwidth.original_filename)].sort());
  });
});

// A 306 KB DOCX whose XML expands to 100 MB once killed the server (heap limit), and a flate
// bomb PDF held it for 48 s at 1.28 GB: both are now parsed in a watched parser process.
const BOMB_MEMORY_MB = 256;
/** The `dana serve` process's own resident memory must stay under this while a bomb is parsed. */
const SERVE_RSS_BOUND_MB = 200;

describe('hostile files: decompression bombs', function () {
  this.timeout(180_000);
  let server: ServeProcess;
  let client: HttpClient;
  /** Its own connection, so /health never waits behind the upload. */
  let healthClient: HttpClient;

  before(async () => {
    server = await startServe(tempDir('dana-robust-bombs-'), { env: { DANA_EXTRACT_MEMORY_MB: String(BOMB_MEMORY_MB), DANA_EXTRACT_TIMEOUT_S: '60' } });
    client = new HttpClient(server.url);
    healthClient = new HttpClient(server.url);
    // What the first requests load (the database, the upload route) is loaded before the clock starts.
    expect((await healthClient.request({ method: 'GET', path: '/health' })).status).to.equal(200);
    expect((await uploadNamed(client, 'warm-up.txt', Buffer.from('warm up'), 'text/plain')).status).to.equal(201);
  });
  after(async () => {
    client?.close();
    healthClient?.close();
    await server?.stop('SIGKILL');
  });

  const bombs: Array<[string, () => Promise<Buffer>]> = [
    ['bomb.docx', () => docxBomb(100)],
    ['bomb.pdf', () => pdfBomb(300)],
  ];
  for (const [name, build] of bombs) {
    it(`stores ${name} with its text failed, /health within 1 s and the server under ${SERVE_RSS_BOUND_MB} MB`, async () => {
      const data = await build();
      const baseMb = residentMb(server.child.pid as number);
      let running = true;
      let peakMb = baseMb;
      const healthMs: number[] = [];
      const watcher = (async () => {
        while (running) {
          const started = performance.now();
          const reply = await healthClient.request({ method: 'GET', path: '/health' });
          expect(reply.status).to.equal(200);
          healthMs.push(performance.now() - started);
          peakMb = Math.max(peakMb, residentMb(server.child.pid as number));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const started = performance.now();
      const reply = await uploadNamed(client, name, data, 'application/octet-stream');
      const elapsed = performance.now() - started;
      running = false;
      await watcher;
      report(`hostile files: ${name} (${Math.round(data.length / 1024)} KB) failed in ${ms(elapsed)}: ${reply.json?.text_error}; /health max ${ms(Math.max(...healthMs))} over ${healthMs.length} requests; serve RSS ${Math.round(baseMb)} MB before, ${Math.round(peakMb)} MB peak`);
      expect(reply.status, reply.text).to.equal(201);
      expect(reply.json.text_status).to.equal('failed');
      expect(reply.json.text_error).to.equal(`Reading the text needed more than ${BOMB_MEMORY_MB} MB of memory.`);
      expect(Math.max(...healthMs), 'slowest /health (ms)').to.be.below(1_000);
      expect(peakMb, 'peak RSS of dana serve (MB)').to.be.below(SERVE_RSS_BOUND_MB);
    });
  }
});

describe('hostile files: a server killed while it parses', function () {
  this.timeout(180_000);

  it('leaves the document "pending", and the next start finishes it', async () => {
    const home = tempDir('dana-robust-parse-crash-');
    const env = { DANA_EXTRACT_MEMORY_MB: String(BOMB_MEMORY_MB), DANA_EXTRACT_TIMEOUT_S: '60' };
    const server = await startServe(home, { env });
    const client = new HttpClient(server.url);
    try {
      const upload = uploadNamed(client, 'bomb.pdf', await pdfBomb(300), 'application/pdf').catch((error: Error) => error);
      // The row is committed before the parser process gets the file: kill the server as soon as one runs.
      const pid = server.child.pid as number;
      const deadline = Date.now() + 30_000;
      while (!childProcesses('parser-process', pid).length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(childProcesses('parser-process', pid), 'a parser process of dana serve').to.have.length(1);
      await server.stop('SIGKILL');
      expect(await upload).to.be.instanceOf(Error);
    } finally {
      client.close();
      await server.stop('SIGKILL');
    }
    expect(selectAll<{ text_status: string }>(home, 'SELECT text_status FROM documents')).to.deep.equal([{ text_status: 'pending' }]);
    const listed = await runDana(['docs', 'list', '--json'], { env: { DANA_HOME: home, ...env } });
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.json.map((document: { text_status: string; text_error: string }) => [document.text_status, document.text_error])).to.deep.equal([
      ['failed', `Reading the text needed more than ${BOMB_MEMORY_MB} MB of memory.`],
    ]);
  });
});

/** The resident set of a process in MB, from /proc. */
function residentMb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) / 1024 : 0;
}

/** Uploads one file with its name written raw into the part header (or as RFC 5987 `filename*`). */
function uploadNamed(client: HttpClient, name: string | Buffer, data: Buffer, partType: string, extended = false): Promise<Reply> {
  const boundary = `----DanaHostile${randomBytes(8).toString('hex')}`;
  const filename = extended ? [Buffer.from(`filename*=UTF-8''`), Buffer.from(name)] : [Buffer.from('filename="'), Buffer.from(name), Buffer.from('"')];
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; `),
    ...filename,
    Buffer.from(`\r\nContent-Type: ${partType}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request({ method: 'POST', path: '/api/documents/upload', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
}

function download(client: HttpClient, id: number): Promise<Reply> {
  return client.request({ method: 'GET', path: `/api/documents/${id}/download` });
}

// C0 and C1 controls, DEL, and the bidirectional formatting characters.
const UNSAFE_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a stored name is not a clean base name, or "" when it is one. */
function nameProblem(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') return 'empty';
  if (/[\\/]/.test(name)) return `has a directory part: ${JSON.stringify(name)}`;
  if (UNSAFE_IN_NAMES.test(name)) return `has a control or bidi character: ${JSON.stringify(name)}`;
  if (LONE_SURROGATE.test(name)) return 'has half a surrogate pair';
  if (name !== name.normalize('NFC')) return 'is not NFC';
  if (name.length > 255) return `is ${name.length} characters long`;
  if (name === '.' || name === '..') return 'is a dot name';
  if (!(ALLOWED_MIME as Record<string, string | undefined>)[path.extname(name).toLowerCase()]) return `has no allowed extension: ${JSON.stringify(name)}`;
  return '';
}

const ATTACHMENT = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$/;

/** Why a download's headers are unsafe or wrong for `document`, or "" when they are right. */
function headerProblem(document: { original_filename: string; mime_type: string; file_size: number }, reply: Reply): string {
  if (reply.status !== 200) return `status ${reply.status}`;
  const disposition = String(reply.headers['content-disposition'] ?? '');
  const match = ATTACHMENT.exec(disposition);
  if (!match) return `Content-Disposition ${JSON.stringify(disposition)}`;
  const [, fallback, encoded] = match;
  if (!/^[\x20-\x7e]+$/.test(fallback) || /["\\/]/.test(fallback) || fallback === '.' || fallback === '..') return `unsafe ASCII fallback ${JSON.stringify(fallback)}`;
  if (decodeURIComponent(encoded) !== document.original_filename) return `filename* ${encoded} is not ${JSON.stringify(document.original_filename)}`;
  if (reply.headers['content-type'] !== document.mime_type) return `Content-Type ${reply.headers['content-type']}`;
  if (reply.headers['x-content-type-options'] !== 'nosniff') return 'no X-Content-Type-Options: nosniff';
  if (Number(reply.headers['content-length']) !== document.file_size) return `Content-Length ${reply.headers['content-length']}`;
  return '';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
