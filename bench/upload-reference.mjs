// The floor for the upload-memory figure: a bare node:http server that streams every
// request body straight to a file (no multipart parsing, no database), answers 201 and
// deletes the file. What its RSS grows by is what Node's own streaming costs on this
// machine; whatever Dana grows by beyond that is Dana's.
//
//   node bench/upload-reference.mjs --dir <scratch folder> [--port 0]
//
// Prints one line of JSON, {"port": N}, once it listens.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { dir: { type: 'string' }, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});
if (!args.dir) {
  process.stderr.write('usage: node bench/upload-reference.mjs --dir <folder> [--port N]\n');
  process.exit(2);
}
fs.mkdirSync(args.dir, { recursive: true });

let next = 0;
const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end('{"detail":"Not Found"}');
    return;
  }
  const file = path.join(args.dir, `upload-${process.pid}-${next++}.bin`);
  try {
    const out = fs.createWriteStream(file, { flags: 'wx' });
    await pipeline(req, out);
    const body = JSON.stringify({ file_size: out.bytesWritten });
    res.writeHead(201, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  } catch {
    res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end('{"detail":"Internal Server Error"}');
  } finally {
    fs.rm(file, { force: true }, () => undefined);
  }
});

server.listen(Number(args.port), args.host, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}
