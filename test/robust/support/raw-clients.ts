// Misbehaving clients on raw TCP sockets: one that sends its request a byte at a time, one
// that connects and says nothing, one that keeps a connection open after its response, and
// one that leaves in the middle of a body.
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

export interface CutOff {
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
  bytesSent: number;
  /** What the server sent before closing (e.g. a 408). */
  received: string;
}

/** Sends `request` one byte every `intervalMs` until the server closes the connection (or `giveUpMs`). */
export function slowloris(port: number, request: string, intervalMs: number, giveUpMs: number): Promise<CutOff> {
  return new Promise((resolve) => {
    const started = Date.now();
    let bytesSent = 0;
    let received = '';
    const sendOne = () => {
      if (bytesSent < request.length && socket.writable) socket.write(request[bytesSent++]);
    };
    const socket = net.connect(port, '127.0.0.1', sendOne);
    const timer = setInterval(sendOne, intervalMs);
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, bytesSent, received });
    });
  });
}

/** Connects and sends nothing; resolves when the server closes the connection (or after `giveUpMs`). */
export function silentConnection(port: number, giveUpMs: number): Promise<CutOff> {
  return slowloris(port, '', 1000, giveUpMs);
}

export interface IdleConnection {
  /** When the response to its one request had fully arrived. */
  answeredAt: number;
  /** Resolves with the time the server closed the connection. */
  closed: Promise<number>;
  isOpen(): boolean;
  destroy(): void;
}

/** Opens a keep-alive connection, sends one GET and reads the whole response, then leaves the connection idle. */
export function idleKeepAlive(port: number, path: string): Promise<IdleConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    });
    let open = true;
    let buffer = Buffer.alloc(0);
    const closed = new Promise<number>((done) => socket.on('close', () => {
      open = false;
      done(Date.now());
    }));
    socket.on('error', (error) => {
      if (open) reject(error);
    });
    socket.on('data', function onData(chunk: Buffer) {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(buffer.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      if (!/^HTTP\/1\.1 200/.test(buffer.toString('latin1'))) reject(new Error(`unexpected answer: ${buffer.toString('latin1').slice(0, 100)}`));
      socket.off('data', onData);
      resolve({ answeredAt: Date.now(), closed, isOpen: () => open, destroy: () => socket.destroy() });
    });
  });
}

/**
 * Sends the head of a request and `sendBytes` of its `body` (which the head announces in
 * full), slowly enough that the server starts on it, then leaves: with a reset (`destroy`)
 * or a polite half-close (`end`).
 */
export async function abandonUpload(port: number, head: Buffer, body: Buffer, sendBytes: number, leave: 'destroy' | 'end'): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  // Whatever the server answers is read and dropped, so its closing of the connection is seen.
  socket.resume();
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(head);
  const chunk = 64 * 1024;
  for (let sent = 0; sent < sendBytes && !socket.destroyed; sent += chunk) {
    socket.write(body.subarray(sent, Math.min(sendBytes, sent + chunk)));
    await delay(5);
  }
  await delay(50);
  if (leave === 'destroy') socket.destroy();
  else socket.end();
  await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}

/** This shell's soft limit on open files (`ulimit -n`), or undefined when it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text) || undefined;
  } catch {
    return undefined;
  }
}
