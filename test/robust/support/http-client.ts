// A small HTTP client over node:http for the robustness checks: exact bytes out, status,
// headers, body and duration back, on pooled keep-alive connections or a fresh one.
import http from 'node:http';
import { multipartBody, type Part } from '../../helpers/http.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  ms: number;
}

export interface Outgoing {
  method: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  /** A JSON value to send as application/json. */
  json?: unknown;
  /** Exact body bytes (Content-Length is set to their length unless given). */
  body?: Buffer;
  timeoutMs?: number;
}

export class HttpClient {
  private readonly url: URL;
  private readonly agent: http.Agent | false;

  /** `maxSockets` pooled keep-alive connections, or a fresh connection per request with 0. */
  constructor(baseUrl: string, maxSockets = 1) {
    this.url = new URL(baseUrl);
    this.agent = maxSockets > 0 ? new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 60_000 }) : false;
  }

  request(outgoing: Outgoing): Promise<Reply> {
    const headers: http.OutgoingHttpHeaders = { ...outgoing.headers };
    let body = outgoing.body;
    if (outgoing.json !== undefined) {
      body = Buffer.from(JSON.stringify(outgoing.json));
      headers['content-type'] ??= 'application/json';
    }
    if (body && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = body.length;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = http.request({
        host: this.url.hostname, port: this.url.port, method: outgoing.method, path: outgoing.path, headers, agent: this.agent,
      });
      req.setTimeout(outgoing.timeoutMs ?? 60_000, () => req.destroy(new Error(`${outgoing.method} ${outgoing.path}: no answer in time`)));
      req.on('response', (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve(toReply(res.statusCode ?? 0, res.headers, Buffer.concat(parts), performance.now() - started)));
      });
      // A server that answers early (413, 415) and closes may break our unfinished write:
      // the answer is what counts.
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      req.end(body);
    });
  }

  /** POSTs a multipart/form-data upload with `file` named `filename`, and text fields. */
  upload(filename: string, data: Buffer | string, fields: Record<string, string> = {}, path = '/api/documents/upload'): Promise<Reply> {
    const parts: Part[] = [...Object.entries(fields).map(([name, value]) => ({ name, data: value })), { name: 'file', filename, data }];
    const { body, contentType } = multipartBody(parts);
    return this.request({ method: 'POST', path, headers: { 'content-type': contentType }, body });
  }

  close(): void {
    if (this.agent) this.agent.destroy();
  }
}

function toReply(status: number, headers: http.IncomingHttpHeaders, body: Buffer, elapsedMs: number): Reply {
  const text = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, body, text, json, ms: elapsedMs };
}
