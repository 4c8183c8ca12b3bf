// Encrypt over a random key out of 1,000,000 against a random key out of 1,000, in the same run, on SQLite and on
// PostgreSQL (target: >= 0.8x), and the server's resident memory with the million keys (target: < 512 MB a worker).
// For each engine: seeds 1,000 keys into one data dir (PostgreSQL: a fresh database dd_bench_<random>_small) and
// BENCH_MILLION_KEYS (default 1,000,000) into another (..._large) through the storage's bulk path (seed-keys.js),
// starts a dev server with one worker on each, and runs interleaved rounds of Encrypt (native API, 1 KiB, keep-alive)
// where every request names a key picked at random from a uniform sample of BENCH_KEY_SAMPLE (default 10,000) of the
// seeded ids (all 1,000 for the small population). RSS is VmRSS (and VmHWM, its peak) of the server process after the
// load. Databases and data dirs are removed afterwards.
// Environment: BENCH_MILLION_KEYS, BENCH_KEY_SAMPLE, BENCH_MILLION_ENGINES (sqlite,postgres), BENCH_PG_URL (an
// administrative connection; default postgres://postgres@127.0.0.1:5432/test), and BENCH_ROUNDS / BENCH_SECONDS /
// BENCH_CONNECTIONS as for every HTTPS benchmark. Needs a build (npm run build) and, for PostgreSQL, CREATEDB rights.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { CONNECTIONS, DURATION, ROOT, ROUNDS, post, startProcess } from './http-load.js';
import { seedKeys } from './seed-keys.js';
import { fmt, median, printTable } from './stats.js';

const BIN = join(ROOT, 'bin/datadefender.js');
const LARGE = Number(process.env.BENCH_MILLION_KEYS ?? 1_000_000);
const SMALL = 1000;
const SAMPLE = Number(process.env.BENCH_KEY_SAMPLE ?? 10_000);
const ENGINES = (process.env.BENCH_MILLION_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim()).filter(Boolean);
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RSS_LIMIT_MB = 512;
const PLAINTEXT = Buffer.alloc(1024, 7).toString('base64');

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Encrypt requests as a data engineer of the server whose dev credentials are in `dataDir`, over `keyIds`. */
async function encryptTarget(dataDir, keyIds) {
  const creds = JSON.parse(await readFile(join(dataDir, 'dev-credentials.json'), 'utf8'));
  const admin = { ...creds, ca: await readFile(creds.caCertFile) };
  await post(admin, '/v1/principals', { name: 'bench-engineer', roles: ['data-engineer'] });
  const { token } = await post(admin, '/v1/principals/bench-engineer/tokens', {});
  const bodies = keyIds.map((keyId) => JSON.stringify({ keyId, plaintext: PLAINTEXT }));
  return {
    url: `${admin.endpoint}/v1/encrypt`,
    headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
    bodies,
  };
}

/**
 * One closed-loop round against `target`, each request on a key drawn at random from its bodies; or, with `warm`,
 * one request per key of the sample, in order (the unmeasured warm-up: every sampled key's version is then unwrapped
 * and cached, as it is in a long-running server whose working set fits keyCacheSize).
 */
function loadRandom(target, { warm = false } = {}) {
  const { bodies } = target;
  let next = 0;
  const pick = warm ? () => bodies[next++ % bodies.length] : () => bodies[Math.floor(Math.random() * bodies.length)];
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: target.url,
        method: 'POST',
        headers: target.headers,
        connections: CONNECTIONS,
        ...(warm ? { amount: bodies.length } : { duration: DURATION }),
        requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: pick() }) }],
      },
      (err, r) => {
        if (err) return reject(err);
        if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${target.url}: ${r.non2xx} non-2xx, ${r.errors} errors`));
        resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
      },
    );
  });
}

/** Where each population lives: SQLite in its data dir, or a fresh PostgreSQL database dropped by `cleanup`. */
async function storageFor(engine, name) {
  if (engine === 'sqlite') return { storage: 'sqlite', args: [], cleanup: async () => {} };
  const db = `dd_bench_${randomBytes(4).toString('hex')}_${name}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${db}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${db}`;
  return {
    storage: { postgresUrl: url.href },
    args: ['--database-url', url.href],
    async analyze() {
      const c = new pg.Client({ connectionString: url.href });
      await c.connect();
      await c.query('analyze');
      await c.end();
    },
    async cleanup() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${db} with (force)`);
      await c.end();
    },
  };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
}

async function benchEngine(engine) {
  const dir = await mkdtemp(join(tmpdir(), `dd-bench-million-${engine}-`));
  const populations = { small: { count: SMALL }, large: { count: LARGE } };
  const children = [];
  const cleanups = [];
  try {
    for (const [name, p] of Object.entries(populations)) {
      p.dataDir = join(dir, name);
      const where = await storageFor(engine, name);
      cleanups.push(where.cleanup);
      const seeded = await seedKeys({ dataDir: p.dataDir, storage: where.storage, count: p.count, sampleSize: SAMPLE });
      await where.analyze?.();
      console.log(`  ${engine}: seeded ${fmt(seeded.count)} keys in ${seeded.seconds.toFixed(1)} s (${fmt(seeded.rate)} keys/s)`);
      Object.assign(p, { seeded, args: where.args });
    }
    for (const p of Object.values(populations)) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      p.child = await startProcess([BIN, 'server', '--dev', '--workers', '1', '--data-dir', p.dataDir, '--listen', `127.0.0.1:${port}`, ...p.args], 'ready');
      children.push(p.child);
      p.target = await encryptTarget(p.dataDir, p.seeded.sample);
      p.rounds = [];
    }
    // An unmeasured pass over each sample first: warm connections, a warm JIT, and the sampled keys' material cached.
    for (const p of Object.values(populations)) await loadRandom(p.target, { warm: true });
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of Object.values(populations)) p.rounds.push(await loadRandom(p.target));
    }
    for (const p of Object.values(populations)) p.memory = await memoryOf(p.child.pid);
    const summary = Object.fromEntries(
      Object.entries(populations).map(([name, p]) => [
        name,
        { keys: p.count, rps: median(p.rounds.map((r) => r.rps)), p50: median(p.rounds.map((r) => r.p50)), p99: median(p.rounds.map((r) => r.p99)), ...p.memory, seedRate: p.seeded.rate },
      ]),
    );
    const row = (label, s, p) => [label, fmt(s.rps), fmt(s.p50, 1), fmt(s.p99, 1), p.rounds.map((r) => fmt(r.rps)).join(' / '), fmt(s.rssMb), fmt(s.peakMb)];
    printTable(`Encrypt (native API, 1 KiB) on ${engine}, random key of a sample of ${fmt(Math.min(SAMPLE, LARGE))}, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${DURATION}s rounds`, [
      ['keys', 'req/s', 'p50 ms', 'p99 ms', 'rounds', 'RSS MB', 'peak RSS MB'],
      row(`${fmt(SMALL)} (baseline)`, summary.small, populations.small),
      row(fmt(LARGE), summary.large, populations.large),
    ]);
    const ratio = summary.large.rps / summary.small.rps;
    console.log(`  ratio ${fmt(LARGE)} / ${fmt(SMALL)} keys: ${ratio.toFixed(2)}x  (target >= 0.80x)`);
    console.log(`  server RSS with ${fmt(LARGE)} keys: ${fmt(summary.large.rssMb)} MB, peak ${fmt(summary.large.peakMb)} MB  (target < ${RSS_LIMIT_MB} MB per worker)`);
    return { ...summary, ratio };
  } finally {
    for (const child of children) await stop(child);
    for (const cleanup of cleanups) await cleanup().catch((err) => console.error(`  cleanup failed: ${err.message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchMillionKeys() {
  console.log(`\nMillion keys: ${fmt(SMALL)} vs ${fmt(LARGE)} keys on ${ENGINES.join(' and ')}`);
  const results = {};
  for (const engine of ENGINES) results[engine] = await benchEngine(engine);
  return results;
}
