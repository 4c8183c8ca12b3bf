// Rotation and deletion at scale (issue #8 item 3): BENCH_JOB_KEYS keys (default 100,000) come due for automatic
// rotation at once, then reach their deletion date at once, while an open-loop Encrypt load runs against the same
// `datadefender server --dev` (SQLite, BENCH_JOB_WORKERS workers, default 1: the job shares the request thread).
// For each job: Encrypt p99 idle (just before), p99 while the job runs (requests due between the first and the
// last key processed), their ratio (target <= 2x), the job's rate in keys/s, and that every key was processed.
// Load: native REST POST /v1/encrypt of 1 KiB, BENCH_JOB_RATE requests per second (default 200) started on a fixed
// schedule over keep-alive connections; latency counts from each request's due time (no coordinated omission).
// Keys are made due with SQL on the database file (next_rotation_at, then state/deletion_at), as time passing would.
// Env: BENCH_JOB_KEYS, BENCH_JOB_RATE, BENCH_JOB_IDLE_SECONDS (default 10), BENCH_JOB_WORKERS, BENCH_JOB_BATCH
// (jobBatchSize, default the server's), BENCH_JOB_PAUSE_MS (jobBatchPauseMs, default the server's).
import { Agent } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT, openLoop, post, startProcess } from './http-load.js';
import { fmt, percentile, printTable } from './stats.js';
import { seedKeys } from './seed-keys.js';

const KEYS = Number(process.env.BENCH_JOB_KEYS ?? 100_000);
const RATE = Number(process.env.BENCH_JOB_RATE ?? 200);
const IDLE_SECONDS = Number(process.env.BENCH_JOB_IDLE_SECONDS ?? 10);
const WORKERS = Number(process.env.BENCH_JOB_WORKERS ?? 1);
const TIMEOUT_MS = 30 * 60_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const latencyOf = (samples) => {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/**
 * One job phase: idle p99, then `makeDue()` and the same load until `remaining()` is 0. The job's window runs from
 * the first poll that sees fewer than `total` keys left to the first that sees none.
 */
async function phase(name, agent, target, total, makeDue, remaining) {
  const idle = openLoop(agent, target, RATE);
  await sleep(IDLE_SECONDS * 1000);
  const idleLatency = latencyOf(await idle.stop());

  const load = openLoop(agent, target, RATE);
  await sleep(1000);
  makeDue();
  const dueAt = performance.now();
  let started;
  let left = total;
  while (left > 0 && performance.now() - dueAt < TIMEOUT_MS) {
    await sleep(200);
    left = remaining();
    if (started === undefined && left < total) started = performance.now();
  }
  const finished = performance.now();
  await sleep(1000);
  const samples = await load.stop();
  const during = samples.filter((s) => s.dueAt >= (started ?? dueAt) && s.dueAt <= finished);
  const seconds = (finished - (started ?? dueAt)) / 1000;
  const busy = latencyOf(during);
  return { name, idleP99: idleLatency.p99, idleP50: idleLatency.p50, busyP99: busy.p99, busyP50: busy.p50, requests: during.length, seconds, rate: (total - left) / seconds, done: total - left, total };
}

export async function benchJobsAtScale() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-jobs-'));
  const port = 24443 + Math.floor(Math.random() * 1000);
  const env = {
    DATADEFENDER_JOB_INTERVAL_SECONDS: '1',
    ...(process.env.BENCH_JOB_BATCH ? { DATADEFENDER_JOB_BATCH_SIZE: process.env.BENCH_JOB_BATCH } : {}),
    ...(process.env.BENCH_JOB_PAUSE_MS ? { DATADEFENDER_JOB_BATCH_PAUSE_MS: process.env.BENCH_JOB_PAUSE_MS } : {}),
  };
  const args = [join(ROOT, 'bin/datadefender.js'), 'server', '--dev', '--workers', String(WORKERS), '--data-dir', dir, '--listen', `127.0.0.1:${port}`];
  const server = await startProcess(args, 'ready', env);
  const db = new Database(join(dir, 'datadefender.db'));
  db.pragma('busy_timeout = 10000');
  try {
    const creds = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8'));
    creds.ca = await readFile(creds.caCertFile);
    const { key } = await post(creds, '/v1/keys', { description: 'bench encrypt' });
    const loadStart = loadavg()[0];
    const seedStart = performance.now();
    await seedKeys({ dataDir: dir, storage: 'sqlite', count: KEYS, sampleSize: 1 });
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const body = JSON.stringify({ keyId: key.keyId, plaintext: Buffer.alloc(1024, 7).toString('base64'), encryptionContext: { tenant: 'bench' } });
    const target = {
      url: new URL('/v1/encrypt', creds.endpoint),
      ca: creds.ca,
      body,
      headers: { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    };
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const warm = openLoop(agent, target, RATE);
    await sleep(3000);
    await warm.stop();

    const others = `id <> '${key.keyId}'`;
    const count = (where) => db.prepare(`select count(*) as n from keys where ${others} and ${where}`).get().n;
    const rotation = await phase(
      'automatic rotation',
      agent,
      target,
      count(`state = 'Enabled'`),
      () => db.prepare(`update keys set next_rotation_at = ? where ${others} and state = 'Enabled'`).run(Date.now() - 1000),
      () => count(`state = 'Enabled' and next_rotation_at <= ${Date.now()}`),
    );
    const rotatedOnce = db.prepare(`select count(*) as n from keys where ${others} and current_version = 2`).get().n;
    const deletion = await phase(
      'scheduled deletion',
      agent,
      target,
      count(`state = 'Enabled'`),
      () => db.prepare(`update keys set state = 'PendingDeletion', pending_window_days = 7, deletion_at = ? where ${others} and state = 'Enabled'`).run(Date.now() - 1000),
      () => count(`state = 'PendingDeletion'`),
    );
    const versionsLeft = db.prepare(`select count(*) as n from key_versions where key_id <> ?`).get(key.keyId).n;
    agent.destroy();

    printTable(
      `Rotation and deletion at scale: ${fmt(KEYS)} keys due at once (seeded in ${fmt(seedSeconds, 1)} s), SQLite, ${WORKERS} worker(s); ` +
        `Encrypt (native API, 1 KiB) open loop at ${fmt(RATE)} req/s`,
      [
        ['job', 'keys done', 'time', 'rate', 'idle p50 / p99', 'p50 / p99 during job', 'p99 ratio (target <= 2x)'],
        ...[rotation, deletion].map((r) => [
          r.name,
          `${fmt(r.done)} / ${fmt(r.total)}`,
          `${fmt(r.seconds, 1)} s`,
          `${fmt(r.rate)} keys/s`,
          `${fmt(r.idleP50, 2)} / ${fmt(r.idleP99, 2)} ms`,
          `${fmt(r.busyP50, 2)} / ${fmt(r.busyP99, 2)} ms (${fmt(r.requests)} req)`,
          `${(r.busyP99 / r.idleP99).toFixed(2)}x`,
        ]),
      ],
    );
    console.log(`  load average (1 min) at start / end: ${loadStart.toFixed(1)} / ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);
    console.log(`  every key rotated exactly once: ${rotatedOnce === rotation.total ? 'yes' : `NO (${rotatedOnce} of ${rotation.total})`}; ` +
      `every deleted key's material destroyed: ${versionsLeft === 0 ? 'yes' : `NO (${versionsLeft} versions left)`}`);
    return { rotation, deletion, rotatedOnce, versionsLeft };
  } finally {
    db.close();
    server.kill('SIGTERM');
    await sleep(500);
    await rm(dir, { recursive: true, force: true });
  }
}
