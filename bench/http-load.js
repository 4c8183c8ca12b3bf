// Helpers of the HTTPS benchmarks: start a server process, call the native API, pre-sign AWS requests with the
// official signer (@smithy/signature-v4), and drive load with autocannon.
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { createHash, createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import { SignatureV4 } from '@smithy/signature-v4';
import { summarize } from './stats.js';

export const ROOT = new URL('../', import.meta.url).pathname;
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Rounds of a same-run ratio (interleavedRounds): five by default, so one noisy round cannot move the median. */
export const RATIO_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Untimed warm-up of each variant before the first round of interleavedRounds (JIT, caches, TLS sessions). */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);

export function startProcess(args, readyText, env = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATADEFENDER_LOG_LEVEL: 'warn', ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes(readyText)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

/** SIGTERMs a process of startProcess and resolves once it has exited (after `timeoutMs`, SIGKILL). */
export function stopProcess(child, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** POSTs `target.body` on `agent`; resolves with the milliseconds since `dueAt` (performance.now() time) once answered 200. */
export function sendTimed(agent, target, dueAt) {
  return new Promise((resolve, reject) => {
    const req = request(target.url, { method: 'POST', agent, ca: target.ca, headers: target.headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - dueAt) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(target.body);
  });
}

/**
 * Open-loop load: request i is due at i/rate seconds after the start and is started as soon as it is due, whatever
 * the server does (wrk2-style, not a closed loop); each latency counts from its due time, so a request that waits
 * behind a slow one counts that wait (no coordinated omission), and so does any lateness of this generator. Between
 * due times the generator sleeps on a timer: it never spins a core the server needs. Runs until `total` requests
 * were started or `stop()`; `stop()` waits for the answers and resolves with `{ dueAt, ms }` in due order.
 */
export function openLoop(agent, target, rate, total = Infinity) {
  const samples = [];
  const pending = [];
  const start = performance.now();
  let sent = 0;
  let failed = 0;
  let timer;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const tick = () => {
    // Request i is due at start + i/rate: the ones due by now are floor(elapsed * rate) + 1.
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const dueAt = start + (sent / rate) * 1000;
      const sample = { dueAt, ms: NaN };
      samples.push(sample);
      pending.push(sendTimed(agent, target, dueAt).then((ms) => (sample.ms = ms), () => (failed += 1)));
    }
    if (sent >= total) return finish();
    timer = setTimeout(tick, Math.max(0, start + (sent / rate) * 1000 - performance.now()));
  };
  tick();
  return {
    /** Resolves once `total` requests were started. */
    finished,
    async stop() {
      clearTimeout(timer);
      finish();
      await Promise.all(pending);
      if (failed > 0) throw new Error(`open loop: ${failed} of ${sent} requests failed`);
      return samples;
    },
  };
}

export function post(creds, path, body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(new URL(path, creds.endpoint), {
      method: 'POST',
      ca: creds.ca,
      headers: { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(text))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

class Sha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** Headers of one SigV4-signed AWS KMS request (as the SDK would send them). */
export async function signedAwsHeaders(creds, target, body) {
  const url = new URL(creds.endpoint);
  const signer = new SignatureV4({
    service: 'kms',
    region: creds.region,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${target}` },
    body,
  });
  return signed.headers;
}

export function load(url, body, headers, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', body, headers, connections: CONNECTIONS, duration }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    });
  });
}

/** One signed AWS KMS call (setup steps, not load). */
export async function awsCall(creds, target, payload) {
  const body = JSON.stringify(payload);
  const headers = await signedAwsHeaders(creds, target, body);
  return new Promise((resolve, reject) => {
    const req = request(new URL('/', creds.endpoint), { method: 'POST', ca: creds.ca, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${target}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A same-run A/B for a ratio target. `variants` maps each name to an async function giving the request to load,
 * `{ url, body, headers }` (called before every round, so a signed request is signed afresh). Each variant first gets
 * an untimed WARMUP_SECONDS warm-up; then `rounds` rounds in which each variant is loaded once for DURATION seconds
 * with the same generator (load), the order alternating from one round to the next (A B, B A, A B, ...) so that a
 * drift of a noisy machine falls on every variant alike. Resolves with each variant's summary (stats.js summarize),
 * in the order of `variants`.
 */
export async function interleavedRounds(variants, rounds = RATIO_ROUNDS) {
  const names = Object.keys(variants);
  for (const name of names) {
    const r = await variants[name]();
    await load(r.url, r.body, r.headers, WARMUP_SECONDS);
  }
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const r = await variants[name]();
      results[name].push(await load(r.url, r.body, r.headers));
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(results[name])]));
}
