// PDF and DOCX parsers. They need the whole file and can be made to use any amount of memory
// and time, so they run only in a parser process (see parser-process.ts), never in Dana's own.
import fsp from 'node:fs/promises';

/** A file's text could not be read; the message is the one sentence users see as `text_error`. */
export class TextError extends Error {
  override name = 'TextError';
}

export async function parseDocument(filePath: string, extension: string, maxChars: number): Promise<string> {
  const text = extension === '.pdf' ? await parsePdf(filePath) : await parseDocx(filePath);
  return text.length > maxChars ? text.slice(0, maxChars) : text;
}

async function parsePdf(filePath: string): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // verbosity 0: a damaged PDF fails with an error, without pdf.js warnings on the console.
    pdf = await getDocumentProxy(new Uint8Array(await fsp.readFile(filePath)), { verbosity: 0 });
  } catch (error) {
    if ((error as Error)?.name === 'PasswordException') throw new TextError('The PDF is protected by a password.');
    throw new TextError(`The PDF could not be read (${firstSentence(error)}).`);
  }
  try {
    const { text } = await extractText(pdf, { mergePages: true });
    return text;
  } catch (error) {
    throw new TextError(`The PDF could not be read (${firstSentence(error)}).`);
  } finally {
    await pdf.destroy();
  }
}

async function parseDocx(filePath: string): Promise<string> {
  const { default: mammoth } = await import('mammoth');
  try {
    const { value } = await mammoth.extractRawText({ path: filePath });
    return value;
  } catch (error) {
    throw new TextError(`The DOCX could not be read (${firstSentence(error)}).`);
  }
}

/** The first sentence of a parser's message, without its final stop, short enough to show. */
function firstSentence(error: unknown): string {
  const message = String((error as Error)?.message ?? error).split('\n')[0];
  const sentence = message.split(/(?<=[.?!])\s/)[0].replace(/[.?!\s]+$/, '');
  return (sentence || 'unknown error').slice(0, 200);
}
