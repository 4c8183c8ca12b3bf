// Second baseline for the HTTPS benchmark: the framework's floor. Fastify with the same TLS policy and
// certificate, parsing the same JSON body and answering a small JSON document, with no auth, audit or crypto.
// Usage: node fastify-echo-server.js CERT KEY PORT
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { serverTlsOptions } from '../dist/http/tls.js';

const [certFile, keyFile, port] = process.argv.slice(2);
const app = Fastify({ https: serverTlsOptions({ certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') }) });
app.post('/', async (request) => ({ ok: true, bytes: JSON.stringify(request.body).length }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
