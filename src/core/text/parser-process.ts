// The entry of a parser process (forked by pool.ts): parses one file at a time on request
// and sends back its text or the reason it could not be read. It exits with its parent.
import { parseDocument, TextError } from './parsers.js';

export interface ParseRequest {
  id: number;
  filePath: string;
  extension: string;
  maxChars: number;
}

export type ParseReply = { id: number; text: string } | { id: number; error: string };

process.on('disconnect', () => process.exit(0));
process.on('message', (request: ParseRequest) => {
  void answer(request).then((reply) => process.send?.(reply));
});

async function answer({ id, filePath, extension, maxChars }: ParseRequest): Promise<ParseReply> {
  try {
    return { id, text: await parseDocument(filePath, extension, maxChars) };
  } catch (error) {
    return { id, error: error instanceof TextError ? error.message : 'The text reader failed unexpectedly.' };
  }
}
