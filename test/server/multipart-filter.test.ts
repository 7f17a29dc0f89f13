// MultipartHeaderFilter drops raw control bytes from multipart part headers (so busboy
// accepts a file named "a\u0001b.txt") and must pass every byte of every part body through
// untouched, however the body is cut into chunks. Random cases come from a seeded generator:
// a failure names its seed and can be replayed.
import { once } from 'node:events';
import { expect } from 'chai';
import { MultipartHeaderFilter, multipartBoundary } from '../../src/server/middleware/multipart-headers.js';

/** mulberry32: a small, fast, seeded pseudo-random generator. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];
  const bytes = (length: number) => Buffer.from(Array.from({ length }, () => int(0, 255)));
  return { next, int, pick, bytes };
}
type Random = ReturnType<typeof random>;

// The bytes the filter must drop from headers: C0 controls except TAB, CR and LF, and DEL.
const CONTROL_BYTES = [...Array.from({ length: 32 }, (_, i) => i).filter((b) => b !== 9 && b !== 10 && b !== 13), 127];
const BOUNDARY_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

interface Case {
  boundary: string;
  /** What a client sends. */
  input: Buffer;
  /** The same bytes without the control bytes of part headers. */
  expected: Buffer;
  parts: number;
}

/** Bytes that look like what the filter searches for, to make part bodies hard to pass through. */
function trickyBody(rng: Random, boundary: string): Buffer {
  const pieces: Buffer[] = [];
  const target = rng.int(0, 600);
  let size = 0;
  while (size < target) {
    const prefix = boundary.slice(0, rng.int(0, boundary.length - 1));
    const piece = rng.pick([
      () => rng.bytes(rng.int(1, 64)),
      () => Buffer.from('\r\n--'),
      // A partial delimiter that then goes another way.
      () => Buffer.concat([Buffer.from(`\r\n--${prefix}`, 'latin1'), Buffer.from([boundary.charCodeAt(prefix.length) ^ 0x01])]),
      () => Buffer.from(`--${boundary}`, 'latin1'),
      () => Buffer.from('\r\n\r\n'),
      () => Buffer.from(CONTROL_BYTES),
      () => Buffer.from('Content-Disposition: form-data; name="x"\r\n'),
      () => Buffer.from('\r'),
    ])();
    pieces.push(piece);
    size += piece.length;
  }
  return Buffer.concat(pieces);
}

/** A part header with control bytes sprinkled in: returns what is sent and what should pass. */
function header(rng: Random, index: number, withControls: boolean): { sent: Buffer; kept: Buffer } {
  const isFile = rng.next() < 0.6;
  const name = Buffer.concat([Buffer.from('doc'), rng.bytes(rng.int(0, 6)).map((b) => (b < 0x80 ? 0x61 + (b % 26) : b))]);
  const lines = [
    Buffer.concat([
      Buffer.from(`\r\nContent-Disposition: form-data; name="field${index}"`),
      isFile ? Buffer.concat([Buffer.from('; filename="'), name, Buffer.from('.txt"')]) : Buffer.alloc(0),
    ]),
    ...(isFile ? [Buffer.from('\r\nContent-Type: application/octet-stream')] : []),
    ...(rng.next() < 0.3 ? [Buffer.from('\r\nX-Note:\tkept tab')] : []),
    Buffer.from('\r\n\r\n'),
  ];
  const kept = Buffer.concat(lines);
  if (!withControls) return { sent: kept, kept };
  // Insert control bytes anywhere from just after the delimiter to just before the final LF.
  const sent: number[] = [];
  const insertions = rng.int(1, 5);
  const positions = new Map<number, number[]>();
  for (let i = 0; i < insertions; i++) {
    const at = rng.int(0, kept.length - 1);
    positions.set(at, [...(positions.get(at) ?? []), ...Array.from({ length: rng.int(1, 3) }, () => rng.pick(CONTROL_BYTES))]);
  }
  kept.forEach((byte, i) => {
    sent.push(...(positions.get(i) ?? []), byte);
  });
  return { sent: Buffer.from(sent), kept };
}

function randomCase(rng: Random, options: { controls: boolean; maxBody?: number }): Case {
  for (;;) {
    const boundary = Array.from({ length: rng.pick([1, 2, 3, rng.int(4, 70)]) }, () => rng.pick([...BOUNDARY_CHARS])).join('');
    const parts = rng.int(1, 4);
    const sent: Buffer[] = [];
    const kept: Buffer[] = [];
    const both = (bytes: Buffer) => {
      sent.push(bytes);
      kept.push(bytes);
    };
    if (rng.next() < 0.2) both(Buffer.from('This is the preamble.\r\n'));
    for (let index = 0; index < parts; index++) {
      both(Buffer.from(`${index === 0 ? '' : '\r\n'}--${boundary}`, 'latin1'));
      const { sent: headerSent, kept: headerKept } = header(rng, index, options.controls);
      sent.push(headerSent);
      kept.push(headerKept);
      both(rng.next() < 0.5 ? trickyBody(rng, boundary) : rng.bytes(rng.int(0, options.maxBody ?? 2000)));
    }
    both(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
    const input = Buffer.concat(sent);
    // A generated body must hold exactly the delimiters it was built with.
    if (countDelimiters(input, boundary) !== parts + 1) continue;
    return { boundary, input, expected: Buffer.concat(kept), parts };
  }
}

function countDelimiters(body: Buffer, boundary: string): number {
  const data = Buffer.concat([Buffer.from('\r\n'), body]);
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let count = 0;
  for (let at = data.indexOf(delimiter); at !== -1; at = data.indexOf(delimiter, at + 1)) count++;
  return count;
}

type Chunking = (rng: Random, data: Buffer) => Buffer[];

const CHUNKINGS: Record<string, Chunking> = {
  'one chunk': (_rng, data) => [data],
  '1-byte chunks': (_rng, data) => Array.from(data, (byte) => Buffer.from([byte])),
  '2-byte chunks': (_rng, data) => cut(data, () => 2),
  'random chunk sizes': (rng, data) => cut(data, () => rng.pick([1, 2, 3, rng.int(1, 16), rng.int(1, 300), rng.int(1, 5000)])),
};

function cut(data: Buffer, size: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length;) {
    const length = size();
    chunks.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return chunks;
}

async function filter(boundary: string, chunks: Buffer[]): Promise<Buffer> {
  const stream = new MultipartHeaderFilter(boundary);
  const output: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => output.push(chunk));
  const ended = once(stream, 'end');
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return Buffer.concat(output);
}

/** Where two buffers first differ, for a readable failure. */
function firstDifference(a: Buffer, b: Buffer): string {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a[i] === b[i]) i++;
  const around = (buffer: Buffer) => JSON.stringify(buffer.subarray(Math.max(0, i - 20), i + 20).toString('latin1'));
  return `lengths ${a.length} and ${b.length}, first difference at byte ${i}: ${around(a)} vs ${around(b)}`;
}

const CASES_PER_CHUNKING = 100;

describe('multipart header filter', () => {
  for (const [chunking, split] of Object.entries(CHUNKINGS)) {
    it(`removes exactly the control bytes of part headers and keeps every body byte, in ${chunking}`, async () => {
      for (let seed = 1; seed <= CASES_PER_CHUNKING; seed++) {
        const rng = random(seed * 7919 + chunking.length);
        const example = randomCase(rng, { controls: true, maxBody: chunking === '1-byte chunks' ? 600 : 4000 });
        const output = await filter(example.boundary, split(rng, example.input));
        expect(output.equals(example.expected), `seed ${seed}, ${chunking}, boundary ${JSON.stringify(example.boundary)}: ${firstDifference(output, example.expected)}`).to.equal(true);
      }
    });
  }

  it('passes a body whose headers have no control bytes through byte for byte', async () => {
    for (let seed = 1; seed <= CASES_PER_CHUNKING; seed++) {
      const rng = random(seed);
      const example = randomCase(rng, { controls: false });
      expect(example.expected.equals(example.input)).to.equal(true);
      const output = await filter(example.boundary, CHUNKINGS['random chunk sizes'](rng, example.input));
      expect(output.equals(example.input), `seed ${seed}: ${firstDifference(output, example.input)}`).to.equal(true);
    }
  });

  it('passes every byte of a body cut off at any point (a client that disconnects)', async () => {
    for (let seed = 1; seed <= CASES_PER_CHUNKING; seed++) {
      const rng = random(seed + 100_000);
      const example = randomCase(rng, { controls: false });
      const truncated = example.input.subarray(0, rng.int(0, example.input.length));
      const output = await filter(example.boundary, CHUNKINGS['random chunk sizes'](rng, truncated));
      expect(output.equals(truncated), `seed ${seed}: ${firstDifference(output, truncated)}`).to.equal(true);
    }
  });

  it('keeps control bytes, CR LF pairs and boundary look-alikes inside part bodies', async () => {
    const boundary = 'XyZ';
    const body = Buffer.concat([
      Buffer.from('\u0001\u0002\u001f\u007f\r\n\r\n--XyY\r\n--Xy\r\n-- XyZ --XyZ\r\n'),
      Buffer.from([0, 0, 27, 13, 10, 13, 10]),
    ]);
    const input = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a\u0001b.txt"\r\n\r\n'),
      body,
      Buffer.from('\r\n--XyZ--\r\n'),
    ]);
    const expected = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="ab.txt"\r\n\r\n'),
      body,
      Buffer.from('\r\n--XyZ--\r\n'),
    ]);
    for (const split of Object.values(CHUNKINGS)) {
      const output = await filter(boundary, split(random(3), input));
      expect(output.equals(expected), firstDifference(output, expected)).to.equal(true);
    }
  });

  it('keeps TAB in headers and drops DEL', async () => {
    const input = Buffer.from('--b\r\nContent-Disposition: form-data;\tname="f"; filename="x\u007fy.txt"\r\n\r\nbody\u007f\r\n--b--\r\n');
    const output = await filter('b', [input]);
    expect(output.toString('latin1')).to.equal('--b\r\nContent-Disposition: form-data;\tname="f"; filename="xy.txt"\r\n\r\nbody\u007f\r\n--b--\r\n');
  });

  it('finds the boundary of a Content-Type, quoted or not', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc123')).to.equal('abc123');
    expect(multipartBoundary('multipart/form-data; boundary="a b:c"')).to.equal('a b:c');
    expect(multipartBoundary('multipart/form-data; charset=utf-8; BOUNDARY=----x; foo=bar')).to.equal('----x');
    expect(multipartBoundary('multipart/form-data')).to.equal(undefined);
    expect(multipartBoundary(undefined)).to.equal(undefined);
  });
});
