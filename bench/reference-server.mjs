// The benchmark's yardstick: the four routes the benchmark measures, served with bare
// node:http and better-sqlite3, running the same SQL as Dana and answering with the same
// JSON, status codes and headers. Whatever Dana spends beyond this is framework overhead.
//
//   node bench/reference-server.mjs --db <local.db> --uploads <upload folder> [--port 0]
//
// Prints one line of JSON, {"port": N}, once it listens. It opens the same SQLite file as a
// running Dana (WAL lets both read; a write waits for the other's lock, busy_timeout).
//
// SQL, as Dana runs it (src/core/services/support.ts readById/readPage, models.ts inserts):
//   SELECT * FROM agents WHERE id = ?
//   SELECT COUNT(*) AS total FROM agents  +  SELECT * FROM agents ORDER BY id LIMIT ? OFFSET ?
//   insert into agents (config, created_at, description, name, updated_at) values (?, ?, ?, ?, ?)
//   SELECT * FROM documents WHERE id = ?   (then the file under the upload folder)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    uploads: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!args.db || !args.uploads) {
  process.stderr.write('usage: node bench/reference-server.mjs --db <local.db> --uploads <dir> [--port N]\n');
  process.exit(2);
}

const db = new Database(args.db);
db.pragma('busy_timeout = 10000');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');

const uploadRoot = path.resolve(args.uploads);
const statements = {
  agentById: db.prepare('SELECT * FROM agents WHERE id = ?'),
  agentCount: db.prepare('SELECT COUNT(*) AS total FROM agents'),
  agentPage: db.prepare('SELECT * FROM agents ORDER BY id LIMIT ? OFFSET ?'),
  agentInsert: db.prepare('insert into agents (config, created_at, description, name, updated_at) values (?, ?, ?, ?, ?)'),
  documentById: db.prepare('SELECT * FROM documents WHERE id = ?'),
};

const MAX_JSON_BYTES = 10 * 1024 * 1024;
const POSITIVE_INTEGER = /^[1-9]\d{0,15}$/;

function agentToApi(row) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    config: JSON.parse(row.config),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Vary: 'Origin',
    ...headers,
  });
  res.end(body);
}

function validationError(res, loc, msg, type) {
  sendJson(res, 422, { detail: [{ loc, msg, type }] });
}

// --- GET /api/agents/{id}
function getAgent(res, id) {
  const row = statements.agentById.get(id);
  if (!row) return sendJson(res, 404, { detail: 'Agent not found' });
  sendJson(res, 200, agentToApi(row));
}

// --- GET /api/agents/?skip=&limit=
function listAgents(res, searchParams) {
  const skipText = searchParams.get('skip') || '0';
  const limitText = searchParams.get('limit') || '100';
  if (!/^\d+$/.test(skipText)) return validationError(res, ['query', 'skip'], 'Input should be a valid integer', 'int_parsing');
  if (!/^\d+$/.test(limitText)) return validationError(res, ['query', 'limit'], 'Input should be a valid integer', 'int_parsing');
  const skip = Number(skipText);
  const limit = Number(limitText);
  if (limit < 1 || limit > 1000) return validationError(res, ['query', 'limit'], 'Input should be between 1 and 1000', 'range');
  const total = Number(statements.agentCount.get().total);
  const rows = total > skip ? statements.agentPage.all(limit, skip) : [];
  sendJson(res, 200, rows.map(agentToApi), { 'X-Total-Count': String(total) });
}

// --- POST /api/agents/
/** Like Dana's $beforeInsert: ISO 8601 UTC ending in Z, created_at = updated_at. */
function nowIso() {
  return new Date().toISOString();
}

function createAgent(req, res) {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    req.resume();
    return sendJson(res, 415, { detail: 'Unsupported Media Type: send the body as application/json (UTF-8)' });
  }
  const chunks = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_JSON_BYTES && !refused) {
      refused = true;
      sendJson(res, 413, { detail: 'Request body too large. Maximum size is 10MB' });
    }
    if (!refused) chunks.push(chunk);
  });
  req.on('end', () => {
    if (refused) return;
    let input;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return sendJson(res, 400, { detail: 'Malformed JSON body' });
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      return validationError(res, ['body'], 'Input should be an object', 'object_type');
    }
    for (const key of Object.keys(input)) {
      if (!['name', 'description', 'config'].includes(key)) return validationError(res, ['body', key], 'Extra inputs are not permitted', 'extra_forbidden');
    }
    const name = typeof input.name === 'string' ? input.name.trim() : input.name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 200) {
      return validationError(res, ['body', 'name'], 'String should have 1 to 200 characters', 'string_type');
    }
    if (typeof input.description !== 'string') return validationError(res, ['body', 'description'], 'Input should be a valid string', 'string_type');
    const { config } = input;
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      return validationError(res, ['body', 'config'], 'Input should be a valid object', 'object_type');
    }
    const createdAt = nowIso();
    let result;
    try {
      result = statements.agentInsert.run(JSON.stringify(config), createdAt, input.description, name, createdAt);
    } catch (error) {
      process.stderr.write(`reference: insert failed: ${error.message}\n`);
      return sendJson(res, 500, { detail: 'Internal Server Error' });
    }
    const id = Number(result.lastInsertRowid);
    const agent = { id, name, description: input.description, config, created_at: createdAt, updated_at: createdAt };
    sendJson(res, 201, agent, { Location: `/api/agents/${id}` });
  });
}

// --- GET /api/documents/{id}/download
function attachmentHeader(filename) {
  const ascii = filename.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\%]/g, '_').trim() || 'download';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function downloadDocument(res, id) {
  const row = statements.documentById.get(id);
  if (!row) return sendJson(res, 404, { detail: 'Document not found' });
  const absolute = path.resolve(uploadRoot, row.file_path);
  if (!absolute.startsWith(uploadRoot + path.sep)) return sendJson(res, 404, { detail: 'Document file not found' });
  fs.open(absolute, 'r', (openError, fd) => {
    if (openError) return sendJson(res, 404, { detail: 'Document file not found' });
    fs.fstat(fd, (statError, stats) => {
      if (statError) {
        fs.close(fd, () => undefined);
        return sendJson(res, 500, { detail: 'Internal Server Error' });
      }
      res.writeHead(200, {
        'Content-Type': row.mime_type,
        'Content-Length': stats.size,
        'Content-Disposition': attachmentHeader(row.original_filename || row.filename),
        'X-Content-Type-Options': 'nosniff',
        Vary: 'Origin',
      });
      const stream = fs.createReadStream(null, { fd, autoClose: true });
      stream.on('error', () => res.destroy());
      res.on('close', () => stream.destroy());
      stream.pipe(res);
    });
  });
}

// --- routing: /api prefix optional, trailing slash optional, like Dana
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://reference');
  let route = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
  if (route.length > 1 && route.endsWith('/')) route = route.slice(0, -1);
  const parts = route.split('/');
  if (parts[1] === 'agents' && parts.length === 2) {
    if (req.method === 'GET') return listAgents(res, url.searchParams);
    if (req.method === 'POST') return createAgent(req, res);
  }
  if (parts[1] === 'agents' && parts.length === 3 && req.method === 'GET') {
    if (!POSITIVE_INTEGER.test(parts[2])) return validationError(res, ['path', 'id'], 'Input should be a positive integer', 'int_parsing');
    return getAgent(res, Number(parts[2]));
  }
  if (parts[1] === 'documents' && parts.length === 4 && parts[3] === 'download' && req.method === 'GET') {
    if (!POSITIVE_INTEGER.test(parts[2])) return validationError(res, ['path', 'id'], 'Input should be a positive integer', 'int_parsing');
    return downloadDocument(res, Number(parts[2]));
  }
  if (url.pathname === '/health') return sendJson(res, 200, { status: 'healthy', service: 'reference' });
  req.resume();
  sendJson(res, 404, { detail: 'Not Found' });
});
server.keepAliveTimeout = 5_000;

server.listen(Number(args.port), args.host, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

function stop() {
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
