// Mutual TLS cost: Encrypt of 1 KiB over HTTPS with keep-alive on a server with `tlsClientAuth=required` (the client
// authenticates by its certificate from the built-in CA) against a server with server-only TLS (`off`, bearer
// token), measured in the same run in interleaved rounds; and new TLS handshakes per second (full handshakes, no
// resumption: the server issues no tickets) with and without a client certificate.
import { connect } from 'node:tls';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { CONNECTIONS, DURATION, ROOT, ROUNDS, post, startProcess } from './http-load.js';
import { fmt, median, printTable } from './stats.js';

function loadWith(url, body, headers, tlsOptions) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', body, headers, connections: CONNECTIONS, duration: DURATION, tlsOptions }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    });
  });
}

/** Full TLS handshakes per second from `concurrency` parallel loops for `seconds`. */
async function handshakes(port, tlsOptions, seconds = DURATION, concurrency = 16) {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...tlsOptions });
      socket.once('secureConnect', () => {
        done++;
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        failed++;
        resolve();
      });
    });
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) await one();
  }));
  if (failed > 0) throw new Error(`${failed} handshakes failed`);
  return done / ((Date.now() - started) / 1000);
}

export async function benchMtls() {
  const dirs = [await mkdtemp(join(tmpdir(), 'dd-bench-mtls-')), await mkdtemp(join(tmpdir(), 'dd-bench-tls-'))];
  const ports = [21443, 22443].map((p) => p + Math.floor(Math.random() * 1000));
  const serve = (i, mode) => startProcess([join(ROOT, 'bin/datadefender.js'), 'server', '--dev', '--workers', '1', '--data-dir', dirs[i], '--listen', `127.0.0.1:${ports[i]}`], 'ready', { DATADEFENDER_TLS_CLIENT_AUTH: mode });
  let mtls = await serve(0, 'optional');
  const plain = await serve(1, 'off');
  try {
    const creds = await Promise.all(dirs.map(async (d) => {
      const c = JSON.parse(await readFile(join(d, 'dev-credentials.json'), 'utf8'));
      c.ca = await readFile(c.caCertFile);
      return c;
    }));
    const issued = await post(creds[0], '/v1/pki/certificates', { profile: 'client', principal: 'admin' });
    const keys = await Promise.all(creds.map((c) => post(c, '/v1/keys', { description: 'bench' })));
    mtls.kill('SIGTERM');
    await new Promise((r) => mtls.once('exit', r));
    mtls = await serve(0, 'required');
    const clientTls = { ca: creds[0].ca, cert: issued.certificatePem, key: issued.privateKeyPem };
    const bodyFor = (k) => JSON.stringify({ keyId: k.key.keyId, plaintext: Buffer.alloc(1024, 7).toString('base64'), encryptionContext: { tenant: 'bench' } });
    const results = { mtls: [], tls: [], hsMtls: [], hsTls: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.tls.push(await loadWith(`https://127.0.0.1:${ports[1]}/v1/encrypt`, bodyFor(keys[1]), { authorization: `Bearer ${creds[1].token}`, 'content-type': 'application/json' }, {}));
      results.mtls.push(await loadWith(`https://127.0.0.1:${ports[0]}/v1/encrypt`, bodyFor(keys[0]), { 'content-type': 'application/json' }, clientTls));
      results.hsTls.push(await handshakes(ports[1], { ca: creds[1].ca }));
      results.hsMtls.push(await handshakes(ports[0], clientTls));
    }
    const s = (rs) => ({ rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)) });
    const tls = s(results.tls);
    const m = s(results.mtls);
    printTable(`Encrypt 1 KiB, keep-alive, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${DURATION}s rounds`, [
      ['target', 'req/s', 'p50 ms', 'p99 ms'],
      ['server-only TLS, bearer token (baseline)', fmt(tls.rps), fmt(tls.p50, 1), fmt(tls.p99, 1)],
      ['mTLS required, client certificate auth', fmt(m.rps), fmt(m.p50, 1), fmt(m.p99, 1)],
    ]);
    const hsTls = median(results.hsTls);
    const hsMtls = median(results.hsMtls);
    printTable('New TLS handshakes per second (full handshakes, 16 parallel, ECDSA P-256, X25519)', [
      ['target', 'handshakes/s'],
      ['server-only TLS', fmt(hsTls)],
      ['mTLS required (client certificate verified, CRL checked)', fmt(hsMtls)],
    ]);
    const ratio = m.rps / tls.rps;
    console.log(`  ratio mTLS Encrypt / server-only TLS Encrypt: ${ratio.toFixed(2)}x  (target >= 0.90x)`);
    console.log(`  ratio mTLS handshakes / server-only handshakes: ${(hsMtls / hsTls).toFixed(2)}x`);
    return { tls, mtls: m, ratio, handshakes: { tls: hsTls, mtls: hsMtls } };
  } finally {
    for (const child of [mtls, plain]) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}
