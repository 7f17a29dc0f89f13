// Chat tests' common ground: agents and documents made through the real services, the
// rows a turn leaves in the database, waiting for something to happen, and a reader of
// Server-Sent Events.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { DanaContext } from '../../src/core/context.js';
import type { Agent, Document } from '../../src/core/schemas.js';
import { PROJECT_ROOT } from './cli.js';

export const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');

/** The bytes of a file in test/fixtures. */
export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

export function createAgent(ctx: DanaContext, config: Record<string, unknown> = {}, name = 'Ada'): Promise<Agent> {
  return ctx.services.agents.create({ name, description: 'A test agent', config });
}

/** Adds a provider (no key variable unless given) for agents to name in their config. */
export async function addProvider(ctx: DanaContext, name: string, baseUrl: string, extra: Record<string, unknown> = {}): Promise<string> {
  await ctx.services.providers.add({ name, base_url: baseUrl, ...extra });
  return name;
}

/** Uploads bytes through the documents service, as the CLI does. */
export function upload(ctx: DanaContext, clientName: string, bytes: Buffer | string, form: Record<string, unknown> = {}): Promise<Document> {
  return ctx.services.documents.receive(Readable.from([Buffer.from(bytes)]), { clientName, fields: form });
}

/** How many conversations and messages the database holds. */
export async function storedCounts(ctx: DanaContext): Promise<{ conversations: number; messages: number }> {
  const [conversations, messages] = await Promise.all([
    ctx.knex('conversations').count({ n: '*' }).first(),
    ctx.knex('messages').count({ n: '*' }).first(),
  ]);
  return { conversations: Number(conversations?.n), messages: Number(messages?.n) };
}

export const NOTHING_STORED = { conversations: 0, messages: 0 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy; fails after `timeoutMs` with the last value. */
export async function waitFor<T>(probe: () => T | Promise<T>, timeoutMs = 2000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last value: ${String(last)}`);
    await sleep(20);
  }
}

/** Milliseconds `work` took, and what it threw (or undefined). */
export async function timed(work: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await work();
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

/** The error `work` rejects with; fails when it resolves. */
export async function rejectionOf(work: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await work;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('Expected a rejection, but the promise resolved');
}

export interface SseEvent {
  event: string;
  data: string;
  /** `data` parsed as JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Parses an event stream as the EventSource specification reads it: lines end in CRLF,
 * LF or CR; `:` starts a comment; `data` lines of one event are joined with "\n"; a blank
 * line dispatches the event (type "message" unless `event` named one).
 */
export class SseParser {
  readonly events: SseEvent[] = [];
  private buffer = '';
  private type = '';
  private data: string[] = [];

  push(text: string): SseEvent[] {
    this.buffer += text;
    const found: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      // A lone CR at the very end may be the first half of a CRLF: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) found.push(event);
    }
    this.events.push(...found);
    return found;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (!this.data.length) {
        this.type = '';
        return undefined;
      }
      const data = this.data.join('\n');
      const event: SseEvent = { event: this.type || 'message', data, json: parseJson(data) };
      this.type = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every event of a response's body, read to its end. */
export async function readEvents(response: Response): Promise<SseEvent[]> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.push(decoder.decode(chunk, { stream: true }));
  parser.push(decoder.decode());
  return parser.events;
}

/** A response's JSON body, for assertions. */
export async function bodyOf(response: Response): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return response.json();
}
