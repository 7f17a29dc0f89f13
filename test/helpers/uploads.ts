// Uploads through the documents service from bytes in memory, and reads downloads back.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { DanaContext } from '../../src/core/context.js';
import type { Document } from '../../src/core/schemas.js';

/** `bytes` as a stream of chunks of at most `chunkSize` bytes, like a socket or a file would send them. */
export function streamOf(bytes: Buffer | string, chunkSize = 64 * 1024): Readable {
  const data = Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) chunks.push(data.subarray(offset, offset + chunkSize));
  return Readable.from(chunks);
}

export function uploadBytes(ctx: DanaContext, bytes: Buffer | string, clientName: string, form: Record<string, unknown> = {}): Promise<Document> {
  return ctx.services.documents.receive(streamOf(bytes), { clientName, fields: form });
}

/** The bytes a download of document `id` returns, and the size it announced. */
export async function downloadBytes(ctx: DanaContext, id: number): Promise<{ bytes: Buffer; size: number }> {
  const { stream, size } = await ctx.services.documents.download(id);
  return { bytes: await buffer(stream), size };
}

/** Today's upload sub-folder, YYYY/MM/DD in UTC. */
export function utcDay(date = new Date()): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '/');
}
