// Second baseline for the HTTPS benchmark: the framework's floor. Fastify with the same TLS policy and
// certificate, parsing the same JSON body and answering a small JSON document, with no auth, audit or crypto.
// Usage: node fastify-echo-server.js CERT KEY PORT [WORKERS]
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { serverTlsOptions } from '../dist/http/tls.js';
import { runClustered } from './clustered.js';

const [certFile, keyFile, port, workers = '1'] = process.argv.slice(2);
await runClustered(Number(workers), async () => {
  const app = Fastify({ https: serverTlsOptions({ certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') }) });
  app.post('/', async (request) => ({ ok: true, bytes: JSON.stringify(request.body).length }));
  await app.listen({ port: Number(port), host: '127.0.0.1' });
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
});
