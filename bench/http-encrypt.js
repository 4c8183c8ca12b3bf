// Encrypt of 1 KiB over HTTPS with keep-alive — native API (bearer token) and AWS API (SigV4) — and AWS-API
// GenerateDataKey, against a trivial HTTPS handler with the same TLS policy and certificate, measured in the same
// run in interleaved rounds. Servers and load generator are separate processes. `workers` > 1 runs every server
// with that many worker processes on its listener (`datadefender server --workers N`, node:cluster for the
// baselines). AWS requests are signed once by the official signer (@smithy/signature-v4) and
// replayed: the server verifies the full signature on every request (a signature stays valid for 5 minutes).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, DURATION, ROOT, ROUNDS, load, post, signedAwsHeaders, startProcess } from './http-load.js';
import { fmt, median, printTable } from './stats.js';

export async function benchHttpEncrypt(workers = 1) {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-'));
  const ports = [18443, 19443, 20443].map((p) => p + Math.floor(Math.random() * 1000));
  const dd = await startProcess([join(ROOT, 'bin/datadefender.js'), 'server', '--dev', '--workers', String(workers), '--data-dir', dir, '--listen', `127.0.0.1:${ports[0]}`], 'ready');
  const tlsFiles = [join(dir, 'tls/server.pem'), join(dir, 'tls/server-key.pem')];
  const trivial = await startProcess([join(ROOT, 'bench/trivial-https-server.js'), ...tlsFiles, String(ports[1]), String(workers)], 'ready');
  const fastify = await startProcess([join(ROOT, 'bench/fastify-echo-server.js'), ...tlsFiles, String(ports[2]), String(workers)], 'ready');
  try {
    const creds = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8'));
    creds.ca = await readFile(creds.caCertFile);
    const { key } = await post(creds, '/v1/keys', { description: 'bench' });
    const body = JSON.stringify({ keyId: key.keyId, plaintext: Buffer.alloc(1024, 7).toString('base64'), encryptionContext: { tenant: 'bench' } });
    const headers = { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json' };
    const awsEncryptBody = JSON.stringify({ KeyId: key.keyId, Plaintext: Buffer.alloc(1024, 7).toString('base64'), EncryptionContext: { tenant: 'bench' } });
    const awsDataKeyBody = JSON.stringify({ KeyId: key.keyId, NumberOfBytes: 32, EncryptionContext: { tenant: 'bench' } });
    const results = { trivial: [], fastify: [], encrypt: [], awsEncrypt: [], awsDataKey: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.trivial.push(await load(`https://127.0.0.1:${ports[1]}/`, body, headers));
      results.fastify.push(await load(`https://127.0.0.1:${ports[2]}/`, body, headers));
      results.encrypt.push(await load(`https://127.0.0.1:${ports[0]}/v1/encrypt`, body, headers));
      // Signed per round: each signature is replayed for DURATION seconds, well inside the 5-minute window.
      results.awsEncrypt.push(await load(`https://127.0.0.1:${ports[0]}/`, awsEncryptBody, await signedAwsHeaders(creds, 'Encrypt', awsEncryptBody)));
      results.awsDataKey.push(await load(`https://127.0.0.1:${ports[0]}/`, awsDataKeyBody, await signedAwsHeaders(creds, 'GenerateDataKey', awsDataKeyBody)));
    }
    const summary = Object.fromEntries(
      Object.entries(results).map(([name, rs]) => [name, { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)) }]),
    );
    printTable(`HTTPS, 1 KiB body, keep-alive, ${workers} worker process${workers > 1 ? 'es' : ''} per server, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${DURATION}s rounds`, [
      ['target', 'req/s', 'p50 ms', 'p99 ms'],
      ['trivial HTTPS handler (baseline)', fmt(summary.trivial.rps), fmt(summary.trivial.p50, 1), fmt(summary.trivial.p99, 1)],
      ['Fastify JSON echo (framework floor)', fmt(summary.fastify.rps), fmt(summary.fastify.p50, 1), fmt(summary.fastify.p99, 1)],
      ['POST /v1/encrypt (native API)', fmt(summary.encrypt.rps), fmt(summary.encrypt.p50, 1), fmt(summary.encrypt.p99, 1)],
      ['AWS API Encrypt (SigV4)', fmt(summary.awsEncrypt.rps), fmt(summary.awsEncrypt.p50, 1), fmt(summary.awsEncrypt.p99, 1)],
      ['AWS API GenerateDataKey (SigV4)', fmt(summary.awsDataKey.rps), fmt(summary.awsDataKey.p50, 1), fmt(summary.awsDataKey.p99, 1)],
    ]);
    const ratio = summary.encrypt.rps / summary.trivial.rps;
    const awsRatio = summary.awsEncrypt.rps / summary.trivial.rps;
    const dataKeyRatio = summary.awsDataKey.rps / summary.awsEncrypt.rps;
    console.log(`  ratio native encrypt / trivial: ${ratio.toFixed(2)}x  (target >= 0.50x)`);
    // Issue #3 asks >= 0.4x of one process; issue #8 asks >= 0.5x with N workers against the baseline with N workers.
    console.log(`  ratio AWS Encrypt / trivial: ${awsRatio.toFixed(2)}x  (target >= ${workers > 1 ? '0.50' : '0.40'}x)`);
    if (workers > 1) console.log(`  ratio AWS GenerateDataKey / trivial: ${(summary.awsDataKey.rps / summary.trivial.rps).toFixed(2)}x  (target >= 0.50x)`);
    console.log(`  ratio AWS GenerateDataKey / AWS Encrypt: ${dataKeyRatio.toFixed(2)}x  (target >= 0.90x)`);
    console.log(`  ratio Fastify echo / trivial: ${(summary.fastify.rps / summary.trivial.rps).toFixed(2)}x, native encrypt / Fastify echo: ${(summary.encrypt.rps / summary.fastify.rps).toFixed(2)}x`);
    return { ...summary, ratio, awsRatio, dataKeyRatio };
  } finally {
    for (const child of [dd, trivial, fastify]) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await rm(dir, { recursive: true, force: true });
  }
}
