/**
 * The tamper-evident audit trail end to end, on SQLite and on PostgreSQL: a dev server handles both APIs (successes,
 * denials, failures, many concurrent requests); `datadefender audit verify` (online) and `audit export` + offline
 * verify with the pinned public key pass; no plaintext, encryption-context value, token or secret key appears in the
 * database, the export or the streamed JSON lines; storage made unwritable mid-run fails requests fast with
 * ERR_AUDIT_UNAVAILABLE (health degraded) and recovery follows; kill -9 under load leaves chains that verify, with
 * an event for every request that returned success.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EncryptCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient } from '../helpers/aws-clients.js';
import { runCli, startDevServer, type DevServer } from '../helpers/dev-server.js';
import { b64, restClient } from '../helpers/rest-client.js';
import { PG_URL, pgQuery } from '../helpers/postgres.js';

const PLAINTEXT = 'PAN-4111111111111111-plaintext-secret';
const EC_VALUE = 'tenant-secret-value-8d1f';
/** An encryption-context value the investigator searches for by its keyed hash. */
const SEARCH_VALUE = 'tenant-searched-value-3c9a';

interface Engine {
  name: 'sqlite' | 'postgres';
  env: (dir: string) => Record<string, string>;
  /** Every audit-related row as text, straight from the database. */
  dump: (dir: string) => Promise<string>;
  /** Makes audit appends fail (true) or work again (false), from outside the server. */
  block: (dir: string, on: boolean) => Promise<void>;
  cleanup: () => Promise<void>;
}

const schema = `dd_audit_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;

const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    env: () => ({}),
    dump: async (dir) => {
      const db = new Database(join(dir, 'datadefender.db'), { readonly: true });
      try {
        return JSON.stringify([db.prepare('select * from audit_events').all(), db.prepare('select * from audit_checkpoints').all()]);
      } finally {
        db.close();
      }
    },
    block: async (dir, on) => {
      const db = new Database(join(dir, 'datadefender.db'));
      db.pragma('busy_timeout = 5000');
      try {
        db.exec(on ? "create trigger dd_block before insert on audit_events begin select raise(abort, 'blocked'); end" : 'drop trigger dd_block');
      } finally {
        db.close();
      }
    },
    cleanup: async () => {},
  },
  {
    name: 'postgres',
    env: () => ({ DATADEFENDER_DATABASE_URL: PG_URL, DATADEFENDER_DATABASE_SCHEMA: schema }),
    dump: async () => JSON.stringify([(await pgQuery(`select * from "${schema}".audit_events`)).rows, (await pgQuery(`select * from "${schema}".audit_checkpoints`)).rows]),
    block: async (_dir, on) => {
      await pgQuery(on ? `alter table "${schema}".audit_events add constraint dd_block check (false) not valid` : `alter table "${schema}".audit_events drop constraint dd_block`);
    },
    cleanup: async () => {
      await pgQuery(`drop schema if exists "${schema}" cascade`);
    },
  },
];

for (const engine of ENGINES) {
  describe(`audit trail end to end (${engine.name})`, () => {
    let dir: string;
    let server: DevServer;
    let credsFile: string;
    const env = () => ({ DATADEFENDER_AUDIT_CHECKPOINT_EVENTS: '100', DATADEFENDER_AUDIT_STREAMS: join(dir, 'stream.jsonl'), ...engine.env(dir) });
    const cli = (...args: string[]) => runCli(['--credentials', credsFile, ...args]);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `dd-audit-e2e-${engine.name}-`));
      server = await startDevServer(dir, { env: env() });
      credsFile = join(dir, 'dev-credentials.json');
    });
    afterAll(async () => {
      await server?.stop();
      await engine.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('records both APIs, denials and failures, and many concurrent requests in chains that verify online', async () => {
      const rest = restClient(server.credentials);
      const keyId: string = (await rest('POST', '/v1/keys', { description: 'audited' })).body.key.keyId;
      const enc = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT), encryptionContext: { tenant: EC_VALUE } });
      expect(enc.status).toBe(200);
      const kms = kmsClient(server.credentials);
      const awsEnc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(PLAINTEXT), EncryptionContext: { tenant: EC_VALUE } }));
      await kms.send(new DecryptCommand({ CiphertextBlob: awsEnc.CiphertextBlob!, EncryptionContext: { tenant: EC_VALUE } }));
      expect((await restClient(server.credentials, { token: 'dd-not-a-token' })('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT) })).status).toBe(401);
      expect((await rest('POST', '/v1/decrypt', { ciphertext: b64('garbage-ciphertext-garbage-ciphertext') })).status).toBeGreaterThanOrEqual(400);
      const parallel = await Promise.all(Array.from({ length: 200 }, () => rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT), encryptionContext: { tenant: EC_VALUE } })));
      expect(parallel.every((r) => r.status === 200)).toBe(true);

      // Every successful request has its success event, found by request id; the record is CloudTrail-shaped.
      const found = await rest('GET', `/v1/audit/events?requestId=${parallel[17]!.headers['x-request-id']}`);
      expect(found.body.events).toHaveLength(1);
      const record = found.body.events[0].record;
      expect(record).toMatchObject({ eventVersion: '1.08', eventName: 'Encrypt', eventSource: 'datadefender.rest', outcome: 'success', readOnly: true });
      expect(record.userIdentity).toMatchObject({ type: 'IAMUser', credentialKind: 'token' });
      expect(record.requestParameters.encryptionContext.tenant).toMatch(/^hmac-sha256:audit-hmac-1:[0-9a-f]{64}$/);
      expect(record.authorization.decision).toBe('allow');
      const denied = await rest('GET', '/v1/audit/events?outcome=denied&limit=10');
      expect(denied.body.events.length).toBeGreaterThan(0);
      const aws = await rest('GET', '/v1/audit/events?eventName=Decrypt&limit=1000');
      expect(aws.body.events.some((e: { record: { eventSource: string } }) => e.record.eventSource === 'kms.amazonaws.com')).toBe(true);

      // The investigator's keyed hash finds the encryption-context value without the trail holding it.
      const hash = await rest('POST', '/v1/audit/hash', { value: EC_VALUE });
      expect(hash.body.hashes[0].hash).toBe(record.requestParameters.encryptionContext.tenant);

      const verified = await cli('audit', 'verify');
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/^OK: \d+ events in 1 chain\(s\), [1-9]\d* signed checkpoint\(s\)/);
    });

    it('finds exactly the events holding an encryption-context value by its keyed hash (hash=), and refuses a malformed hash', async () => {
      const rest = restClient(server.credentials);
      const keyId: string = (await rest('POST', '/v1/keys', { description: 'hash search' })).body.key.keyId;
      const enc = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT), encryptionContext: { tenant: SEARCH_VALUE } });
      expect(enc.status).toBe(200);
      const decoy = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT), encryptionContext: { tenant: `${SEARCH_VALUE}-2`, other: EC_VALUE } });
      expect(decoy.status).toBe(200);

      const computed = await rest('POST', '/v1/audit/hash', { value: SEARCH_VALUE });
      expect(computed.status).toBe(200);
      expect(computed.body.hashes).toHaveLength(1);
      const hash: string = computed.body.hashes[0].hash;
      expect(hash).toMatch(/^hmac-sha256:audit-hmac-1:[0-9a-f]{64}$/);
      const found = await rest('GET', `/v1/audit/events?hash=${encodeURIComponent(hash)}`);
      expect(found.status).toBe(200);
      expect(found.body.events).toHaveLength(1);
      const [event] = found.body.events;
      expect(event).toMatchObject({ eventName: 'Encrypt', requestId: enc.headers['x-request-id'], outcome: 'success' });
      expect(event.record.requestParameters.encryptionContext).toEqual({ tenant: hash });
      // Searching (and hashing) is audited without the hash or the value: the result stays the same.
      const again = await rest('GET', `/v1/audit/events?hash=${encodeURIComponent(hash)}&eventName=Encrypt&limit=10`);
      expect(again.body.events.map((e: { requestId: string }) => e.requestId)).toEqual([enc.headers['x-request-id']]);
      // Any of several (one per HMAC key version of a value): the decoy holds EC_VALUE, and so do the first test's events.
      const [ecHash] = (await rest('POST', '/v1/audit/hash', { value: EC_VALUE })).body.hashes;
      const idsOf = async (query: string): Promise<string[]> => (await rest('GET', `/v1/audit/events?${query}&limit=1000`)).body.events.map((e: { requestId: string }) => e.requestId);
      const either = await idsOf(`hash=${encodeURIComponent(hash)}&hash=${encodeURIComponent(ecHash.hash)}`);
      const ecOnly = await idsOf(`hash=${encodeURIComponent(ecHash.hash)}`);
      expect(ecOnly).toContain(decoy.headers['x-request-id']);
      expect(ecOnly).not.toContain(enc.headers['x-request-id']);
      expect([...either].sort()).toEqual([...ecOnly, enc.headers['x-request-id']].sort());

      // Only the exact keyed-hash format is accepted: a typed 400, before anything is searched.
      const malformed = [
        hash.toUpperCase(),
        hash.slice(0, -1),
        `${hash}0`,
        hash.replace('audit-hmac-1', 'audit-hmac-0'),
        hash.replace('hmac-sha256', 'hmac-sha512'),
        `${hash.slice(0, -1)}%`,
        `${hash.slice(0, -1)}_`,
        `${hash.slice(0, -1)}\\`,
        'hmac-sha256:audit-hmac-1:%',
        '%',
        '',
        SEARCH_VALUE,
      ];
      for (const bad of malformed) {
        const r = await rest('GET', `/v1/audit/events?hash=${encodeURIComponent(bad)}`);
        expect(r.status, bad).toBe(400);
        expect(r.body, bad).toMatchObject({ code: 'ERR_VALIDATION' });
        expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      const tooMany = Array.from({ length: 17 }, () => `hash=${encodeURIComponent(hash)}`).join('&');
      expect((await rest('GET', `/v1/audit/events?${tooMany}`)).body).toMatchObject({ code: 'ERR_VALIDATION' });
      const mixed = await rest('GET', `/v1/audit/events?hash=${encodeURIComponent(hash)}&hash=%25`);
      expect(mixed.status).toBe(400);
      expect(mixed.body.code).toBe('ERR_VALIDATION');
    });

    it('exports JSON lines that verify offline with the pinned public key, and detect an edit', async () => {
      const pub = await cli('audit', 'public-key');
      expect(pub.code).toBe(0);
      await writeFile(join(dir, 'audit.pem'), pub.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
      const exported = await cli('audit', 'export', '--output', join(dir, 'export.jsonl'));
      expect(exported.code).toBe(0);
      const offline = await runCli(['audit', 'verify', '--file', join(dir, 'export.jsonl'), '--public-key', join(dir, 'audit.pem')]);
      expect(offline.stdout).toMatch(/^OK: /);
      expect(offline.code).toBe(0);

      const lines = (await readFile(join(dir, 'export.jsonl'), 'utf8')).trim().split('\n');
      const i = lines.findIndex((l) => l.includes('"type":"event"') && l.includes('Encrypt'));
      lines[i] = lines[i]!.replace('\\"outcome\\":\\"success\\"', '\\"outcome\\":\\"failure\\"');
      await writeFile(join(dir, 'edited.jsonl'), `${lines.join('\n')}\n`);
      const broken = await runCli(['audit', 'verify', '--file', join(dir, 'edited.jsonl'), '--public-key', join(dir, 'audit.pem')]);
      expect(broken.code).toBe(3);
      expect(broken.stdout).toMatch(/first break: \[edited\] chain .*: event \d+ was edited/);

      // The digest files alone: a header and the signed checkpoints, no event.
      const digests = await cli('audit', 'export', '--checkpoints-only', '--output', join(dir, 'checkpoints.jsonl'));
      expect(digests.code).toBe(0);
      const types = (await readFile(join(dir, 'checkpoints.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
      expect(types[0]).toBe('header');
      expect(types.length).toBeGreaterThan(1);
      expect(new Set(types.slice(1))).toEqual(new Set(['checkpoint']));

      // A range of one chain verifies online on its own.
      const chainId = lines.map((l) => JSON.parse(l) as { type: string; record?: string }).find((l) => l.type === 'event')!;
      const id = (JSON.parse(chainId.record!) as { chain: { id: string } }).chain.id;
      const ranged = await cli('--json', 'audit', 'verify', '--chain', id, '--from-sequence', '2', '--to-sequence', '5');
      expect(ranged.code).toBe(0);
      const report = JSON.parse(ranged.stdout) as { ok: boolean; events: number; chains: { chainId: string; firstSequence: number; lastSequence: number }[] };
      expect(report).toMatchObject({ ok: true, events: 4, chains: [{ chainId: id, firstSequence: 2, lastSequence: 5 }] });
    });

    it('fails closed, fast, while storage refuses audit events, reports it in health, and recovers', async () => {
      const rest = restClient(server.credentials);
      const keyId: string = (await rest('POST', '/v1/keys', {})).body.key.keyId;
      await engine.block(dir, true);
      try {
        const started = Date.now();
        const failed = await Promise.all(Array.from({ length: 20 }, () => rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT) })));
        expect(Date.now() - started).toBeLessThan(8000);
        for (const r of failed) {
          expect(r.status).toBe(503);
          expect(r.body.code).toBe('ERR_AUDIT_UNAVAILABLE');
          expect(JSON.stringify(r.body)).not.toContain('ciphertext');
        }
        const health = await rest('GET', '/v1/health');
        expect(health.status).toBe(503);
        expect(health.body).toMatchObject({ status: 'degraded', audit: 'unavailable' });
      } finally {
        await engine.block(dir, false);
      }
      const ok = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT) });
      expect(ok.status).toBe(200);
      expect((await rest('GET', '/v1/health')).body.audit).toBe('ok');
      const verified = await cli('audit', 'verify');
      expect(verified.stdout).toMatch(/^OK: \d+ events in 2 chain\(s\)/);
      expect(verified.code).toBe(0);
    });

    it('survives kill -9 under load: every success has its event and the chains verify after restart', async () => {
      const rest = restClient(server.credentials);
      const keyId: string = (await rest('POST', '/v1/keys', {})).body.key.keyId;
      const succeeded: string[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          try {
            const r = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64(PLAINTEXT) });
            if (r.status === 200) succeeded.push(String(r.headers['x-request-id']));
          } catch {
            return; // connection reset by the kill
          }
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      await new Promise((r) => setTimeout(r, 1500));
      server.process.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await server.stop();
      expect(succeeded.length).toBeGreaterThan(50);

      server = await startDevServer(dir, { env: env() });
      const after = restClient(server.credentials);
      for (const id of succeeded) {
        const found = await after('GET', `/v1/audit/events?requestId=${id}&outcome=success`);
        expect(found.body.events, `request ${id}`).toHaveLength(1);
      }
      const verified = await cli('audit', 'verify');
      expect(verified.stdout).toMatch(/^OK: /);
      expect(verified.code).toBe(0);
    });

    it('holds no plaintext, encryption-context value, token or secret key anywhere in the trail', async () => {
      const creds = server.credentials;
      const exported = await cli('audit', 'export', '--output', join(dir, 'final.jsonl'));
      expect(exported.code).toBe(0);
      const haystacks = [await engine.dump(dir), await readFile(join(dir, 'final.jsonl'), 'utf8'), await readFile(join(dir, 'stream.jsonl'), 'utf8')];
      const needles = [PLAINTEXT, b64(PLAINTEXT), EC_VALUE, SEARCH_VALUE, creds.token, creds.secretAccessKey];
      for (const hay of haystacks) {
        expect(hay.length).toBeGreaterThan(1000);
        for (const needle of needles) expect(hay.includes(needle), `found ${needle.slice(0, 6)}…`).toBe(false);
      }
    });
  });
}
