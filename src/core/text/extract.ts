// The text of a stored file, for search and chat. Plain formats are read directly; PDF and
// DOCX parsers are loaded only when such a file arrives.
import fs from 'node:fs/promises';

/** More text than this from one file is not indexed (a 50 MB upload yields at most this). */
export const MAX_TEXT_CHARS = 5_000_000;

export async function extractText(filePath: string, extension: string): Promise<string> {
  const text = await extractRaw(filePath, extension);
  return text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
}

async function extractRaw(filePath: string, extension: string): Promise<string> {
  switch (extension) {
    case '.txt':
    case '.md':
    case '.csv':
    case '.json':
      return decodeUtf8(await fs.readFile(filePath));
    case '.pdf':
      return extractPdf(filePath);
    case '.docx':
      return extractDocx(filePath);
    default:
      return '';
  }
}

function decodeUtf8(bytes: Buffer): string {
  // Invalid sequences become U+FFFD rather than failing: the file is stored as uploaded anyway.
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
}

async function extractPdf(filePath: string): Promise<string> {
  const { extractText: extractPdfText, getDocumentProxy } = await import('unpdf');
  // verbosity 0: a damaged PDF fails with an error, without pdf.js warnings on the console.
  const pdf = await getDocumentProxy(new Uint8Array(await fs.readFile(filePath)), { verbosity: 0 });
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
