// Latency under load (issue #8): AWS-API Encrypt of 1 KiB, SigV4, keep-alive, against `datadefender server --dev`.
// 1. Unloaded: one request at a time on one connection; p50 of BENCH_UNLOADED_REQUESTS (default 2,000).
// 2. Maximum rate: closed loop with autocannon (BENCH_CONNECTIONS connections), median of BENCH_ROUNDS rounds.
// 3. Open loop at 50% of that maximum: requests are started on a fixed schedule whatever the server does (a
//    wrk2-style generator, not autocannon's closed loop), over up to 256 keep-alive connections, and each latency is
//    measured from the moment the request was due, so queueing behind a slow response counts (no coordinated
//    omission; http-load.js openLoop); a 3 s warm-up at the same rate opens the connections first. Prints p50 / p99 / p99.9. Target: open-loop p99 <= 5x the unloaded p50.
import { Agent } from 'node:https';
import { availableParallelism } from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, DURATION, ROOT, ROUNDS, awsCall, load, openLoop, sendTimed as send, signedAwsHeaders, startProcess } from './http-load.js';
import { fmt, median, percentile, printTable } from './stats.js';

const UNLOADED_REQUESTS = Number(process.env.BENCH_UNLOADED_REQUESTS ?? 2000);
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_SECONDS ?? 15);
const WORKERS = Number(process.env.BENCH_WORKERS ?? availableParallelism());

async function unloaded(target) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  for (let i = 0; i < UNLOADED_REQUESTS; i++) latencies.push(await send(agent, target, performance.now()));
  agent.destroy();
  return percentile(latencies.sort((a, b) => a - b), 50);
}

/** `seconds` of open-loop load at `rate` (http-load.js openLoop): p50, p99 and p99.9 from each request's due time. */
async function openLoopFor(agent, target, rate, seconds) {
  const run = openLoop(agent, target, rate, Math.round(rate * seconds));
  await run.finished;
  const sorted = (await run.stop()).map((s) => s.ms).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), requests: sorted.length };
}

export async function benchOpenLoop() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-open-'));
  const port = 23443 + Math.floor(Math.random() * 1000);
  const server = await startProcess([join(ROOT, 'bin/datadefender.js'), 'server', '--dev', '--workers', String(WORKERS), '--data-dir', dir, '--listen', `127.0.0.1:${port}`], 'ready');
  try {
    const creds = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8'));
    creds.ca = await readFile(creds.caCertFile);
    const { KeyMetadata } = await awsCall(creds, 'CreateKey', { Description: 'bench open loop' });
    const body = JSON.stringify({ KeyId: KeyMetadata.KeyId, Plaintext: Buffer.alloc(1024, 7).toString('base64'), EncryptionContext: { tenant: 'bench' } });
    const headers = await signedAwsHeaders(creds, 'Encrypt', body);
    const target = { url: new URL('/', creds.endpoint), ca: creds.ca, body, headers: { ...headers, 'content-length': Buffer.byteLength(body) } };

    const idleP50 = await unloaded(target);
    const maxRates = [];
    for (let round = 0; round < ROUNDS; round++) maxRates.push((await load(creds.endpoint + '/', body, headers)).rps);
    const maxRate = median(maxRates);
    const offered = Math.round(maxRate / 2);
    // Connections are opened during a warm-up at the same rate (TLS handshakes are not what is measured), then kept.
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    await openLoopFor(agent, target, offered, 3);
    const r = await openLoopFor(agent, target, offered, OPEN_LOOP_SECONDS);
    agent.destroy();
    printTable(`Latency under load: AWS-API Encrypt, 1 KiB, SigV4, ${WORKERS} worker(s); open loop at 50% of the closed-loop maximum`, [
      ['measure', 'value'],
      ['unloaded p50 (1 connection, one request at a time)', `${fmt(idleP50, 2)} ms`],
      [`maximum rate (closed loop, ${CONNECTIONS} connections, median of ${ROUNDS} ${DURATION}s rounds)`, `${fmt(maxRate)} req/s`],
      [`offered rate (open loop, ${OPEN_LOOP_SECONDS} s, ${fmt(r.requests)} requests)`, `${fmt(offered)} req/s`],
      ['open-loop p50', `${fmt(r.p50, 2)} ms`],
      ['open-loop p99', `${fmt(r.p99, 2)} ms`],
      ['open-loop p99.9', `${fmt(r.p999, 2)} ms`],
    ]);
    console.log(`  ratio open-loop p99 / unloaded p50: ${(r.p99 / idleP50).toFixed(1)}x  (target <= 5x)`);
    return { idleP50, maxRate, offered, ...r };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await rm(dir, { recursive: true, force: true });
  }
}
