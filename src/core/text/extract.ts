// The text of a stored file, for search and chat. Plain formats are decoded in this process
// as they stream, so a large file never sits in memory whole. PDF and DOCX go to a parser
// process (pool.ts) with bounded memory and time; a file that cannot be read throws a
// TextError whose message says why in one sentence.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { ParserPool, type ParseLimits } from './pool.js';
import { TextError } from './parsers.js';

export { TextError } from './parsers.js';

/** Text beyond this many characters of one file (about 300,000 words) is not indexed. */
export const MAX_TEXT_CHARS = 2_000_000;

const SIGNATURES: Record<string, { bytes: Buffer; within: number; reason: string }> = {
  // PDF readers accept the header anywhere in the first 1024 bytes.
  '.pdf': { bytes: Buffer.from('%PDF-'), within: 1024, reason: 'The file is not a PDF (it has no %PDF- header).' },
  '.docx': { bytes: Buffer.from('PK\u0003\u0004', 'latin1'), within: 4, reason: 'The file is not a DOCX (it is not a zip archive).' },
};

export class TextExtractor {
  private pool?: ParserPool;

  constructor(private readonly limits: ParseLimits) {}

  /**
   * A file's text as pieces: parsed formats are parsed now, in a parser process; plain text
   * is read as it is consumed. An empty file has no text, whatever its type.
   */
  async open(filePath: string, extension: string): Promise<AsyncIterable<string> | string[]> {
    const signature = SIGNATURES[extension];
    if (!signature) return plainText(filePath);
    const head = await readHead(filePath, signature.within + signature.bytes.length);
    if (!head.length) return [];
    if (!head.includes(signature.bytes)) throw new TextError(signature.reason);
    this.pool ??= new ParserPool(this.limits);
    return [await this.pool.parse({ filePath, extension, maxChars: MAX_TEXT_CHARS })];
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

async function readHead(filePath: string, length: number): Promise<Buffer> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(filePath, 'r');
  } catch (error) {
    throw readError(error);
  }
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** UTF-8 text as it streams, up to MAX_TEXT_CHARS; invalid sequences become U+FFFD (the file is stored as uploaded anyway). */
async function* plainText(filePath: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let remaining = MAX_TEXT_CHARS;
  const take = (text: string) => {
    const piece = text.length > remaining ? text.slice(0, remaining) : text;
    remaining -= piece.length;
    return piece;
  };
  try {
    for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 256 * 1024 })) {
      const text = take(decoder.decode(chunk as Buffer, { stream: true }));
      if (text) yield text;
      if (remaining <= 0) return;
    }
  } catch (error) {
    throw readError(error);
  }
  const rest = take(decoder.decode());
  if (rest) yield rest;
}

function readError(error: unknown): TextError {
  const code = (error as NodeJS.ErrnoException).code;
  return new TextError(code === 'ENOENT' ? 'The stored file is missing.' : `The stored file could not be read (${code ?? 'unknown error'}).`);
}
