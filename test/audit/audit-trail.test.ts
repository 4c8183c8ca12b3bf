/**
 * The hash-chained audit log, the keyring, checkpoints and streaming followers over real SQLite storage and the local
 * root of trust (no mocks but the fault-injecting sink wrapper): gap-free chains under concurrency, fail-closed
 * bounded waits with recovery on a new chain, redaction, checkpoints that verify, keys that survive restarts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { startAuditRuntime } from '../../src/audit/audit-runtime.js';
import { Sensitive, sensitiveValues } from '../../src/audit/sensitive.js';
import { storedTrail } from '../../src/audit/store-trail.js';
import { jsonLinesSink } from '../../src/audit/stream-sinks.js';
import { verifyTrail } from '../../src/audit/verifier.js';
import type { AuditPublicKey } from '../../src/audit/audit-keys.js';
import type { RootOfTrust } from '../../src/ports/root-of-trust.js';
import type { Storage } from '../../src/ports/storage.js';
import { systemClock } from '../../src/ports/clock.js';
import { faultySink } from '../helpers/core-fixture.js';
import { makeEvent } from '../storage/storage-contract.js';

let dir: string;
let storage: Storage;
let root: RootOfTrust;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-audit-'));
  storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
  root = await openLocalRootOfTrust(join(dir, 'root.key'));
});
afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const keyMap = (keys: readonly AuditPublicKey[]) => new Map(keys.map((k) => [k.id, new Uint8Array(Buffer.from(k.publicKey, 'base64'))]));
const verifyStore = async (keys: readonly AuditPublicKey[] = []) => verifyTrail(storedTrail(storage, { publicKeys: keys }), { publicKeys: keyMap(keys) });

describe('the chained audit log', () => {
  it('links 2,000 concurrent records into one gap-free chain that verifies', async () => {
    const log = createAuditLog({ sink: storage });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => log.record(makeEvent({ requestId: `r${i}` }))));
    const chains = await storage.listChains();
    expect(chains).toHaveLength(1);
    expect(chains[0]).toMatchObject({ firstSequence: 1, lastSequence: 2000, events: 2000 });
    expect(log.durableHead()).toMatchObject({ chainId: chains[0]!.chainId, sequence: 2000 });
    const report = await verifyStore();
    expect(report).toMatchObject({ ok: true, events: 2000 });
  });

  it('fails closed when the sink fails, then continues on a new chain: both chains verify, nothing unrecorded succeeded', async () => {
    const { sink, faults } = faultySink(storage);
    // The failing sink fails at once; the bound only has to be long enough for healthy appends on a loaded machine.
    const log = createAuditLog({ sink, timeoutMs: 5000 });
    await Promise.all(Array.from({ length: 10 }, () => log.record(makeEvent())));
    faults.mode = 'fail';
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => log.record(makeEvent())));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'ERR_AUDIT_UNAVAILABLE')).toBe(true);
    expect(log.healthy()).toBe(false);
    faults.mode = 'ok';
    await Promise.all(Array.from({ length: 10 }, () => log.record(makeEvent())));
    expect(log.healthy()).toBe(true);
    const chains = await storage.listChains();
    expect(chains.map((c) => [c.firstSequence, c.lastSequence])).toEqual([
      [1, 10],
      [1, 10],
    ]);
    expect((await verifyStore()).ok).toBe(true);
  });

  it('pipelines batches on SQLite, and a failed batch never leaves a gap: later batches of its chain are refused', async () => {
    expect(storage.orderedAppends).toBe(true);
    const raw = new Database(join(dir, 'dd.db'));
    raw.exec("create trigger boom before insert on audit_events when new.request_id = 'boom' begin select raise(abort, 'boom'); end");
    raw.close();
    const log = createAuditLog({ sink: storage, timeoutMs: 2000 });
    const waves: Promise<PromiseSettledResult<void>[]>[] = [];
    for (let w = 0; w < 20; w++) {
      waves.push(Promise.allSettled(Array.from({ length: 25 }, (_, i) => log.record(makeEvent({ requestId: w === 5 && i === 3 ? 'boom' : `w${w}-${i}` })))));
      await new Promise((r) => setImmediate(r));
    }
    const results = (await Promise.all(waves)).flat();
    const rejected = results.filter((r) => r.status === 'rejected').length;
    expect(rejected).toBeGreaterThanOrEqual(25);
    // Batches of the broken chain still in flight were refused with it (their callers got errors, none succeeded).
    await log.record(makeEvent({ requestId: 'after' }));
    const stored = await storage.readAudit({ limit: 1000 });
    expect(stored).toHaveLength(500 - rejected + 1);
    expect(stored.some((e) => e.requestId === 'boom')).toBe(false);
    // The failed batch's chain was abandoned: what follows is on another chain, and no chain has a gap (below).
    const boomChain = new Set(stored.map((e) => e.chain!.chainId));
    expect(boomChain.size).toBeGreaterThanOrEqual(1);
    expect((await verifyStore()).ok).toBe(true);
  });

  it('bounds the wait on a hung sink: callers fail fast, health reports it, and appends resume on a new chain', async () => {
    const { sink, faults } = faultySink(storage);
    let release: () => void = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const log = createAuditLog({ sink: { ...sink, append: (events) => (faults.mode === 'hang' ? hung.then(() => storage.append(events)) : sink.append(events)) }, timeoutMs: 1000 });
    await log.record(makeEvent());
    faults.mode = 'hang';
    const started = Date.now();
    await expect(log.record(makeEvent())).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(log.record(makeEvent())).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect(log.healthy()).toBe(false);
    faults.mode = 'ok';
    release();
    // The late batch lands, and only once its append has returned does the log take events again (the row can be
    // visible in the database a moment before the writer's answer reaches the log).
    await expect.poll(() => log.healthy()).toBe(true);
    expect((await storage.listChains()).map((c) => c.lastSequence)).toEqual([2]);
    await log.record(makeEvent());
    expect(log.healthy()).toBe(true);
    // The late batch landed at the end of the first chain (contiguous); the next record started a second chain.
    expect((await storage.listChains()).map((c) => c.lastSequence).sort()).toEqual([1, 2]);
    expect((await verifyStore()).ok).toBe(true);
  });

  it('replaces sensitive values by keyed hashes (or drops them without a key); the value is never stored', async () => {
    const secret = 'tenant-4711-very-secret';
    const runtime = startAuditRuntime({ store: storage, root, clock: systemClock, sealed: () => false, checkpointEvents: 1000, checkpointSeconds: 60 });
    await runtime.ready();
    await runtime.log.record(makeEvent({ details: { encryptionContext: sensitiveValues({ tenant: secret }), name: new Sensitive(secret) } }));
    const bare = createAuditLog({ sink: storage });
    await bare.record(makeEvent({ details: { encryptionContext: sensitiveValues({ tenant: secret }) } }));
    await runtime.close();
    const raw = new Database(join(dir, 'dd.db'), { readonly: true });
    const dump = JSON.stringify(raw.prepare('select * from audit_events').all());
    raw.close();
    expect(dump).not.toContain(secret);
    const events = await storage.readAudit({ limit: 10 });
    const hash = (events[0]!.details.encryptionContext as { tenant: string }).tenant;
    expect(hash).toMatch(/^hmac-sha256:audit-hmac-1:[0-9a-f]{64}$/);
    expect(events[0]!.details.name).toBe(hash);
    expect(events[1]!.details.encryptionContext).toEqual({ tenant: '<redacted>' });
    expect(JSON.stringify(new Sensitive(secret))).toBe('"<redacted>"');
  });

  it('signs checkpoints every N events and at close; they verify with the public key, and a tampered tail is caught', async () => {
    const runtime = startAuditRuntime({ store: storage, root, clock: systemClock, sealed: () => false, checkpointEvents: 50, checkpointSeconds: 3600 });
    await runtime.ready();
    for (let b = 0; b < 4; b++) await Promise.all(Array.from({ length: 60 }, () => runtime.log.record(makeEvent())));
    await runtime.checkpointer.flush();
    await runtime.log.record(makeEvent());
    await runtime.close();
    const keys = runtime.keyring.publicKeys();
    expect(keys).toHaveLength(1);
    const checkpoints = await storage.listCheckpoints();
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints.at(-1)!.sequence).toBe(241);
    expect(await verifyStore(keys)).toMatchObject({ ok: true, events: 241 });

    // A DBA deletes the last ten events: the final checkpoint proves the truncation.
    const raw = new Database(join(dir, 'dd.db'));
    raw.prepare('delete from audit_events where chain_seq > 231').run();
    raw.close();
    const report = await verifyStore(keys);
    expect(report.firstBreak).toMatchObject({ kind: 'truncated', sequence: 232 });
  });

  it('signs a checkpoint every T seconds when events arrived, and none while nothing new was written', async () => {
    const runtime = startAuditRuntime({ store: storage, root, clock: systemClock, sealed: () => false, checkpointEvents: 1_000_000, checkpointSeconds: 1 });
    try {
      await runtime.ready();
      await Promise.all(Array.from({ length: 3 }, () => runtime.log.record(makeEvent())));
      expect(await storage.listCheckpoints()).toEqual([]);
      const deadline = Date.now() + 3_000;
      while ((await storage.listCheckpoints()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [first, ...more] = await storage.listCheckpoints();
      expect(first).toMatchObject({ sequence: 3 });
      expect(more).toEqual([]);
      // Two more ticks with no new event: no new checkpoint.
      await new Promise((r) => setTimeout(r, 2_200));
      expect(await storage.listCheckpoints()).toHaveLength(1);
      await runtime.log.record(makeEvent());
      while ((await storage.listCheckpoints()).length === 1 && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 50));
      expect((await storage.listCheckpoints()).map((c) => c.sequence)).toEqual([3, 4]);
    } finally {
      await runtime.close();
    }
  });

  it('keeps the audit keys across restarts (wrapped by the root; the public key is derived, not read from storage)', async () => {
    const first = startAuditRuntime({ store: storage, root, clock: systemClock, sealed: () => false, checkpointEvents: 10, checkpointSeconds: 60 });
    await first.ready();
    const pub = first.keyring.publicKeys();
    const hmac = first.keyring.hmacKey()!;
    await first.close();
    const raw = new Database(join(dir, 'dd.db'));
    raw.prepare("update audit_keys set public_key = x'00' where purpose = 'signing'").run();
    const wrapped = raw.prepare("select wrapped from audit_keys where purpose = 'signing'").pluck().get() as Buffer;
    expect(wrapped.length).toBeGreaterThan(48);
    raw.close();
    const second = startAuditRuntime({ store: storage, root, clock: systemClock, sealed: () => false, checkpointEvents: 10, checkpointSeconds: 60 });
    await second.ready();
    expect(second.keyring.publicKeys()).toEqual(pub);
    expect(second.keyring.hmacKey()!.key.reveal().equals(hmac.key.reveal())).toBe(true);
    await second.close();

    // Another root cannot unwrap them: they are ignored and reported, never used.
    const otherRoot = await openLocalRootOfTrust(join(dir, 'other.key'));
    const bad: string[] = [];
    const third = startAuditRuntime({ store: storage, root: otherRoot, clock: systemClock, sealed: () => false, checkpointEvents: 10, checkpointSeconds: 60, onError: (_e, what) => bad.push(what) });
    await third.ready();
    expect(third.keyring.publicKeys()).toEqual([]);
    expect(bad.some((w) => w.includes('does not unwrap'))).toBe(true);
    await third.close();
  });

  it('streams durable events to a JSON-lines follower, and a stuck follower neither blocks nor loses primary events', async () => {
    const file = join(dir, 'stream.jsonl');
    const follower = jsonLinesSink(file);
    const stuck = { name: 'stuck', write: () => { throw new Error('blocked'); }, dropped: () => 0, close: async () => {} };
    const runtime = startAuditRuntime({ store: storage, root, clock: systemClock, sealed: () => false, checkpointEvents: 1000, checkpointSeconds: 60, streams: [stuck, follower] });
    await runtime.ready();
    await Promise.all(Array.from({ length: 100 }, (_, i) => runtime.log.record(makeEvent({ requestId: `s${i}` }))));
    await runtime.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { hash: string; record: { requestID: string; chain: { sequence: number } } });
    expect(lines).toHaveLength(100);
    expect(lines.map((l) => l.record.chain.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect((await storage.listChains())[0]!.events).toBe(100);
    const tiny = jsonLinesSink(join(dir, 'tiny.jsonl'), { maxBufferedBytes: 0 });
    const events = (await storage.readAudit({ limit: 100 })).map(({ sequence: _s, ...e }) => e);
    tiny.write(events);
    expect(tiny.dropped()).toBeGreaterThan(0);
    await tiny.close();
  });
});
