// HTTP at the byte level, for what fetch() cannot do: bodies streamed chunk by chunk (with
// the response read while the client is still sending), raw socket exchanges (truncated
// bodies, exact bytes) and hand-built multipart/form-data bodies.
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface StreamedRequest {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  /** The body, written one chunk at a time (each write waits for the socket to drain). */
  chunks?: Iterable<Buffer>;
  /** A pause after each chunk, so the server sees the body arrive over time. */
  pauseMs?: number;
  /** Called after each chunk is written, with the bytes written so far. */
  onChunk?: (bytesSent: number) => void | Promise<void>;
}

export interface StreamedResponse extends RawResponse {
  /** Body bytes the client had written when the response began to arrive. */
  bytesSentAtResponse: number;
  bytesSent: number;
}

/**
 * A request whose body is streamed with node:http. The response is read as soon as it
 * arrives, even while the body is still being sent; the rest of the body is sent anyway,
 * as a real client would. Rejects if the connection is reset before a whole response.
 */
export function streamRequest(baseUrl: string, request: StreamedRequest): Promise<StreamedResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    let bytesSentAtResponse = -1;
    let settled = false;
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: request.method ?? 'POST',
      path: request.path,
      headers: request.headers,
      agent: false,
    });
    req.on('response', (res) => {
      bytesSentAtResponse = bytesSent;
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        settled = true;
        resolve({ ...toRawResponse(res.statusCode ?? 0, res.headers, Buffer.concat(parts)), bytesSentAtResponse, bytesSent });
      });
    });
    function fail(error: Error) {
      if (settled) return;
      settled = true;
      reject(error);
    }
    req.on('error', fail);

    (async () => {
      for (const chunk of request.chunks ?? []) {
        if (req.destroyed) return;
        const flushed = req.write(chunk);
        bytesSent += chunk.length;
        if (!flushed) await drainedOrClosed(req);
        await request.onChunk?.(bytesSent);
        if (request.pauseMs) await delay(request.pauseMs);
      }
      if (!req.destroyed) req.end();
    })().catch(fail);
  });
}

function drainedOrClosed(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

export function toRawResponse(status: number, headers: http.IncomingHttpHeaders, body: Buffer): RawResponse {
  const text = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, body, text, json };
}

/** `data` cut into chunks of `size` bytes (the last may be shorter). */
export function chunksOf(data: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) chunks.push(data.subarray(offset, offset + size));
  return chunks;
}

/**
 * Writes `bytes` on a plain TCP connection, then half-closes it (`end`) and collects
 * whatever the server sends until it closes the connection (or `timeoutMs` passes).
 */
export function rawExchange(port: number, bytes: Buffer, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      socket.end();
    });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

/** A request head (request line and headers, with the blank line) for `rawExchange`. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export interface Part {
  name: string;
  /** A string is sent as UTF-8; a Buffer is sent byte for byte (control bytes included). */
  filename?: string | Buffer;
  contentType?: string;
  data: Buffer | string;
}

export interface MultipartBody {
  body: Buffer;
  contentType: string;
  boundary: string;
}

/** A multipart/form-data body built by hand, byte for byte. */
export function multipartBody(parts: Part[], boundary = `----DanaTestBoundary${randomBytes(8).toString('hex')}`): MultipartBody {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`, 'utf8'));
    if (part.filename !== undefined) {
      pieces.push(Buffer.from('; filename="'), Buffer.from(part.filename), Buffer.from('"'));
    }
    pieces.push(Buffer.from('\r\n'));
    if (part.contentType ?? (part.filename !== undefined ? 'application/octet-stream' : undefined)) {
      pieces.push(Buffer.from(`Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n`));
    }
    pieces.push(Buffer.from('\r\n'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}`, boundary };
}

/** One request with headers fetch() will not send (Host, Origin: null) and a whole body. */
export function sendRequest(
  baseUrl: string,
  request: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer },
): Promise<StreamedResponse> {
  const { body, ...rest } = request;
  const chunks = body === undefined ? [] : [Buffer.from(body)];
  const headers = { ...(body === undefined ? {} : { 'content-length': chunks[0].length }), ...request.headers };
  return streamRequest(baseUrl, { method: 'GET', ...rest, headers, chunks });
}

/**
 * Sends `bytes` on a plain TCP connection without ending it (a client that falls silent) and
 * collects what the server sends until it closes the connection or `timeoutMs` passes.
 */
export function silentExchange(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}
