// A Server-Sent Events client for tests: opens a stream with fetch, parses its events as
// they arrive, and waits for the ones a test expects (never a fixed sleep).
import { expect } from 'chai';

export interface StreamEvent {
  id?: string;
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface EventStream {
  response: Response;
  /** Every event received so far. */
  events: StreamEvent[];
  /** Comment lines (keep-alives) received so far. */
  comments: string[];
  /** Resolves with the first received event that `matches` (already received ones count). */
  waitFor(matches: (event: StreamEvent) => boolean, timeoutMs?: number): Promise<StreamEvent>;
  /** Resolves once `count` events have arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<StreamEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: StreamEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: StreamEvent = { event: 'message', data: undefined };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              event.data = JSON.parse(line.slice(6));
              isEvent = true;
            }
          }
          if (isEvent) events.push(event);
          notify();
        }
      }
    } catch {
      // Closed by the test.
    } finally {
      notify();
    }
  })();
  let isEnded = false;
  void ended.then(() => (isEnded = true));
  const waitUntil = <T>(found: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = found();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (isEnded) {
          finish();
          reject(new Error(`the stream ended before ${what}; events: ${JSON.stringify(events)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void ended.then(check);
      check();
    });
  return {
    response,
    events,
    comments,
    waitFor: (matches, timeoutMs = 5_000) => waitUntil(() => events.find(matches), timeoutMs, 'matching event'),
    waitForCount: (count, timeoutMs = 5_000) => waitUntil(() => (events.length >= count ? events.slice(0, count) : undefined), timeoutMs, `${count} events`),
    ended,
    close: () => controller.abort(),
  };
}

/** The ids of events, as numbers, each one more than the one before. */
export function expectConsecutiveIds(events: StreamEvent[], first?: number): void {
  const ids = events.map((event) => Number(event.id));
  const start = first ?? ids[0];
  expect(ids).to.deep.equal(ids.map((_, index) => start + index));
}
