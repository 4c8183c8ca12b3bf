// Baseline for the HTTPS benchmark: the same TLS policy and certificate as DataDefender, a handler that
// reads the body and answers a small JSON document. Usage: node trivial-https-server.js CERT KEY PORT [WORKERS]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { serverTlsOptions } from '../dist/http/tls.js';
import { runClustered } from './clustered.js';

const [certFile, keyFile, port, workers = '1'] = process.argv.slice(2);

function answer(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({ ok: true, bytes: Buffer.concat(chunks).length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

await runClustered(Number(workers), () => new Promise((resolve) => {
  const server = createServer(serverTlsOptions({ certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') }), answer);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(port), '127.0.0.1', resolve);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}));
