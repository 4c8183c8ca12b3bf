/**
 * Issue #6: one audit hash chain per server process. Under `server --workers 2` both worker processes serve requests,
 * so the trail holds (at least) two chains, written concurrently into one database; signed checkpoints are written
 * for each of them; `audit verify` online reports every chain and passes; each chain's sequences are gap-free (by
 * the search route and by an export); an export verifies offline with the pinned public key, and a deletion in the
 * second worker's chain is caught there. On SQLite and on PostgreSQL (a fresh schema, dropped afterwards).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../src/audit/verifier.js';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { b64, restClient, type DevCredentialsFile } from '../helpers/rest-client.js';
import { PG_URL, pgQuery } from '../helpers/postgres.js';

const CLOSE = { connection: 'close' }; // a new connection per request, so requests spread over the workers
const ENCRYPTS = 200;
const CONCURRENCY = 16;
const OK_LINE = /^OK: (\d+) events in (\d+) chain\(s\), (\d+) signed checkpoint\(s\)$/m;

interface SearchEvent {
  sequence: number;
  eventName: string;
  requestId: string;
  outcome: string;
  chain?: { chainId: string; sequence: number; hash: string };
}
interface EventLine {
  type: 'event';
  chainId: string;
  sequence: number;
  previousHash: string;
  hash: string;
  record: string;
}


/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/** Sequence numbers of `values` grouped by key, each sorted. */
function sequencesBy<T>(values: readonly T[], key: (v: T) => string, seq: (v: T) => number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const v of values) {
    const k = key(v);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(seq(v));
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

const ENGINES = [
  { name: 'sqlite', env: (): Record<string, string> => ({}), cleanup: async () => {} },
  (() => {
    const schema = `dd_mwchains_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    return {
      name: 'postgres',
      env: (): Record<string, string> => ({ DATADEFENDER_DATABASE_URL: PG_URL, DATADEFENDER_DATABASE_SCHEMA: schema }),
      cleanup: () => pgQuery(`drop schema if exists "${schema}" cascade`),
    };
  })(),
];

for (const engine of ENGINES) {
  describe(`one audit chain per worker process, server --workers 2 (${engine.name})`, () => {
    let dir: string;
    let server: RunningProcess;
    let admin: DevCredentialsFile;
    let credsFile: string;
    /** The chain of each of our Encrypt requests, by request id (from the search route). */
    let chainOfRequest: Map<string, { chainId: string; sequence: number; hash: string }>;
    let workerChains: string[];
    const cli = (...args: string[]) => runCli(['--credentials', credsFile, ...args]);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `dd-audit-workers-${engine.name}-`));
      const port = await freePort();
      server = await spawnServer(['--dev', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--workers', '2'], {
        DATADEFENDER_AUDIT_CHECKPOINT_EVENTS: '50',
        DATADEFENDER_AUDIT_CHECKPOINT_SECONDS: '1',
        ...engine.env(),
      });
      credsFile = join(dir, 'dev-credentials.json');
      admin = JSON.parse(await readFile(credsFile, 'utf8')) as DevCredentialsFile;
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      await engine.cleanup();
      await rm(dir, { recursive: true, force: true });
    }, 30_000);

    it('serves on the configured storage from two worker processes', async () => {
      expect(server.stdout()).toMatch(/\[2 workers\]/);
      expect((await restClient(admin)('GET', '/v1/health', undefined, CLOSE)).body.storage).toBe(engine.name);
    });

    it(`records ${ENCRYPTS} parallel Encrypts over fresh connections in exactly two chains, one per worker, each gap-free by the search route`, async () => {
      const rest = restClient(admin);
      const created = await rest('POST', '/v1/keys', { description: 'multi-worker audit' }, CLOSE);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const keyId: string = created.body.key.keyId;
      const answers = await pool(ENCRYPTS, CONCURRENCY, () => rest('POST', '/v1/encrypt', { keyId, plaintext: b64('multi-worker') }, CLOSE));
      expect(answers.map((r) => r.status)).toEqual(Array(ENCRYPTS).fill(200));
      const requestIds = answers.map((r) => String(r.headers['x-request-id']));
      expect(new Set(requestIds).size).toBe(ENCRYPTS);

      // Every event of the trail, page by page through the search route (LookupEvents).
      const events: SearchEvent[] = [];
      for (let after = 0; ; ) {
        const page = await rest('GET', `/v1/audit/events?after=${after}&limit=1000`, undefined, CLOSE);
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        events.push(...(page.body.events as SearchEvent[]));
        if (page.body.nextAfter === undefined) break;
        after = page.body.nextAfter as number;
      }
      expect(events.length).toBeGreaterThan(ENCRYPTS);
      expect(events.filter((e) => !e.chain)).toEqual([]); // every event of a server is chained

      const ours = new Set(requestIds);
      const encrypts = events.filter((e) => e.eventName === 'Encrypt' && ours.has(e.requestId));
      expect(encrypts).toHaveLength(ENCRYPTS);
      expect(encrypts.every((e) => e.outcome === 'success')).toBe(true);
      chainOfRequest = new Map(encrypts.map((e) => [e.requestId, e.chain!]));

      // Both workers served some: their events are in two chains, and no more (one chain per process).
      const perChain = sequencesBy(encrypts, (e) => e.chain!.chainId, (e) => e.chain!.sequence);
      workerChains = [...perChain.keys()].sort();
      expect(workerChains).toHaveLength(2);
      for (const [chainId, seqs] of perChain) expect(seqs.length, `Encrypts in chain ${chainId}`).toBeGreaterThanOrEqual(10);

      // Each chain's sequences, over all its events, are 1..n without a gap or a duplicate.
      const all = sequencesBy(events, (e) => e.chain!.chainId, (e) => e.chain!.sequence);
      expect(all.size).toBeGreaterThanOrEqual(2);
      for (const [chainId, seqs] of all) expect(seqs, `chain ${chainId}`).toEqual(oneTo(seqs.length));
      for (const chainId of workerChains) expect(all.get(chainId)!.length).toBeGreaterThan(perChain.get(chainId)!.length);
    }, 120_000);

    it('writes signed checkpoints for every worker chain', async () => {
      // The last Encrypt of each chain is covered by a checkpoint within a few seconds (checkpoints every 1 s).
      const lastEncrypt = new Map<string, number>();
      for (const c of chainOfRequest.values()) lastEncrypt.set(c.chainId, Math.max(lastEncrypt.get(c.chainId) ?? 0, c.sequence));
      const rest = restClient(admin);
      const covered = async () => {
        const res = await rest('GET', '/v1/audit/checkpoints?purpose=verify', undefined, CLOSE);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const cps = res.body.checkpoints as { chainId: string; sequence: number; keyId: string; signature: string }[];
        return workerChains.every((id) => cps.some((cp) => cp.chainId === id && cp.sequence >= lastEncrypt.get(id)!)) ? cps : undefined;
      };
      let checkpoints = await covered();
      for (let i = 0; i < 40 && !checkpoints; i++) {
        await new Promise((r) => setTimeout(r, 250));
        checkpoints = await covered();
      }
      expect(checkpoints, 'a checkpoint at or after the last Encrypt of each worker chain').toBeDefined();
      for (const id of workerChains) {
        const mine = checkpoints!.filter((cp) => cp.chainId === id);
        // 50 events per checkpoint, at least ~10 Encrypts plus the searches: more than one for the busier chain is
        // not guaranteed, but every checkpoint names its own chain and is signed.
        expect(mine.length).toBeGreaterThanOrEqual(1);
        for (const cp of mine) expect(cp.signature.length).toBeGreaterThan(0);
      }
    }, 30_000);

    it('audit verify (online) passes and reports every chain, both worker chains checkpointed', async () => {
      const human = await cli('audit', 'verify');
      expect(human.stderr).toBe('');
      expect(human.code).toBe(0);
      const summary = OK_LINE.exec(human.stdout);
      expect(summary, human.stdout).not.toBeNull();
      expect(Number(summary![2])).toBeGreaterThanOrEqual(2);
      for (const id of workerChains) expect(human.stdout).toContain(`  chain ${id}: events 1..`);

      const json = await cli('--json', 'audit', 'verify');
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as VerifyReport;
      expect(report.ok).toBe(true);
      expect(report.breaks).toEqual([]);
      expect(report.firstBreak).toBeNull();
      expect(report.chains.length).toBeGreaterThanOrEqual(2);
      expect(report.events).toBe(report.chains.reduce((n, c) => n + c.events, 0));
      expect(report.checkpoints).toBe(report.chains.reduce((n, c) => n + c.checkpoints, 0));
      for (const id of workerChains) {
        const chain = report.chains.find((c) => c.chainId === id);
        expect(chain, `chain ${id} in the report`).toBeDefined();
        expect(chain!.firstSequence).toBe(1);
        expect(chain!.events).toBe(chain!.lastSequence);
        expect(chain!.checkpoints).toBeGreaterThanOrEqual(1);
        const lastEncrypt = Math.max(...[...chainOfRequest.values()].filter((c) => c.chainId === id).map((c) => c.sequence));
        expect(chain!.lastSequence!).toBeGreaterThan(lastEncrypt);
        expect(chain!.lastCheckpoint!.sequence).toBeGreaterThanOrEqual(lastEncrypt);
      }
    }, 60_000);

    it('exports every chain gap-free, linked and checkpointed; the export verifies offline with the pinned key; a deletion in the second chain is caught', async () => {
      const pub = await cli('audit', 'public-key');
      expect(pub.code, pub.stderr).toBe(0);
      const pem = join(dir, 'audit.pem');
      await writeFile(pem, pub.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
      const file = join(dir, 'export.jsonl');
      const exported = await cli('audit', 'export', '--output', file);
      expect(exported.code, exported.stderr).toBe(0);

      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      const parsed = lines.map((l) => JSON.parse(l) as { type: string; chainId?: string; sequence?: number });
      expect(parsed[0]!.type).toBe('header');
      const events = parsed.filter((l): l is EventLine => l.type === 'event');
      const checkpointChains = new Set(parsed.filter((l) => l.type === 'checkpoint').map((l) => l.chainId));
      for (const id of workerChains) expect(checkpointChains.has(id), `checkpoint of chain ${id} exported`).toBe(true);

      // Gap-free and linked, chain by chain; and each of our Encrypts is in the export where the search put it.
      const byChain = new Map<string, EventLine[]>();
      for (const e of events) {
        if (!byChain.has(e.chainId)) byChain.set(e.chainId, []);
        byChain.get(e.chainId)!.push(e);
      }
      expect(byChain.size).toBeGreaterThanOrEqual(2);
      for (const [id, chain] of byChain) {
        expect(chain.map((e) => e.sequence), `chain ${id}`).toEqual(oneTo(chain.length));
        expect(chain[0]!.previousHash).toBe('0'.repeat(64));
        for (let i = 1; i < chain.length; i++) expect(chain[i]!.previousHash, `chain ${id} at ${i + 1}`).toBe(chain[i - 1]!.hash);
      }
      for (const c of chainOfRequest.values()) expect(byChain.get(c.chainId)![c.sequence - 1]!.hash).toBe(c.hash);

      const offline = await runCli(['--json', 'audit', 'verify', '--file', file, '--public-key', pem]);
      expect(offline.code, offline.stderr).toBe(0);
      const report = JSON.parse(offline.stdout) as VerifyReport;
      expect(report).toMatchObject({ ok: true, breaks: [], firstBreak: null, events: events.length });
      expect(report.chains.map((c) => c.chainId).sort()).toEqual([...byChain.keys()].sort());
      for (const id of workerChains) expect(report.chains.find((c) => c.chainId === id)!.checkpoints).toBeGreaterThanOrEqual(1);
      const human = await runCli(['audit', 'verify', '--file', file, '--public-key', pem]);
      expect(human.code).toBe(0);
      expect(Number(OK_LINE.exec(human.stdout)?.[2])).toBe(byChain.size);

      // Delete an event in the middle of the worker chain exported last: the verifier reads past the first chain
      // and reports the deletion in that one.
      const lastChain = events.at(-1)!.chainId;
      expect(workerChains).toContain(lastChain);
      const victim = byChain.get(lastChain)![Math.floor(byChain.get(lastChain)!.length / 2)]!;
      const edited = lines.filter((l) => {
        const v = JSON.parse(l) as { type: string; chainId?: string; sequence?: number };
        return !(v.type === 'event' && v.chainId === lastChain && v.sequence === victim.sequence);
      });
      expect(edited).toHaveLength(lines.length - 1);
      await writeFile(join(dir, 'deleted.jsonl'), `${edited.join('\n')}\n`);
      const broken = await runCli(['--json', 'audit', 'verify', '--file', join(dir, 'deleted.jsonl'), '--public-key', pem]);
      expect(broken.code).toBe(3);
      const brokenReport = JSON.parse(broken.stdout) as VerifyReport;
      expect(brokenReport.ok).toBe(false);
      expect(brokenReport.firstBreak).toMatchObject({ kind: 'deleted', chainId: lastChain, sequence: victim.sequence });
      expect(brokenReport.breaks).toHaveLength(1);
    }, 60_000);
  });
}
