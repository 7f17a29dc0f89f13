// The text of a stored file, for search and chat, as a stream of pieces so a large file
// never sits in memory whole. Plain formats are read and decoded as they stream; PDF and
// DOCX parsers (loaded only when such a file arrives) need the whole file and give one piece.
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** Text beyond this many characters of one file (about 300,000 words) is not indexed. */
export const MAX_TEXT_CHARS = 2_000_000;

/**
 * A file's text, ready to read: formats that need a parser are parsed now (so a caller can
 * do it before taking a database lock); plain text is read later, as it is consumed.
 */
export async function openText(filePath: string, extension: string): Promise<AsyncIterable<string> | string[]> {
  if (extension === '.pdf' || extension === '.docx') {
    const pieces: string[] = [];
    for await (const piece of textOf(filePath, extension)) pieces.push(piece);
    return pieces;
  }
  return textOf(filePath, extension);
}

export async function* textOf(filePath: string, extension: string): AsyncGenerator<string> {
  let remaining = MAX_TEXT_CHARS;
  for await (const piece of rawText(filePath, extension)) {
    yield piece.length > remaining ? piece.slice(0, remaining) : piece;
    remaining -= piece.length;
    if (remaining <= 0) return;
  }
}

async function* rawText(filePath: string, extension: string): AsyncGenerator<string> {
  switch (extension) {
    case '.txt':
    case '.md':
    case '.csv':
    case '.json':
      yield* decodeUtf8(filePath);
      return;
    case '.pdf':
      yield await extractPdf(filePath);
      return;
    case '.docx':
      yield await extractDocx(filePath);
      return;
  }
}

async function* decodeUtf8(filePath: string): AsyncGenerator<string> {
  // Invalid sequences become U+FFFD rather than failing: the file is stored as uploaded anyway.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 256 * 1024 })) {
    const text = decoder.decode(chunk as Buffer, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

async function extractPdf(filePath: string): Promise<string> {
  const { extractText: extractPdfText, getDocumentProxy } = await import('unpdf');
  // verbosity 0: a damaged PDF fails with an error, without pdf.js warnings on the console.
  const pdf = await getDocumentProxy(new Uint8Array(await fsp.readFile(filePath)), { verbosity: 0 });
  try {
    const { text } = await extractPdfText(pdf, { mergePages: true });
    return text;
  } finally {
    await pdf.destroy();
  }
}

async function extractDocx(filePath: string): Promise<string> {
  const { default: mammoth } = await import('mammoth');
  const { value } = await mammoth.extractRawText({ path: filePath });
  return value;
}
