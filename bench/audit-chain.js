// The tamper-evident audit trail's cost and the verifier's speed, in the same run.
// 1. POST /v1/encrypt (1 KiB, keep-alive) req/s against the real server twice, both started through src/main.ts
//    startServer by bench/audit-sink-server.js with the same settings (dev mode, one worker, SQLite): once as it
//    ships (the trail: hash chain, durable group-committed appends to SQLite with synchronous=FULL, keyed hashes,
//    signed checkpoints) and once with its audit events sent to an in-memory sink through startServer's
//    benchmark-only hook (keyed hashes, chain and checkpoints unchanged). Interleaved rounds (http-load.js
//    interleavedRounds). Target: trail / in-memory >= 0.85x.
// 2. The verifier over an export of BENCH_VERIFY_EVENTS (default 1,000,000) events with a signed checkpoint every
//    1,000: JSON-lines parsing, SHA-256 of every record, links, sequences and Ed25519 signatures, single thread.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditChain } from '../dist/audit/audit-chain.js';
import { checkpointPayload } from '../dist/audit/checkpoints.js';
import { EXPORT_FORMAT, checkpointLine, eventLine, parseExportBuffer } from '../dist/audit/export-format.js';
import { verifyTrail } from '../dist/audit/verifier.js';
import { CONNECTIONS, DURATION, RATIO_ROUNDS, ROOT, interleavedRounds, post, startProcess, stopProcess } from './http-load.js';
import { fmt, printRatio, printTable, roundsColumn } from './stats.js';

const VERIFY_EVENTS = Number(process.env.BENCH_VERIFY_EVENTS ?? 1_000_000);
const CHECKPOINT_EVERY = 1000;

async function encryptTarget(dir) {
  const creds = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8'));
  creds.ca = await readFile(creds.caCertFile);
  const { key } = await post(creds, '/v1/keys', { description: 'bench' });
  const body = JSON.stringify({ keyId: key.keyId, plaintext: Buffer.alloc(1024, 7).toString('base64'), encryptionContext: { tenant: 'bench' } });
  return { url: `${creds.endpoint}/v1/encrypt`, body, headers: { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json' } };
}

async function benchEncrypt() {
  const sinks = ['storage', 'memory'];
  const dirs = await Promise.all(sinks.map(() => mkdtemp(join(tmpdir(), 'dd-bench-audit-'))));
  const ports = [21443, 22443].map((p) => p + Math.floor(Math.random() * 1000));
  const children = [];
  try {
    for (const [i, sink] of sinks.entries()) {
      children.push(await startProcess([join(ROOT, 'bench/audit-sink-server.js'), dirs[i], String(ports[i]), sink], 'ready'));
    }
    const [trail, memory] = await Promise.all(dirs.map(encryptTarget));
    const s = await interleavedRounds({ memory: async () => memory, trail: async () => trail });
    printTable(`Encrypt with the audit trail on vs an in-memory audit sink, same server (main.ts startServer, dev, 1 worker): HTTPS, 1 KiB, ${CONNECTIONS} connections, median of ${RATIO_ROUNDS} interleaved ${DURATION}s rounds`, [
      ['audit sink', 'req/s', 'p50 ms', 'p99 ms', 'rounds req/s'],
      ['in-memory (benchmark-only hook, baseline)', fmt(s.memory.rps), fmt(s.memory.p50, 1), fmt(s.memory.p99, 1), roundsColumn(s.memory)],
      ['audit trail on (SQLite, as shipped)', fmt(s.trail.rps), fmt(s.trail.p50, 1), fmt(s.trail.p99, 1), roundsColumn(s.trail)],
    ]);
    const ratio = printRatio('trail / in-memory', s.trail, s.memory, 0.85);
    return { ...s, ratio };
  } finally {
    await Promise.all(children.map((child) => stopProcess(child)));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

const event = (i) => ({
  eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  eventTime: new Date(1_767_225_600_000 + i),
  eventName: 'Encrypt',
  eventSource: i % 2 ? 'aws-kms' : 'rest',
  requestId: `req-${i}`,
  principal: 'arn:aws:iam::111122223333:user/app',
  credential: 'access-key:DDAKEXAMPLE000000001',
  sourceIp: '10.0.0.7',
  userAgent: 'aws-sdk-js/3',
  resource: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  outcome: 'success',
  errorCode: null,
  readOnly: true,
  roles: ['application'],
  details: { plaintextBytes: 1024, encryptionContextKeys: ['tenant'], encryptionContext: { tenant: `hmac-sha256:audit-hmac-1:${'ab'.repeat(32)}` }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', keyVersion: 1, authorization: { decision: 'allow', statement: 'UseKeys' } },
});

async function benchVerifier() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-verify-'));
  const file = join(dir, 'export.jsonl');
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const chainId = '00000000-0000-4000-8000-0000000be4c4';
    // Pass 1: the hashes at each checkpoint; pass 2 (same deterministic chain): the events, after the checkpoints.
    const heads = [];
    let chain = createAuditChain(() => chainId);
    for (let i = 1; i <= VERIFY_EVENTS; i += CHECKPOINT_EVERY) {
      const linked = chain.link(Array.from({ length: Math.min(CHECKPOINT_EVERY, VERIFY_EVENTS - i + 1) }, (_, j) => event(i + j)));
      heads.push(linked.at(-1).chain);
    }
    const out = await open(file, 'w');
    const write = (line) => out.write(`${JSON.stringify(line)}\n`);
    await write({ type: 'header', format: EXPORT_FORMAT, exportedAt: new Date().toISOString(), publicKeys: [{ id: 'k1', algorithm: 'ED25519', publicKey: spki.toString('base64') }] });
    for (const h of heads) {
      const fields = { chainId, sequence: h.sequence, hash: h.hash, time: new Date(), keyId: 'k1' };
      const payload = checkpointPayload(fields);
      await write(checkpointLine({ ...fields, payload, signature: sign(null, Buffer.from(payload), privateKey).toString('base64') }));
    }
    chain = createAuditChain(() => chainId);
    for (let i = 1; i <= VERIFY_EVENTS; i += CHECKPOINT_EVERY) {
      const linked = chain.link(Array.from({ length: Math.min(CHECKPOINT_EVERY, VERIFY_EVENTS - i + 1) }, (_, j) => event(i + j)));
      await out.write(linked.map((e) => `${JSON.stringify(eventLine(e.chain))}\n`).join(''));
    }
    await out.close();
    const buffer = await readFile(file);
    const t0 = process.hrtime.bigint();
    const report = await verifyTrail(parseExportBuffer(buffer), { publicKeys: new Map([['k1', spki]]) });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!report.ok || report.events !== VERIFY_EVENTS) throw new Error(`verifier failed: ${JSON.stringify(report.firstBreak)}`);
    printTable(`Verifier, offline export of ${fmt(VERIFY_EVENTS)} events (${fmt(buffer.length / 1048576)} MiB), checkpoint every ${CHECKPOINT_EVERY}`, [
      ['events', 'checkpoints', 'seconds', 'events/s', 'MiB/s'],
      [fmt(report.events), fmt(report.checkpoints), fmt(seconds, 2), fmt(report.events / seconds), fmt(buffer.length / 1048576 / seconds, 1)],
    ]);
    return { seconds, eventsPerSecond: report.events / seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchAuditChain() {
  const encrypt = await benchEncrypt();
  const verifier = await benchVerifier();
  return { encrypt, verifier };
}
