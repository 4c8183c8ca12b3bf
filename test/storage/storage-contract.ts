/**
 * The Storage port's contract suite, run against every adapter (sqlite.test.ts, postgres.test.ts).
 * Each test gets a fresh, empty database from the harness and may open several independent instances on it
 * (separate connections or pools), as separate servers would.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyDb } from '../../src/adapters/storage/migrations.js';
import { createAuditChain } from '../../src/audit/audit-chain.js';
import type { AuditEvent, AuditSearch } from '../../src/ports/audit-sink.js';
import type {
  AccessKeyRecord,
  AliasRecord,
  ApprovalRecord,
  ClientCertificateRecord,
  GrantRecord,
  KeyRecord,
  KeyState,
  KeyVersionRecord,
  ManagedPolicyRecord,
  PrincipalRecord,
  Storage,
  TokenRecord,
} from '../../src/ports/storage.js';

export interface StorageHarness {
  /** Opens a new, independent instance on this harness's database (migrating it if needed). */
  open(): Promise<Storage>;
  /**
   * Upgrade tests: migrates this harness's (fresh) database only up to migration `name` and returns a raw, untyped
   * Kysely on it, to write rows as that schema had them. Close it before `open`.
   */
  migrateTo(name: string): Promise<{ db: AnyDb; close(): Promise<void> }>;
  /** Closes every instance it opened and removes the database. */
  dispose(): Promise<void>;
}

export type StorageHarnessFactory = () => Promise<StorageHarness>;

// ---- fixtures ---------------------------------------------------------------------------------------------

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (days: number, ms = 0) => new Date(T0.getTime() + days * 86_400_000 + ms);

export function makeKey(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: randomUUID(),
    createdAt: at(0, 123),
    description: 'a key',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    origin: 'AWS_KMS',
    state: 'Enabled',
    currentVersion: 1,
    rotationPeriodDays: 365,
    nextRotationAt: at(365),
    deletionAt: null,
    pendingWindowDays: null,
    tags: {},
    policy: null,
    ...overrides,
  };
}

export function makeVersion(keyId: string, version: number, overrides: Partial<KeyVersionRecord> = {}): KeyVersionRecord {
  return {
    keyId,
    version,
    materialId: randomBytes(32).toString('hex'),
    wrapped: new Uint8Array(randomBytes(60)),
    createdAt: at(version, 7),
    rotationType: version === 1 ? 'ORIGINAL' : 'ON_DEMAND',
    ...overrides,
  };
}

export function makeGrant(keyId: string, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: randomBytes(32).toString('hex'),
    keyId,
    name: null,
    granteePrincipal: 'arn:aws:iam::111122223333:user/app',
    retiringPrincipal: null,
    operations: ['Encrypt', 'Decrypt'],
    constraints: null,
    issuedBy: 'arn:aws:iam::111122223333:user/admin',
    createdAt: at(1, 5),
    ...overrides,
  };
}

export function makeEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    eventId: randomUUID(),
    eventTime: at(0, 999),
    eventName: 'Encrypt',
    eventSource: 'rest',
    requestId: `req-${randomUUID()}`,
    principal: 'arn:aws:iam::111122223333:user/alice',
    credential: 'token:abc',
    sourceIp: '127.0.0.1',
    userAgent: 'vitest',
    resource: 'arn:aws:kms:us-east-1:111122223333:key/x',
    outcome: 'success',
    errorCode: null,
    readOnly: false,
    details: {},
    ...overrides,
  };
}

export function makePrincipal(overrides: Partial<PrincipalRecord> = {}): PrincipalRecord {
  const name = `user-${randomUUID().slice(0, 8)}`;
  return {
    id: randomUUID(),
    name,
    kind: 'user',
    arn: `arn:aws:iam::111122223333:user/${name}`,
    roles: ['administrator', 'auditor'],
    policies: [],
    tags: {},
    disabled: false,
    createdAt: at(0, 5),
    updatedAt: at(0, 6),
    ...overrides,
  };
}

export function makeAccessKey(principalId: string, overrides: Partial<AccessKeyRecord> = {}): AccessKeyRecord {
  return {
    id: 'DDAK' + randomBytes(8).toString('hex').toUpperCase(),
    principalId,
    secretWrapped: new Uint8Array(randomBytes(72)),
    status: 'Active',
    createdAt: at(2, 3),
    expiresAt: null,
    ...overrides,
  };
}

export function makeToken(principalId: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    hash: randomBytes(32).toString('hex'),
    accessor: `acc-${randomBytes(8).toString('hex')}`,
    principalId,
    createdAt: at(1, 1),
    expiresAt: null,
    ...overrides,
  };
}

export function makePolicy(overrides: Partial<ManagedPolicyRecord> = {}): ManagedPolicyRecord {
  return {
    name: `policy-${randomUUID().slice(0, 8)}`,
    description: 'a policy',
    document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}',
    createdAt: at(0, 10),
    updatedAt: at(0, 11),
    ...overrides,
  };
}

export function makeCertificate(principalId: string, overrides: Partial<ClientCertificateRecord> = {}): ClientCertificateRecord {
  return {
    fingerprint: randomBytes(32).toString('hex'),
    principalId,
    subject: 'CN=payments-service,O=Example Bank',
    notAfter: at(365, 1),
    createdAt: at(1, 2),
    ...overrides,
  };
}

export function makeApproval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: randomUUID(),
    operation: 'ScheduleKeyDeletion',
    resource: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    requestDigest: randomBytes(32).toString('hex'),
    summary: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 7 },
    requesterId: randomUUID(),
    requesterArn: 'arn:aws:iam::111122223333:user/alice',
    status: 'Pending',
    approverId: null,
    approverArn: null,
    createdAt: at(0, 100),
    expiresAt: at(1, 100),
    decidedAt: null,
    consumedAt: null,
    ...overrides,
  };
}

/** Rotates `keyId` on `storage` until one addVersion succeeds; returns the version it added. */
async function rotateWithRetry(storage: Storage, keyId: string): Promise<number> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const key = await storage.getKey(keyId);
    if (!key) throw new Error('key vanished');
    const next = key.currentVersion + 1;
    if (await storage.addVersion(makeVersion(keyId, next), key.currentVersion, at(next * 10))) return next;
  }
  throw new Error('rotation never succeeded');
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const ERR = (code: string) => expect.objectContaining({ code });

// ---- the suite --------------------------------------------------------------------------------------------

export function storageContract(kind: Storage['kind'], newHarness: StorageHarnessFactory): void {
  describe(`Storage contract (${kind})`, () => {
    let current: StorageHarness | undefined;
    let storage: Storage;
    /** Opens another instance on the current test's database. */
    const harness = { open: () => current!.open() };

    beforeEach(async () => {
      current = await newHarness();
      storage = await current.open();
    });
    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.dispose();
    });

    const createKey = async (overrides: Partial<KeyRecord> = {}, s: Storage = storage) => {
      const key = makeKey(overrides);
      const first = makeVersion(key.id, key.currentVersion);
      await s.createKey(key, first);
      return { key, first };
    };

    it(`reports kind ${kind}`, () => {
      expect(storage.kind).toBe(kind);
    });

    describe('keys', () => {
      it('round-trips every field, including unicode tags and every nullable field set', async () => {
        const key = makeKey({
          description: 'Zahlungsverkehr — clé 🔑 "quoted" \\ back\nslash',
          origin: 'EXTERNAL',
          state: 'PendingDeletion',
          rotationPeriodDays: 90,
          nextRotationAt: at(90, 1),
          deletionAt: at(7, 2),
          pendingWindowDays: 7,
          tags: { 環境: '本番', 'cost-center': 'Zürich 🏦', empty: '', 'ctl\u0001': 'nul\u0000 and emoji 👩‍💻', '𝒳': '\u00e9\u0301' },
        });
        const first = makeVersion(key.id, 1);
        await storage.createKey(key, first);
        expect(await storage.getKey(key.id)).toEqual(key);
        const stored = await storage.getVersion(key.id, 1);
        expect(stored).toEqual({ ...first, wrapped: expect.anything() });
        expect(stored!.wrapped).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(stored!.wrapped).equals(Buffer.from(first.wrapped))).toBe(true);
      });

      it('round-trips null dates and numbers, empty tags and millisecond precision', async () => {
        const { key } = await createKey({ rotationPeriodDays: null, nextRotationAt: null, createdAt: at(3, 1) });
        const got = await storage.getKey(key.id);
        expect(got).toEqual(key);
        expect(got!.nextRotationAt).toBeNull();
        expect(got!.deletionAt).toBeNull();
        expect(got!.pendingWindowDays).toBeNull();
        expect(got!.rotationPeriodDays).toBeNull();
        expect(got!.createdAt).toBeInstanceOf(Date);
        expect(got!.createdAt.getTime()).toBe(at(3, 1).getTime());
        expect(got!.tags).toEqual({});
      });

      it('stores wrapped bytes given as a Uint8Array view into a larger buffer', async () => {
        const backing = randomBytes(100);
        const key = makeKey();
        const first = makeVersion(key.id, 1, { wrapped: new Uint8Array(backing.buffer, backing.byteOffset + 10, 48) });
        await storage.createKey(key, first);
        const got = await storage.getVersion(key.id, 1);
        expect(Buffer.from(got!.wrapped).equals(backing.subarray(10, 58))).toBe(true);
      });

      it('returns undefined for a missing key', async () => {
        expect(await storage.getKey(randomUUID())).toBeUndefined();
      });

      it('rejects a duplicate key id with AlreadyExistsError and keeps the original', async () => {
        const { key, first } = await createKey();
        const again = makeKey({ id: key.id, description: 'other' });
        await expect(storage.createKey(again, makeVersion(key.id, 1))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        await expect(storage.createKey(again, makeVersion(key.id, 1))).rejects.toThrow('A key with this id already exists.');
        expect(await storage.getKey(key.id)).toEqual(key);
        expect((await storage.listVersions(key.id)).map((v) => v.materialId)).toEqual([first.materialId]);
      });

      it('creates key and first version in one transaction (a failing version insert leaves no key)', async () => {
        const key = makeKey();
        const bad = makeVersion(key.id, 1, { rotationType: 'BOGUS' as KeyVersionRecord['rotationType'] });
        await expect(storage.createKey(key, bad)).rejects.toEqual(ERR('ERR_INTERNAL'));
        expect(await storage.getKey(key.id)).toBeUndefined();
        expect(await storage.listVersions(key.id)).toEqual([]);
      });

      it('refuses a first version that is not the key’s current version', async () => {
        const key = makeKey();
        await expect(storage.createKey(key, makeVersion(key.id, 2))).rejects.toEqual(ERR('ERR_VALIDATION'));
        await expect(storage.createKey(key, makeVersion(randomUUID(), 1))).rejects.toEqual(ERR('ERR_VALIDATION'));
        expect(await storage.getKey(key.id)).toBeUndefined();
      });

      it('lists keys ordered by id across pages, with nextMarker only while more follow', async () => {
        expect(await storage.listKeys({ limit: 5 })).toEqual({ items: [] });
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await createKey()).key.id);
        ids.sort();

        const p1 = await storage.listKeys({ limit: 3 });
        expect(p1.items.map((k) => k.id)).toEqual(ids.slice(0, 3));
        expect(p1.nextMarker).toEqual(expect.any(String));
        expect(p1.nextMarker).toMatch(/^[A-Za-z0-9_-]+$/);
        const p2 = await storage.listKeys({ limit: 3, marker: p1.nextMarker! });
        expect(p2.items.map((k) => k.id)).toEqual(ids.slice(3, 6));
        const p3 = await storage.listKeys({ limit: 3, marker: p2.nextMarker! });
        expect(p3.items.map((k) => k.id)).toEqual(ids.slice(6));
        expect('nextMarker' in p3).toBe(false);

        const exact = await storage.listKeys({ limit: 7 });
        expect(exact.items).toHaveLength(7);
        expect('nextMarker' in exact).toBe(false);
        const exactTail = await storage.listKeys({ limit: 6 });
        const last = await storage.listKeys({ limit: 1, marker: exactTail.nextMarker! });
        expect(last.items.map((k) => k.id)).toEqual([ids[6]]);
        expect('nextMarker' in last).toBe(false);
        expect((await storage.listKeys({ limit: 1 })).items[0]).toEqual(await storage.getKey(ids[0]!));
      });

      it('rejects undecodable or foreign markers with InvalidMarkerError', async () => {
        await createKey();
        const aliasMarker = Buffer.from('aliases:alias/x').toString('base64url');
        for (const marker of [
          'not a marker!',
          '',
          '====',
          Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url'),
          Buffer.from('keys:abc').toString('base64'), // padded: not canonical base64url
          Buffer.from('keys:').toString('base64url'),
          aliasMarker,
          'A'.repeat(5000),
        ]) {
          await expect(storage.listKeys({ limit: 2, marker }), marker).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        }
        await expect(storage.listAliases({ limit: 2, marker: Buffer.from('keys:abc').toString('base64url') })).rejects.toEqual(
          ERR('ERR_INVALID_MARKER'),
        );
      });

      it('rejects a non-positive limit', async () => {
        await expect(storage.listKeys({ limit: 0 })).rejects.toEqual(ERR('ERR_VALIDATION'));
        await expect(storage.listKeysDueForRotation(T0, -1)).rejects.toEqual(ERR('ERR_VALIDATION'));
      });
    });

    describe('updateKey', () => {
      it('applies every patchable field and leaves the others alone', async () => {
        const { key } = await createKey({ tags: { a: '1' } });
        const patch = {
          description: 'new ✓',
          state: 'PendingDeletion' as const,
          rotationPeriodDays: null,
          nextRotationAt: null,
          deletionAt: at(30, 3),
          pendingWindowDays: 30,
          tags: { b: 'zwei', ü: 'ß' },
        };
        const updated = await storage.updateKey(key.id, patch);
        const expected = { ...key, ...patch };
        expect(updated).toEqual(expected);
        expect(await storage.getKey(key.id)).toEqual(expected);

        const back = await storage.updateKey(key.id, { state: 'Enabled', deletionAt: null, pendingWindowDays: null, rotationPeriodDays: 180, nextRotationAt: at(180) });
        expect(back).toEqual({ ...expected, state: 'Enabled', deletionAt: null, pendingWindowDays: null, rotationPeriodDays: 180, nextRotationAt: at(180) });
      });

      it('ignores properties that are present but undefined', async () => {
        const { key } = await createKey();
        expect(await storage.updateKey(key.id, { description: undefined, tags: { x: 'y' } })).toEqual({ ...key, tags: { x: 'y' } });
      });

      it('applies the patch only when the state is one of ifStates', async () => {
        const { key } = await createKey({ state: 'Disabled' });
        expect(await storage.updateKey(key.id, { state: 'Enabled' }, ['Enabled', 'PendingDeletion'])).toBeUndefined();
        expect(await storage.getKey(key.id)).toEqual(key);
        expect(await storage.updateKey(key.id, { state: 'Enabled' }, [])).toBeUndefined();
        expect(await storage.getKey(key.id)).toEqual(key);
        expect(await storage.updateKey(key.id, { state: 'Enabled' }, ['Disabled'])).toEqual({ ...key, state: 'Enabled' });
        // The condition is evaluated against the current state, so the same conditional update now fails.
        expect(await storage.updateKey(key.id, { state: 'Enabled' }, ['Disabled'])).toBeUndefined();
      });

      it('returns undefined for a missing key', async () => {
        expect(await storage.updateKey(randomUUID(), { description: 'x' })).toBeUndefined();
        expect(await storage.updateKey(randomUUID(), { description: 'x' }, ['Enabled'])).toBeUndefined();
      });

      it('with an empty patch returns the key when it exists and matches', async () => {
        const { key } = await createKey();
        expect(await storage.updateKey(key.id, {})).toEqual(key);
        expect(await storage.updateKey(key.id, {}, ['Enabled'])).toEqual(key);
        expect(await storage.updateKey(key.id, {}, ['Disabled'])).toBeUndefined();
      });

      it('lets exactly one of many concurrent conditional updates through', async () => {
        const other = await harness.open();
        const { key } = await createKey();
        const results = await Promise.all(
          range(1, 10).map((i) => (i % 2 ? storage : other).updateKey(key.id, { state: 'Disabled', description: `by ${i}` }, ['Enabled'])),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect(await storage.getKey(key.id)).toEqual(winners[0]);
      });
    });

    describe('versions and addVersion', () => {
      it('adds a version, moves currentVersion and nextRotationAt, and lists versions oldest first', async () => {
        const { key, first } = await createKey();
        const v2 = makeVersion(key.id, 2, { rotationType: 'AUTOMATIC' });
        expect(await storage.addVersion(v2, 1, at(730))).toBe(true);
        expect(await storage.getKey(key.id)).toEqual({ ...key, currentVersion: 2, nextRotationAt: at(730) });
        const v3 = makeVersion(key.id, 3);
        expect(await storage.addVersion(v3, 2, null)).toBe(true);
        expect(await storage.getKey(key.id)).toEqual({ ...key, currentVersion: 3, nextRotationAt: null });

        const listed = await storage.listVersions(key.id);
        expect(listed.map((v) => v.version)).toEqual([1, 2, 3]);
        expect(listed.map((v) => ({ ...v, wrapped: Buffer.from(v.wrapped).toString('hex') }))).toEqual(
          [first, v2, v3].map((v) => ({ ...v, wrapped: Buffer.from(v.wrapped).toString('hex') })),
        );
        expect(await storage.getVersion(key.id, 2)).toEqual({ ...v2, wrapped: expect.anything() });
        expect(await storage.getVersion(key.id, 4)).toBeUndefined();
        expect(await storage.listVersions(randomUUID())).toEqual([]);
      });

      it('returns false and changes nothing when expectedCurrent is stale', async () => {
        const { key } = await createKey();
        expect(await storage.addVersion(makeVersion(key.id, 2), 1, at(1))).toBe(true);
        const before = await storage.getKey(key.id);
        expect(await storage.addVersion(makeVersion(key.id, 2), 1, at(2))).toBe(false);
        expect(await storage.addVersion(makeVersion(key.id, 4), 3, at(2))).toBe(false);
        expect(await storage.getKey(key.id)).toEqual(before);
        expect((await storage.listVersions(key.id)).map((v) => v.version)).toEqual([1, 2]);
        expect(await storage.getVersion(key.id, 4)).toBeUndefined();
      });

      it.each<KeyState>(['Disabled', 'PendingDeletion'])('returns false and changes nothing when the key is %s', async (state) => {
        const { key } = await createKey({ state, deletionAt: state === 'PendingDeletion' ? at(7) : null });
        expect(await storage.addVersion(makeVersion(key.id, 2), 1, at(9))).toBe(false);
        expect(await storage.getKey(key.id)).toEqual(key);
        expect((await storage.listVersions(key.id)).map((v) => v.version)).toEqual([1]);
      });

      it('returns false for a missing key', async () => {
        const id = randomUUID();
        expect(await storage.addVersion(makeVersion(id, 2), 1, null)).toBe(false);
        expect(await storage.listVersions(id)).toEqual([]);
      });

      it('refuses a version not numbered expectedCurrent + 1', async () => {
        const { key } = await createKey();
        await expect(storage.addVersion(makeVersion(key.id, 3), 1, null)).rejects.toEqual(ERR('ERR_VALIDATION'));
        expect((await storage.listVersions(key.id)).map((v) => v.version)).toEqual([1]);
      });

      it('lets exactly one of 20 concurrent rotations from two instances win', async () => {
        const other = await harness.open();
        const { key } = await createKey();
        const attempts = range(1, 20).map((i) => makeVersion(key.id, 2, { materialId: i.toString(16).padStart(64, '0') }));
        const results = await Promise.all(attempts.map((v, i) => (i % 2 ? storage : other).addVersion(v, 1, at(100 + i))));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        const versions = await other.listVersions(key.id);
        expect(versions.map((v) => v.version)).toEqual([1, 2]);
        expect(versions[1]!.materialId).toBe(attempts[winner]!.materialId);
        expect(await storage.getKey(key.id)).toEqual({ ...key, currentVersion: 2, nextRotationAt: at(100 + winner) });
      });

      it('two instances rotating 10 times each with retry leave versions 1..21 without gaps or duplicates', async () => {
        const other = await harness.open();
        const { key } = await createKey();
        const loop = async (s: Storage) => {
          const added: number[] = [];
          for (let i = 0; i < 10; i++) added.push(await rotateWithRetry(s, key.id));
          return added;
        };
        const [a, b] = await Promise.all([loop(storage), loop(other)]);
        expect([...a, ...b].sort((x, y) => x - y)).toEqual(range(2, 21));
        expect((await storage.listVersions(key.id)).map((v) => v.version)).toEqual(range(1, 21));
        expect((await other.getKey(key.id))!.currentVersion).toBe(21);
      });
    });

    describe('jobs: due for rotation and deletion', () => {
      it('lists Enabled keys whose nextRotationAt <= now, oldest due first, up to limit', async () => {
        const due3 = (await createKey({ nextRotationAt: at(3) })).key;
        const due1 = (await createKey({ nextRotationAt: at(1) })).key;
        const dueNow = (await createKey({ nextRotationAt: at(10) })).key;
        await createKey({ nextRotationAt: at(10, 1) }); // one millisecond too late
        await createKey({ nextRotationAt: null, rotationPeriodDays: null });
        await createKey({ state: 'Disabled', nextRotationAt: at(0) });
        await createKey({ state: 'PendingDeletion', nextRotationAt: at(0), deletionAt: at(5) });

        expect((await storage.listKeysDueForRotation(at(10), 10)).map((k) => k.id)).toEqual([due1.id, due3.id, dueNow.id]);
        expect(await storage.listKeysDueForRotation(at(10), 2)).toEqual([due1, due3]);
        expect(await storage.listKeysDueForRotation(at(0), 10)).toEqual([]);
      });

      it('lists PendingDeletion keys whose deletionAt <= now, up to limit', async () => {
        const a = (await createKey({ state: 'PendingDeletion', deletionAt: at(7), pendingWindowDays: 7 })).key;
        const b = (await createKey({ state: 'PendingDeletion', deletionAt: at(2), pendingWindowDays: 7 })).key;
        await createKey({ state: 'PendingDeletion', deletionAt: at(7, 1), pendingWindowDays: 7 });
        await createKey({ state: 'Disabled', deletionAt: at(1) });
        await createKey({ state: 'Enabled' });

        expect(await storage.listKeysDueForDeletion(at(7), 10)).toEqual([b, a]);
        expect((await storage.listKeysDueForDeletion(at(7), 1)).map((k) => k.id)).toEqual([b.id]);
        expect(await storage.listKeysDueForDeletion(at(1), 10)).toEqual([]);
      });
    });

    describe('destroyKey', () => {
      it('destroys a due key with every version and alias, and nothing else', async () => {
        const { key } = await createKey({ state: 'PendingDeletion', deletionAt: at(7), pendingWindowDays: 7 });
        expect(await storage.addVersion(makeVersion(key.id, 2), 1, null)).toBe(false); // not Enabled
        await storage.updateKey(key.id, { state: 'Enabled' });
        expect(await storage.addVersion(makeVersion(key.id, 2), 1, null)).toBe(true);
        await storage.updateKey(key.id, { state: 'PendingDeletion' });
        const { key: survivor } = await createKey();
        for (const name of ['alias/doomed-1', 'alias/doomed-2']) await storage.createAlias({ name, keyId: key.id, createdAt: at(1), updatedAt: at(1) });
        await storage.createAlias({ name: 'alias/survivor', keyId: survivor.id, createdAt: at(1), updatedAt: at(1) });

        expect(await storage.destroyKey(key.id, at(7))).toBe(true);
        expect(await storage.getKey(key.id)).toBeUndefined();
        expect(await storage.getVersion(key.id, 1)).toBeUndefined();
        expect(await storage.getVersion(key.id, 2)).toBeUndefined();
        expect(await storage.listVersions(key.id)).toEqual([]);
        expect(await storage.getAlias('alias/doomed-1')).toBeUndefined();
        expect((await storage.listAliases({ limit: 10 })).items.map((a) => a.name)).toEqual(['alias/survivor']);
        expect(await storage.getKey(survivor.id)).toEqual(survivor);
        expect(await storage.listVersions(survivor.id)).toHaveLength(1);
        expect(await storage.destroyKey(key.id, at(8))).toBe(false);
      });

      it('refuses a key that is not yet due, not pending deletion, or missing', async () => {
        const { key: pending } = await createKey({ state: 'PendingDeletion', deletionAt: at(7), pendingWindowDays: 7 });
        const { key: enabled } = await createKey();
        const { key: disabledWithDate } = await createKey({ state: 'Disabled', deletionAt: at(1) });
        expect(await storage.destroyKey(pending.id, at(7, -1))).toBe(false);
        expect(await storage.destroyKey(enabled.id, at(100))).toBe(false);
        expect(await storage.destroyKey(disabledWithDate.id, at(100))).toBe(false);
        expect(await storage.destroyKey(randomUUID(), at(100))).toBe(false);
        expect(await storage.getKey(pending.id)).toEqual(pending);
        expect(await storage.getVersion(pending.id, 1)).toBeDefined();
        expect(await storage.getKey(enabled.id)).toEqual(enabled);
        expect(await storage.getKey(disabledWithDate.id)).toEqual(disabledWithDate);
      });

      it('refuses a key whose deletion was cancelled', async () => {
        const { key } = await createKey({ state: 'PendingDeletion', deletionAt: at(7), pendingWindowDays: 7 });
        await storage.updateKey(key.id, { state: 'Disabled', deletionAt: null, pendingWindowDays: null }, ['PendingDeletion']);
        expect(await storage.destroyKey(key.id, at(30))).toBe(false);
        expect(await storage.getVersion(key.id, 1)).toBeDefined();
      });

      it('destroys a key exactly once when two instances race', async () => {
        const other = await harness.open();
        const { key } = await createKey({ state: 'PendingDeletion', deletionAt: at(7), pendingWindowDays: 7 });
        const results = await Promise.all(range(1, 6).map((i) => (i % 2 ? storage : other).destroyKey(key.id, at(8))));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await other.getKey(key.id)).toBeUndefined();
      });
    });

    describe('aliases', () => {
      const alias = (name: string, keyId: string, day = 1): AliasRecord => ({ name, keyId, createdAt: at(day, 1), updatedAt: at(day, 2) });

      it('creates, reads, repoints and deletes an alias', async () => {
        const { key: k1 } = await createKey();
        const { key: k2 } = await createKey();
        const a = alias('alias/pay-ments_ü/1', k1.id);
        await storage.createAlias(a);
        expect(await storage.getAlias(a.name)).toEqual(a);
        expect(await storage.getAlias('alias/PAY-MENTS_ü/1')).toBeUndefined(); // names are case-sensitive

        expect(await storage.updateAlias(a.name, k2.id, at(5))).toBe(true);
        expect(await storage.getAlias(a.name)).toEqual({ ...a, keyId: k2.id, updatedAt: at(5) });
        expect(await storage.updateAlias('alias/missing', k2.id, at(5))).toBe(false);
        expect(await storage.getAlias('alias/missing')).toBeUndefined();

        expect(await storage.deleteAlias(a.name)).toBe(true);
        expect(await storage.getAlias(a.name)).toBeUndefined();
        expect(await storage.deleteAlias(a.name)).toBe(false);
      });

      it('rejects a duplicate name with AlreadyExistsError, whichever key it targets', async () => {
        const { key: k1 } = await createKey();
        const { key: k2 } = await createKey();
        await storage.createAlias(alias('alias/dup', k1.id));
        await expect(storage.createAlias(alias('alias/dup', k2.id, 2))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        const err = await storage.createAlias(alias('alias/dup', k1.id)).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_ALREADY_EXISTS', message: 'An alias with this name already exists.' });
        expect((err as Error).cause).toBeDefined(); // the driver error is kept as cause, never in the message
        expect(await storage.getAlias('alias/dup')).toEqual(alias('alias/dup', k1.id));
      });

      it('rejects an alias to a key that does not exist with NotFoundError', async () => {
        await expect(storage.createAlias(alias('alias/orphan', randomUUID()))).rejects.toEqual(ERR('ERR_NOT_FOUND'));
        const { key } = await createKey();
        await storage.createAlias(alias('alias/ok', key.id));
        await expect(storage.updateAlias('alias/ok', randomUUID(), at(2))).rejects.toEqual(ERR('ERR_NOT_FOUND'));
        expect(await storage.getAlias('alias/ok')).toEqual(alias('alias/ok', key.id));
      });

      it('lists aliases by name (code-point order) across pages, optionally of one key', async () => {
        const { key: k1 } = await createKey();
        const { key: k2 } = await createKey();
        const names = ['alias/b', 'alias/A', 'alias/a-1', 'alias/a_1', 'alias/Z', 'alias/é', 'alias/a'];
        for (const [i, name] of names.entries()) await storage.createAlias(alias(name, i % 2 ? k2.id : k1.id));
        const sorted = [...names].sort(); // UTF-16 order equals code-point order for these BMP names

        const seen: string[] = [];
        let marker: string | undefined;
        let pages = 0;
        do {
          const page = await storage.listAliases({ limit: 2, ...(marker === undefined ? {} : { marker }) });
          seen.push(...page.items.map((a) => a.name));
          marker = page.nextMarker;
          pages++;
          if (marker === undefined) expect('nextMarker' in page).toBe(false);
        } while (marker !== undefined);
        expect(seen).toEqual(sorted);
        expect(pages).toBe(4);

        const ofK1 = names.filter((_, i) => i % 2 === 0).sort();
        const first = await storage.listAliases({ keyId: k1.id, limit: 3 });
        expect(first.items.map((a) => a.name)).toEqual(ofK1.slice(0, 3));
        expect(first.items.every((a) => a.keyId === k1.id)).toBe(true);
        const rest = await storage.listAliases({ keyId: k1.id, limit: 3, marker: first.nextMarker! });
        expect(rest.items.map((a) => a.name)).toEqual(ofK1.slice(3));
        expect('nextMarker' in rest).toBe(false);
        expect(await storage.listAliases({ keyId: randomUUID(), limit: 3 })).toEqual({ items: [] });
        await expect(storage.listAliases({ limit: 2, marker: 'x y' })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
      });
    });

    describe('imported key material', () => {
      it('creates a PendingImport key without material, imports version 1 once, deletes it and imports again', async () => {
        const key = makeKey({ origin: 'EXTERNAL', state: 'PendingImport', currentVersion: 0, rotationPeriodDays: null, nextRotationAt: null });
        await storage.createKey(key, null);
        expect(await storage.getKey(key.id)).toEqual(key);
        expect(await storage.listVersions(key.id)).toEqual([]);
        await expect(storage.createKey(makeKey({ currentVersion: 0 }), null)).rejects.toEqual(ERR('ERR_VALIDATION'));

        const v1 = makeVersion(key.id, 1);
        expect(await storage.importMaterial(v1)).toBe(true);
        expect(await storage.getKey(key.id)).toMatchObject({ state: 'Enabled', currentVersion: 1 });
        expect(Buffer.from((await storage.getVersion(key.id, 1))!.wrapped).equals(Buffer.from(v1.wrapped))).toBe(true);
        expect(await storage.importMaterial(makeVersion(key.id, 1))).toBe(false);
        await expect(storage.importMaterial(makeVersion(key.id, 2))).rejects.toEqual(ERR('ERR_VALIDATION'));

        expect(await storage.deleteMaterial(key.id)).toBe(true);
        expect(await storage.getKey(key.id)).toMatchObject({ state: 'PendingImport', currentVersion: 0 });
        expect(await storage.listVersions(key.id)).toEqual([]);
        expect(await storage.deleteMaterial(key.id)).toBe(false);
        expect(await storage.importMaterial(v1)).toBe(true);
      });

      it('never deletes the material of a key DataDefender generated', async () => {
        const { key } = await createKey();
        expect(await storage.deleteMaterial(key.id)).toBe(false);
        expect(await storage.listVersions(key.id)).toHaveLength(1);
      });
    });

    describe('key policies and grants', () => {
      const grant = makeGrant;
      const OPS = 'arn:aws:iam::111122223333:user/ops';
      const hex = (c: string) => c.repeat(64);

      it('stores a key policy, patches it and resets it to the default', async () => {
        const { key } = await createKey({ policy: '{"Version":"2012-10-17","Statement":[]}' });
        expect((await storage.getKey(key.id))!.policy).toBe('{"Version":"2012-10-17","Statement":[]}');
        expect((await storage.updateKey(key.id, { policy: '{"x":"ü"}' }))!.policy).toBe('{"x":"ü"}');
        expect((await storage.updateKey(key.id, { policy: null }))!.policy).toBeNull();
        expect((await storage.updateKey(key.id, { description: 'd' }))!.policy).toBeNull();
      });

      it('creates, reads by id and name, lists, filters and deletes grants', async () => {
        const { key } = await createKey();
        const { key: other } = await createKey();
        const g1 = grant(key.id, { id: 'a'.repeat(64), name: 'payments', constraints: { encryptionContextSubset: { tenant: 'ü' } } });
        const g2 = grant(key.id, { id: 'b'.repeat(64), granteePrincipal: 'arn:aws:iam::111122223333:user/other', retiringPrincipal: 'arn:aws:iam::111122223333:user/ops' });
        const g3 = grant(key.id, { id: 'c'.repeat(64), constraints: { encryptionContextEquals: { a: 'b' } } });
        const g4 = grant(other.id, { id: 'd'.repeat(64), retiringPrincipal: 'arn:aws:iam::111122223333:user/ops', name: 'payments' });
        for (const g of [g1, g2, g3, g4]) await storage.createGrant(g);
        expect(await storage.getGrant(key.id, g1.id)).toEqual(g1);
        expect(await storage.getGrant(other.id, g1.id)).toBeUndefined();
        expect(await storage.getGrantByName(key.id, 'payments')).toEqual(g1);
        expect(await storage.getGrantByName(other.id, 'payments')).toEqual(g4);
        expect(await storage.getGrantByName(key.id, 'nope')).toBeUndefined();

        const first = await storage.listGrants({ keyId: key.id, limit: 2 });
        expect(first.items).toEqual([g1, g2]);
        const rest = await storage.listGrants({ keyId: key.id, limit: 2, marker: first.nextMarker! });
        expect(rest).toEqual({ items: [g3] });
        await expect(storage.listGrants({ keyId: key.id, limit: 2, marker: 'bad!' })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        const aliasMarker = (await storage.listKeys({ limit: 1 })).nextMarker!;
        await expect(storage.listGrants({ keyId: key.id, limit: 2, marker: aliasMarker })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        expect((await storage.listGrants({ keyId: key.id, limit: 10, granteePrincipal: g2.granteePrincipal })).items).toEqual([g2]);

        const retirable = await storage.listRetirableGrants({ retiringPrincipal: 'arn:aws:iam::111122223333:user/ops', limit: 1 });
        expect(retirable.items).toEqual([g2]);
        expect(await storage.listRetirableGrants({ retiringPrincipal: 'arn:aws:iam::111122223333:user/ops', limit: 1, marker: retirable.nextMarker! })).toEqual({ items: [g4] });

        expect(await storage.grantsFor(key.id, g1.granteePrincipal, 10)).toEqual([g1, g3]);
        expect(await storage.grantsFor(key.id, g1.granteePrincipal, 1)).toEqual([g1]);
        expect(await storage.deleteGrant(key.id, g1.id)).toBe(true);
        expect(await storage.deleteGrant(key.id, g1.id)).toBe(false);
        expect(await storage.deleteGrant(other.id, g2.id)).toBe(false);
        expect(await storage.getGrant(key.id, g1.id)).toBeUndefined();
      });

      it('refuses a duplicate grant id or a duplicate name on one key', async () => {
        const { key } = await createKey();
        await storage.createGrant(grant(key.id, { id: 'e'.repeat(64), name: 'n' }));
        await expect(storage.createGrant(grant(key.id, { id: 'e'.repeat(64) }))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        await expect(storage.createGrant(grant(key.id, { id: 'f'.repeat(64), name: 'n' }))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        await storage.createGrant(grant(key.id, { id: '1'.repeat(64) }));
        await storage.createGrant(grant(key.id, { id: '2'.repeat(64) }));
        expect((await storage.listGrants({ keyId: key.id, limit: 10 })).items).toHaveLength(3);
      });

      it('keeps the policy when a conditional patch fails, and patches it with the state when the condition holds', async () => {
        const { key } = await createKey({ state: 'Disabled', policy: '{"v":1}' });
        expect(await storage.updateKey(key.id, { policy: '{"v":2}' }, ['Enabled'])).toBeUndefined();
        expect((await storage.getKey(key.id))!.policy).toBe('{"v":1}');
        expect(await storage.updateKey(key.id, { policy: '{"v":3}', state: 'Enabled' }, ['Disabled'])).toEqual({ ...key, state: 'Enabled', policy: '{"v":3}' });
        expect((await storage.listKeys({ limit: 10 })).items).toEqual([{ ...key, state: 'Enabled', policy: '{"v":3}' }]);
      });

      it('round-trips every grant field, with and without optional ones', async () => {
        const { key } = await createKey();
        const full = grant(key.id, {
          name: 'Zahlungen ü 🔑',
          retiringPrincipal: OPS,
          operations: ['Decrypt', 'GenerateDataKey', 'RetireGrant'],
          constraints: { encryptionContextEquals: { tenant: 'a "b" \\ c', empty: '' } },
          createdAt: at(3, 999),
        });
        const bare = grant(key.id, { operations: [], constraints: {} });
        await storage.createGrant(full);
        await storage.createGrant(bare);
        expect(await storage.getGrant(key.id, full.id)).toEqual(full);
        expect(await storage.getGrant(key.id, bare.id)).toEqual(bare);
        expect((await storage.getGrant(key.id, full.id))!.createdAt).toBeInstanceOf(Date);
      });

      it('pages grants one at a time by id, with and without a grantee filter', async () => {
        const { key } = await createKey();
        const { key: other } = await createKey();
        const other1 = 'arn:aws:iam::111122223333:user/other';
        const g3 = grant(key.id, { id: hex('3') });
        const g1 = grant(key.id, { id: hex('1'), granteePrincipal: other1 });
        const g2 = grant(key.id, { id: hex('2') });
        const elsewhere = grant(other.id, { id: hex('0') });
        for (const g of [g3, elsewhere, g1, g2]) await storage.createGrant(g);

        const p1 = await storage.listGrants({ keyId: key.id, limit: 1 });
        expect(p1.items).toEqual([g1]);
        const p2 = await storage.listGrants({ keyId: key.id, limit: 1, marker: p1.nextMarker! });
        expect(p2.items).toEqual([g2]);
        const p3 = await storage.listGrants({ keyId: key.id, limit: 1, marker: p2.nextMarker! });
        expect(p3).toEqual({ items: [g3] });
        expect(await storage.listGrants({ keyId: key.id, limit: 3 })).toEqual({ items: [g1, g2, g3] });
        expect(await storage.listGrants({ keyId: randomUUID(), limit: 3 })).toEqual({ items: [] });

        const f1 = await storage.listGrants({ keyId: key.id, granteePrincipal: g2.granteePrincipal, limit: 1 });
        expect(f1.items).toEqual([g2]);
        expect(await storage.listGrants({ keyId: key.id, granteePrincipal: g2.granteePrincipal, limit: 1, marker: f1.nextMarker! })).toEqual({ items: [g3] });
        expect(await storage.listGrants({ keyId: key.id, granteePrincipal: 'arn:aws:iam::111122223333:user/nobody', limit: 5 })).toEqual({ items: [] });

        await expect(storage.listGrants({ keyId: key.id, limit: 0 })).rejects.toEqual(ERR('ERR_VALIDATION'));
      });

      it('rejects markers that are malformed or come from another list', async () => {
        const { key } = await createKey();
        for (const c of ['1', '2']) await storage.createGrant(grant(key.id, { id: hex(c), retiringPrincipal: OPS }));
        const grantsMarker = (await storage.listGrants({ keyId: key.id, limit: 1 })).nextMarker!;
        const retirableMarker = (await storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 1 })).nextMarker!;
        expect(grantsMarker).toBeDefined();
        expect(retirableMarker).toBeDefined();
        await expect(storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 1, marker: grantsMarker })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        await expect(storage.listGrants({ keyId: key.id, limit: 1, marker: retirableMarker })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        for (const bad of ['', 'bad!', `${grantsMarker}=`, Buffer.from('grants:').toString('base64url')]) {
          await expect(storage.listGrants({ keyId: key.id, limit: 1, marker: bad })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
          await expect(storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 1, marker: bad })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        }
      });

      it('lists retirable grants across keys in grant-id order, one page at a time', async () => {
        const { key: a } = await createKey();
        const { key: b } = await createKey();
        // Ids interleave across the two keys, so the order cannot come from the key.
        const ga1 = grant(a.id, { id: hex('1'), retiringPrincipal: OPS });
        const gb2 = grant(b.id, { id: hex('2'), retiringPrincipal: OPS });
        const ga3 = grant(a.id, { id: hex('3'), retiringPrincipal: OPS });
        const notOps = grant(b.id, { id: hex('4'), retiringPrincipal: 'arn:aws:iam::111122223333:user/other' });
        const none = grant(a.id, { id: hex('5') });
        for (const g of [ga3, none, gb2, notOps, ga1]) await storage.createGrant(g);

        const seen: GrantRecord[] = [];
        let marker: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 1, ...(marker === undefined ? {} : { marker }) });
          seen.push(...page.items);
          marker = page.nextMarker;
          if (marker === undefined) break;
        }
        expect(seen).toEqual([ga1, gb2, ga3]);
        const two = await storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 2 });
        expect(two.items).toEqual([ga1, gb2]);
        expect(await storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 2, marker: two.nextMarker! })).toEqual({ items: [ga3] });
        expect(await storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 3 })).toEqual({ items: [ga1, gb2, ga3] });
        expect(await storage.listRetirableGrants({ retiringPrincipal: 'arn:aws:iam::111122223333:user/nobody', limit: 3 })).toEqual({ items: [] });
      });

      it('grantsFor returns one grantee\'s grants on one key, at most limit', async () => {
        const { key } = await createKey();
        const { key: other } = await createKey();
        const mine = ['1', '2', '3'].map((c) => grant(key.id, { id: hex(c) }));
        const theirs = grant(key.id, { id: hex('0'), granteePrincipal: 'arn:aws:iam::111122223333:user/other' });
        const otherKey = grant(other.id, { id: hex('4') });
        for (const g of [...mine, theirs, otherKey]) await storage.createGrant(g);
        expect(await storage.grantsFor(key.id, mine[0]!.granteePrincipal, 10)).toEqual(mine);
        expect(await storage.grantsFor(key.id, mine[0]!.granteePrincipal, 2)).toHaveLength(2);
        expect(await storage.grantsFor(key.id, theirs.granteePrincipal, 10)).toEqual([theirs]);
        expect(await storage.grantsFor(other.id, theirs.granteePrincipal, 10)).toEqual([]);
        await expect(storage.grantsFor(key.id, mine[0]!.granteePrincipal, 0)).rejects.toEqual(ERR('ERR_VALIDATION'));
      });

      it('refuses a grant on a missing key with ERR_NOT_FOUND, and a duplicate id on another key with ERR_ALREADY_EXISTS', async () => {
        const { key } = await createKey();
        const { key: other } = await createKey();
        await expect(storage.createGrant(grant(randomUUID()))).rejects.toEqual(ERR('ERR_NOT_FOUND'));
        const g = grant(key.id);
        await storage.createGrant(g);
        await expect(storage.createGrant({ ...g, keyId: other.id })).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        expect(await storage.getGrant(other.id, g.id)).toBeUndefined();
        expect(await storage.getGrant(key.id, g.id)).toEqual(g);
      });

      it('frees a grant name when its grant is deleted', async () => {
        const { key } = await createKey();
        const first = grant(key.id, { name: 'n' });
        await storage.createGrant(first);
        expect(await storage.deleteGrant(key.id, first.id)).toBe(true);
        const second = grant(key.id, { name: 'n' });
        await storage.createGrant(second);
        expect(await storage.getGrantByName(key.id, 'n')).toEqual(second);
      });

      it('destroys a key\'s grants with the key', async () => {
        const { key } = await createKey({ state: 'PendingDeletion', deletionAt: at(1), pendingWindowDays: 7 });
        const { key: survivor } = await createKey();
        const doomed = grant(key.id, { id: '3'.repeat(64), name: 'n', retiringPrincipal: OPS });
        const kept = grant(survivor.id, { id: '4'.repeat(64), name: 'n', retiringPrincipal: OPS });
        await storage.createGrant(doomed);
        await storage.createGrant(kept);
        expect(await storage.destroyKey(key.id, at(0))).toBe(false);
        expect(await storage.getGrant(key.id, doomed.id)).toEqual(doomed);
        expect(await storage.destroyKey(key.id, at(2))).toBe(true);
        expect(await storage.getGrant(key.id, doomed.id)).toBeUndefined();
        expect(await storage.getGrantByName(key.id, 'n')).toBeUndefined();
        expect(await storage.grantsFor(key.id, doomed.granteePrincipal, 10)).toEqual([]);
        expect(await storage.listRetirableGrants({ retiringPrincipal: OPS, limit: 10 })).toEqual({ items: [kept] });
      });
    });

    describe('principals and credentials', () => {
      it('round-trips principals by id and by name', async () => {
        const p = makePrincipal({ roles: ['administrator', 'key-user:ü'], disabled: true, kind: 'service', tags: { 'ü': 'ß' }, updatedAt: at(4, 4) });
        const q = makePrincipal({ roles: [] });
        await storage.createPrincipal(p);
        await storage.createPrincipal(q);
        expect(await storage.getPrincipal(p.id)).toEqual(p);
        expect(await storage.getPrincipalByName(p.name)).toEqual(p);
        expect(await storage.getPrincipal(q.id)).toEqual(q);
        expect(await storage.getPrincipal(randomUUID())).toBeUndefined();
        expect(await storage.getPrincipalByName('nobody')).toBeUndefined();
      });

      it('rejects a duplicate principal id or name with AlreadyExistsError', async () => {
        const p = makePrincipal();
        await storage.createPrincipal(p);
        await expect(storage.createPrincipal(makePrincipal({ id: p.id }))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        await expect(storage.createPrincipal(makePrincipal({ name: p.name }))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        expect(await storage.getPrincipal(p.id)).toEqual(p);
      });

      it('round-trips tokens with and without expiry', async () => {
        const p = makePrincipal();
        await storage.createPrincipal(p);
        const forever: TokenRecord = { hash: randomBytes(32).toString('hex'), accessor: 'acc-1', principalId: p.id, createdAt: at(1, 1), expiresAt: null };
        const expiring: TokenRecord = { ...forever, hash: randomBytes(32).toString('hex'), accessor: 'acc-2', expiresAt: at(30, 5) };
        await storage.createToken(forever);
        await storage.createToken(expiring);
        expect(await storage.getToken(forever.hash)).toEqual(forever);
        expect(await storage.getToken(expiring.hash)).toEqual(expiring);
        expect(await storage.getToken(randomBytes(32).toString('hex'))).toBeUndefined();
        await expect(storage.createToken(forever)).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        await expect(storage.createToken({ ...forever, hash: randomBytes(32).toString('hex') })).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        await expect(storage.createToken({ ...forever, hash: 'h', accessor: 'acc-3', principalId: randomUUID() })).rejects.toEqual(
          ERR('ERR_NOT_FOUND'),
        );
      });

      it('round-trips access keys with their wrapped secret', async () => {
        const p = makePrincipal();
        await storage.createPrincipal(p);
        const ak: AccessKeyRecord = {
          id: 'AKIA' + randomBytes(8).toString('hex').toUpperCase(),
          principalId: p.id,
          secretWrapped: new Uint8Array(randomBytes(72)),
          status: 'Inactive',
          createdAt: at(2, 3),
          expiresAt: null,
        };
        expect(await storage.createAccessKey(ak, 2)).toBe(true);
        const got = await storage.getAccessKey(ak.id);
        expect({ ...got, secretWrapped: Buffer.from(got!.secretWrapped).toString('hex') }).toEqual({
          ...ak,
          secretWrapped: Buffer.from(ak.secretWrapped).toString('hex'),
        });
        expect(got!.secretWrapped).toBeInstanceOf(Uint8Array);
        expect(await storage.getAccessKey('AKIANOPE')).toBeUndefined();
        await expect(storage.createAccessKey({ ...ak, status: 'Active' }, 2)).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        expect((await storage.getAccessKey(ak.id))!.status).toBe('Inactive');
      });
    });

    describe('principals', () => {
      it('round-trips every field (kind, tags, policies sorted by name, dates) by id, by name and in lists', async () => {
        const zeta = makePolicy({ name: 'zeta' });
        const alpha = makePolicy({ name: 'Alpha' });
        for (const p of [zeta, alpha]) await storage.createPolicy(p);
        const svc = makePrincipal({
          name: 'payments-svc',
          kind: 'service',
          arn: 'arn:aws:iam::111122223333:role/payments-svc',
          roles: ['key-user'],
          policies: ['zeta', 'Alpha'],
          tags: { team: 'Zahlungsverkehr ü', 'cost-center': '🏦', empty: '' },
          disabled: true,
          createdAt: at(1, 1),
          updatedAt: at(2, 2),
        });
        const plain = makePrincipal({ name: 'alice' });
        await storage.createPrincipal(svc);
        await storage.createPrincipal(plain);
        const expected = { ...svc, policies: ['Alpha', 'zeta'] }; // code-point order: upper case first
        expect(await storage.getPrincipal(svc.id)).toEqual(expected);
        expect(await storage.getPrincipalByName('payments-svc')).toEqual(expected);
        expect(await storage.getPrincipal(plain.id)).toEqual(plain);
        expect((await storage.getPrincipal(plain.id))!.updatedAt).toBeInstanceOf(Date);
        expect(await storage.listPrincipals({ limit: 10 })).toEqual({ items: [plain, expected] });
      });

      it('refuses a principal naming a policy that does not exist, and creates nothing', async () => {
        await storage.createPolicy(makePolicy({ name: 'exists' }));
        const p = makePrincipal({ policies: ['exists', 'missing-one'] });
        const err = await storage.createPrincipal(p).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_NOT_FOUND', message: "Policy 'missing-one' does not exist." });
        expect(await storage.getPrincipal(p.id)).toBeUndefined();
        expect(await storage.getPrincipalByName(p.name)).toBeUndefined();
        expect(await storage.deletePolicy('exists')).toBe('deleted'); // no attachment was left behind
      });

      it('names the principal in AlreadyExistsError', async () => {
        const p = makePrincipal({ name: 'bob' });
        await storage.createPrincipal(p);
        const err = await storage.createPrincipal(makePrincipal({ name: 'bob' })).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_ALREADY_EXISTS', message: "Principal 'bob' already exists." });
        expect((err as Error).cause).toBeDefined();
      });

      it('lists principals by name across pages and rejects bad or foreign markers', async () => {
        expect(await storage.listPrincipals({ limit: 3 })).toEqual({ items: [] });
        const names = ['carol', 'Bob', 'alice', 'dave', 'a.b@c', 'eve'];
        for (const name of names) await storage.createPrincipal(makePrincipal({ name }));
        const sorted = [...names].sort();
        const seen: string[] = [];
        let marker: string | undefined;
        let pages = 0;
        do {
          const page = await storage.listPrincipals({ limit: 4, ...(marker === undefined ? {} : { marker }) });
          seen.push(...page.items.map((p) => p.name));
          marker = page.nextMarker;
          if (marker === undefined) expect('nextMarker' in page).toBe(false);
          pages++;
        } while (marker !== undefined);
        expect(seen).toEqual(sorted);
        expect(pages).toBe(2);
        expect('nextMarker' in (await storage.listPrincipals({ limit: 6 }))).toBe(false);

        await storage.createPolicy(makePolicy({ name: 'p1' }));
        await storage.createPolicy(makePolicy({ name: 'p2' }));
        const policiesMarker = (await storage.listPolicies({ limit: 1 })).nextMarker!;
        for (const bad of ['bad marker', '', Buffer.from('principals:').toString('base64url'), policiesMarker]) {
          await expect(storage.listPrincipals({ limit: 2, marker: bad })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        }
        await expect(storage.listPrincipals({ limit: 0 })).rejects.toEqual(ERR('ERR_VALIDATION'));
      });

      it('updatePrincipal replaces whole fields, sets updatedAt and leaves the others alone', async () => {
        for (const name of ['p-a', 'p-b', 'p-c']) await storage.createPolicy(makePolicy({ name }));
        const p = makePrincipal({ roles: ['auditor'], policies: ['p-a', 'p-b'], tags: { a: '1', b: '2' } });
        await storage.createPrincipal(p);

        const u1 = await storage.updatePrincipal(p.id, { tags: { c: 'drei' } }, at(5, 1));
        expect(u1).toEqual({ ...p, tags: { c: 'drei' }, updatedAt: at(5, 1) });
        const u2 = await storage.updatePrincipal(p.id, { policies: ['p-c', 'p-a', 'p-c'], roles: [], disabled: true }, at(6, 1));
        expect(u2).toEqual({ ...p, tags: { c: 'drei' }, roles: [], policies: ['p-a', 'p-c'], disabled: true, updatedAt: at(6, 1) });
        expect(await storage.getPrincipal(p.id)).toEqual(u2);
        expect(await storage.updatePrincipal(p.id, {}, at(7))).toEqual({ ...u2, updatedAt: at(7) });
        expect(await storage.updatePrincipal(p.id, { policies: [], disabled: undefined }, at(8))).toEqual({ ...u2, policies: [], updatedAt: at(8) });
        expect(await storage.deletePolicy('p-a')).toBe('deleted'); // detached
        expect(await storage.updatePrincipal(randomUUID(), { disabled: true }, at(9))).toBeUndefined();
      });

      it('updatePrincipal with an unknown policy throws NotFoundError and changes nothing', async () => {
        await storage.createPolicy(makePolicy({ name: 'kept' }));
        const p = makePrincipal({ policies: ['kept'], roles: ['auditor'] });
        await storage.createPrincipal(p);
        const err = await storage.updatePrincipal(p.id, { roles: ['administrator'], policies: ['kept', 'ghost'] }, at(9)).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_NOT_FOUND', message: "Policy 'ghost' does not exist." });
        expect(await storage.getPrincipal(p.id)).toEqual(p);
        expect(await storage.deletePolicy('kept')).toBe('attached');
      });

      it('deletePrincipal deletes its tokens, access keys, certificates and attachments, and nothing of another principal', async () => {
        await storage.createPolicy(makePolicy({ name: 'shared' }));
        await storage.createPolicy(makePolicy({ name: 'only-doomed' }));
        const doomed = makePrincipal({ policies: ['shared', 'only-doomed'] });
        const other = makePrincipal({ policies: ['shared'] });
        await storage.createPrincipal(doomed);
        await storage.createPrincipal(other);
        const creds = async (p: PrincipalRecord) => {
          const tokens = [makeToken(p.id, { createdAt: at(1) }), makeToken(p.id, { createdAt: at(2), expiresAt: at(3) })];
          const keys = [makeAccessKey(p.id, { createdAt: at(1) }), makeAccessKey(p.id, { createdAt: at(2), status: 'Inactive' })];
          const cert = makeCertificate(p.id);
          for (const t of tokens) await storage.createToken(t);
          for (const k of keys) expect(await storage.createAccessKey(k, 2)).toBe(true);
          await storage.createClientCertificate(cert);
          return { tokens, keys, cert };
        };
        const d = await creds(doomed);
        const o = await creds(other);

        expect(await storage.deletePrincipal(doomed.id)).toBe(true);
        expect(await storage.getPrincipal(doomed.id)).toBeUndefined();
        for (const t of d.tokens) {
          expect(await storage.getToken(t.hash)).toBeUndefined();
          expect(await storage.getTokenByAccessor(t.accessor)).toBeUndefined();
        }
        for (const k of d.keys) expect(await storage.getAccessKey(k.id)).toBeUndefined();
        expect(await storage.getClientCertificate(d.cert.fingerprint)).toBeUndefined();
        expect(await storage.listTokens(doomed.id)).toEqual([]);
        expect(await storage.listAccessKeys(doomed.id)).toEqual([]);
        expect(await storage.listClientCertificates(doomed.id)).toEqual([]);
        expect(await storage.deletePolicy('only-doomed')).toBe('deleted');
        expect(await storage.deletePolicy('shared')).toBe('attached');

        expect(await storage.getPrincipal(other.id)).toEqual(other);
        expect(await storage.listTokens(other.id)).toEqual(o.tokens);
        expect((await storage.listAccessKeys(other.id)).map((k) => k.id)).toEqual(o.keys.map((k) => k.id));
        expect(await storage.listClientCertificates(other.id)).toEqual([o.cert]);

        expect(await storage.deletePrincipal(doomed.id)).toBe(false);
        expect(await storage.deletePrincipal(randomUUID())).toBe(false);
        await storage.createPrincipal({ ...doomed, id: randomUUID(), policies: [] }); // the name is free again
      });
    });

    describe('tokens', () => {
      it('reads a token by accessor, lists a principal’s tokens oldest first and deletes by accessor', async () => {
        const p = makePrincipal();
        const q = makePrincipal();
        await storage.createPrincipal(p);
        await storage.createPrincipal(q);
        const late = makeToken(p.id, { createdAt: at(3), expiresAt: at(30, 7) });
        const early = makeToken(p.id, { createdAt: at(1) });
        const theirs = makeToken(q.id);
        for (const t of [late, early, theirs]) await storage.createToken(t);
        expect(await storage.getTokenByAccessor(late.accessor)).toEqual(late);
        expect(await storage.getTokenByAccessor('acc-none')).toBeUndefined();
        expect(await storage.listTokens(p.id)).toEqual([early, late]);
        expect(await storage.listTokens(randomUUID())).toEqual([]);
        await expect(storage.createToken(makeToken(q.id, { accessor: late.accessor }))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));

        expect(await storage.deleteToken(late.accessor)).toBe(true);
        expect(await storage.deleteToken(late.accessor)).toBe(false);
        expect(await storage.getToken(late.hash)).toBeUndefined();
        expect(await storage.listTokens(p.id)).toEqual([early]);
        expect(await storage.listTokens(q.id)).toEqual([theirs]);
      });
    });

    describe('access keys', () => {
      const hexOf = (k: AccessKeyRecord | undefined) => k && { ...k, secretWrapped: Buffer.from(k.secretWrapped).toString('hex') };

      it('round-trips expiresAt (set and null), lists a principal’s keys oldest first and deletes them', async () => {
        const p = makePrincipal();
        await storage.createPrincipal(p);
        const expiring = makeAccessKey(p.id, { createdAt: at(5), expiresAt: at(95, 123) });
        const forever = makeAccessKey(p.id, { createdAt: at(4), status: 'Inactive' });
        expect(await storage.createAccessKey(expiring, 2)).toBe(true);
        expect(await storage.createAccessKey(forever, 2)).toBe(true);
        expect(hexOf(await storage.getAccessKey(expiring.id))).toEqual(hexOf(expiring));
        expect((await storage.getAccessKey(expiring.id))!.expiresAt).toEqual(at(95, 123));
        expect((await storage.getAccessKey(forever.id))!.expiresAt).toBeNull();
        expect((await storage.listAccessKeys(p.id)).map(hexOf)).toEqual([forever, expiring].map(hexOf));
        expect(await storage.listAccessKeys(randomUUID())).toEqual([]);
        expect(await storage.deleteAccessKey(forever.id)).toBe(true);
        expect(await storage.deleteAccessKey(forever.id)).toBe(false);
        expect((await storage.listAccessKeys(p.id)).map((k) => k.id)).toEqual([expiring.id]);
      });

      it('allows maxActive Active keys per principal; Inactive ones do not count, and activation respects the limit', async () => {
        const p = makePrincipal();
        const q = makePrincipal();
        await storage.createPrincipal(p);
        await storage.createPrincipal(q);
        const [a1, a2, a3] = [makeAccessKey(p.id), makeAccessKey(p.id), makeAccessKey(p.id)];
        const i1 = makeAccessKey(p.id, { status: 'Inactive' });
        const i2 = makeAccessKey(p.id, { status: 'Inactive' });
        expect(await storage.createAccessKey(i1, 2)).toBe(true);
        expect(await storage.createAccessKey(a1!, 2)).toBe(true);
        expect(await storage.createAccessKey(a2!, 2)).toBe(true);
        expect(await storage.createAccessKey(a3!, 2)).toBe(false);
        expect(await storage.getAccessKey(a3!.id)).toBeUndefined();
        expect(await storage.createAccessKey(i2, 2)).toBe(true); // Inactive keys are not limited
        expect(await storage.createAccessKey(makeAccessKey(q.id), 2)).toBe(true); // per principal

        expect(await storage.setAccessKeyStatus(i1.id, 'Active', 2)).toBe('limit');
        expect((await storage.getAccessKey(i1.id))!.status).toBe('Inactive');
        expect(await storage.setAccessKeyStatus(a1!.id, 'Active', 2)).toBe('updated'); // already Active
        expect(await storage.setAccessKeyStatus(a1!.id, 'Inactive', 2)).toBe('updated');
        expect((await storage.getAccessKey(a1!.id))!.status).toBe('Inactive');
        expect(await storage.setAccessKeyStatus(i1.id, 'Active', 2)).toBe('updated');
        expect((await storage.getAccessKey(i1.id))!.status).toBe('Active');
        expect(await storage.setAccessKeyStatus(a1!.id, 'Active', 2)).toBe('limit');
        expect(await storage.setAccessKeyStatus(a1!.id, 'Active', 3)).toBe('updated');
        expect(await storage.setAccessKeyStatus('DDAKNOPE', 'Active', 2)).toBe('not-found');
        expect(await storage.setAccessKeyStatus('DDAKNOPE', 'Inactive', 2)).toBe('not-found');
        expect((await storage.listAccessKeys(p.id)).filter((k) => k.status === 'Active')).toHaveLength(3);

        expect(await storage.createAccessKey(makeAccessKey(q.id), 0)).toBe(false);
        await expect(storage.createAccessKey(makeAccessKey(q.id), -1)).rejects.toEqual(ERR('ERR_VALIDATION'));
        await expect(storage.setAccessKeyStatus(i2.id, 'Active', 1.5)).rejects.toEqual(ERR('ERR_VALIDATION'));
      });

      it('refuses an access key of a principal that does not exist with NotFoundError', async () => {
        for (const status of ['Active', 'Inactive'] as const) {
          const k = makeAccessKey(randomUUID(), { status });
          await expect(storage.createAccessKey(k, 2)).rejects.toEqual(ERR('ERR_NOT_FOUND'));
          expect(await storage.getAccessKey(k.id)).toBeUndefined();
        }
      });

      it('never exceeds maxActive when 10 creations race on two instances', async () => {
        const other = await harness.open();
        const p = makePrincipal();
        await storage.createPrincipal(p);
        const results = await Promise.all(range(1, 10).map((i) => (i % 2 ? storage : other).createAccessKey(makeAccessKey(p.id), 2)));
        expect(results.filter(Boolean)).toHaveLength(2);
        const keys = await other.listAccessKeys(p.id);
        expect(keys).toHaveLength(2);
        expect(keys.every((k) => k.status === 'Active')).toBe(true);
      });

      it('never exceeds maxActive when activations race on two instances', async () => {
        const other = await harness.open();
        const p = makePrincipal();
        await storage.createPrincipal(p);
        expect(await storage.createAccessKey(makeAccessKey(p.id), 2)).toBe(true);
        const inactive = range(1, 6).map(() => makeAccessKey(p.id, { status: 'Inactive' }));
        for (const k of inactive) expect(await storage.createAccessKey(k, 2)).toBe(true);
        const results = await Promise.all(inactive.map((k, i) => (i % 2 ? storage : other).setAccessKeyStatus(k.id, 'Active', 2)));
        expect(results.filter((r) => r === 'updated')).toHaveLength(1);
        expect(results.filter((r) => r === 'limit')).toHaveLength(5);
        expect((await other.listAccessKeys(p.id)).filter((k) => k.status === 'Active')).toHaveLength(2);
      });
    });

    describe('managed policies', () => {
      it('creates, reads, updates and lists policies by name across pages', async () => {
        const a = makePolicy({ name: 'Payments.Read', description: 'Zahlungen lesen ü', document: '{"Statement":[{"Sid":"é"}]}', createdAt: at(1, 1), updatedAt: at(1, 2) });
        await storage.createPolicy(a);
        expect(await storage.getPolicy(a.name)).toEqual(a);
        expect(await storage.getPolicy('payments.read')).toBeUndefined(); // case-sensitive
        const err = await storage.createPolicy(makePolicy({ name: a.name })).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_ALREADY_EXISTS', message: "Policy 'Payments.Read' already exists." });
        expect(await storage.getPolicy(a.name)).toEqual(a);

        const updated = await storage.updatePolicy(a.name, { document: '{"Statement":[]}', description: '' }, at(4, 4));
        expect(updated).toEqual({ ...a, document: '{"Statement":[]}', description: '', updatedAt: at(4, 4) });
        expect(await storage.getPolicy(a.name)).toEqual(updated);
        expect(await storage.updatePolicy('nope', { document: '{}', description: 'x' }, at(5))).toBeUndefined();
        expect(await storage.getPolicy('nope')).toBeUndefined();

        for (const name of ['b', 'A', 'c+d=e,f', 'z@x_y-1']) await storage.createPolicy(makePolicy({ name }));
        const sorted = ['A', 'Payments.Read', 'b', 'c+d=e,f', 'z@x_y-1'];
        const p1 = await storage.listPolicies({ limit: 2 });
        expect(p1.items.map((p) => p.name)).toEqual(sorted.slice(0, 2));
        const p2 = await storage.listPolicies({ limit: 2, marker: p1.nextMarker! });
        expect(p2.items.map((p) => p.name)).toEqual(sorted.slice(2, 4));
        const p3 = await storage.listPolicies({ limit: 2, marker: p2.nextMarker! });
        expect(p3.items.map((p) => p.name)).toEqual(sorted.slice(4));
        expect('nextMarker' in p3).toBe(false);
        expect((await storage.listPolicies({ limit: 10 })).items[1]).toEqual(updated);

        await storage.createPrincipal(makePrincipal({ name: 'x1' }));
        await storage.createPrincipal(makePrincipal({ name: 'x2' }));
        const principalsMarker = (await storage.listPrincipals({ limit: 1 })).nextMarker!;
        for (const bad of ['%%%', principalsMarker, Buffer.from('policies:').toString('base64url')]) {
          await expect(storage.listPolicies({ limit: 2, marker: bad })).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        }
      });

      it('deletePolicy: attached, not-found, deleted', async () => {
        const pol = makePolicy();
        await storage.createPolicy(pol);
        const p = makePrincipal({ policies: [pol.name] });
        await storage.createPrincipal(p);
        expect(await storage.deletePolicy(pol.name)).toBe('attached');
        expect(await storage.getPolicy(pol.name)).toEqual(pol);
        expect((await storage.getPrincipal(p.id))!.policies).toEqual([pol.name]);
        expect(await storage.deletePolicy('no-such-policy')).toBe('not-found');
        await storage.updatePrincipal(p.id, { policies: [] }, at(3));
        expect(await storage.deletePolicy(pol.name)).toBe('deleted');
        expect(await storage.getPolicy(pol.name)).toBeUndefined();
        expect(await storage.deletePolicy(pol.name)).toBe('not-found');
      });
    });

    describe('client certificates', () => {
      it('maps, reads, lists oldest first and deletes client certificates', async () => {
        const p = makePrincipal();
        const q = makePrincipal();
        await storage.createPrincipal(p);
        await storage.createPrincipal(q);
        const newer = makeCertificate(p.id, { createdAt: at(9), subject: 'CN=Zürich ü,O=Bank "X"', notAfter: at(400, 999) });
        const older = makeCertificate(p.id, { createdAt: at(2) });
        const theirs = makeCertificate(q.id);
        for (const c of [newer, older, theirs]) await storage.createClientCertificate(c);
        expect(await storage.getClientCertificate(newer.fingerprint)).toEqual(newer);
        expect(await storage.getClientCertificate('0'.repeat(64))).toBeUndefined();
        expect(await storage.listClientCertificates(p.id)).toEqual([older, newer]);
        expect(await storage.listClientCertificates(randomUUID())).toEqual([]);

        const err = await storage.createClientCertificate({ ...newer, principalId: q.id }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_ALREADY_EXISTS', message: `Client certificate ${newer.fingerprint} is already mapped.` });
        expect(await storage.getClientCertificate(newer.fingerprint)).toEqual(newer);
        await expect(storage.createClientCertificate(makeCertificate(randomUUID()))).rejects.toEqual(ERR('ERR_NOT_FOUND'));

        expect(await storage.deleteClientCertificate(newer.fingerprint)).toBe(true);
        expect(await storage.deleteClientCertificate(newer.fingerprint)).toBe(false);
        expect(await storage.listClientCertificates(p.id)).toEqual([older]);
        expect(await storage.listClientCertificates(q.id)).toEqual([theirs]);
      });
    });

    describe('approvals', () => {
      const approver = { id: randomUUID(), arn: 'arn:aws:iam::111122223333:user/bob' };

      it('round-trips every field, with and without the nullable ones', async () => {
        const pending = makeApproval({ resource: null, summary: { nested: { list: [1, 'ü', null] }, text: '日本語' } });
        const done = makeApproval({
          status: 'Consumed',
          approverId: approver.id,
          approverArn: approver.arn,
          decidedAt: at(0, 500),
          consumedAt: at(0, 600),
          createdAt: at(0, 1),
          expiresAt: at(1, 1),
        });
        await storage.createApproval(pending);
        await storage.createApproval(done);
        expect(await storage.getApproval(pending.id)).toEqual(pending);
        expect(await storage.getApproval(done.id)).toEqual(done);
        expect(await storage.getApproval(randomUUID())).toBeUndefined();
        await expect(storage.createApproval({ ...pending, operation: 'Other' })).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
        expect(await storage.getApproval(pending.id)).toEqual(pending);
      });

      it('lists approvals by (createdAt, id) across pages, optionally of one status, and rejects bad markers', async () => {
        // Several requests share a creation instant, so the id must order and resume among them.
        const created = [at(0, 5), at(0, 1), at(0, 5), at(0, 5), at(0, 3), at(0, 5), at(0, 9)];
        const all = created.map((createdAt, i) => makeApproval({ createdAt, status: i % 2 ? 'Approved' : 'Pending' }));
        for (const a of all) await storage.createApproval(a);
        const order = [...all].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1));

        const seen: ApprovalRecord[] = [];
        let marker: string | undefined;
        let pages = 0;
        do {
          const page = await storage.listApprovals({ limit: 2, ...(marker === undefined ? {} : { marker }) });
          seen.push(...page.items);
          marker = page.nextMarker;
          if (marker === undefined) expect('nextMarker' in page).toBe(false);
          pages++;
        } while (marker !== undefined);
        expect(seen).toEqual(order);
        expect(pages).toBe(4);

        const approved = order.filter((a) => a.status === 'Approved');
        const f1 = await storage.listApprovals({ status: 'Approved', limit: 2 });
        expect(f1.items).toEqual(approved.slice(0, 2));
        expect(await storage.listApprovals({ status: 'Approved', limit: 2, marker: f1.nextMarker! })).toEqual({ items: approved.slice(2) });
        expect(await storage.listApprovals({ status: 'Rejected', limit: 2 })).toEqual({ items: [] });

        const keysMarker = Buffer.from(`keys:${all[0]!.id}`).toString('base64url');
        for (const bad of [
          'x!',
          keysMarker,
          Buffer.from('approvals:').toString('base64url'),
          Buffer.from(`approvals:${all[0]!.id}`).toString('base64url'),
          Buffer.from(`approvals:12x:${all[0]!.id}`).toString('base64url'),
          Buffer.from('approvals:5:').toString('base64url'),
          Buffer.from(`approvals:99999999999999999999:${all[0]!.id}`).toString('base64url'),
        ]) {
          await expect(storage.listApprovals({ limit: 2, marker: bad }), bad).rejects.toEqual(ERR('ERR_INVALID_MARKER'));
        }
        await expect(storage.listApprovals({ limit: 0 })).rejects.toEqual(ERR('ERR_VALIDATION'));
      });

      it('finds one requester’s requests for one digest, in any status, oldest first', async () => {
        const requesterId = randomUUID();
        const digest = 'a'.repeat(64);
        const second = makeApproval({ requesterId, requestDigest: digest, createdAt: at(2), status: 'Rejected' });
        const first = makeApproval({ requesterId, requestDigest: digest, createdAt: at(1), status: 'Consumed' });
        const otherDigest = makeApproval({ requesterId, requestDigest: 'b'.repeat(64) });
        const otherRequester = makeApproval({ requestDigest: digest });
        for (const a of [second, otherDigest, first, otherRequester]) await storage.createApproval(a);
        expect(await storage.findApprovals(requesterId, digest)).toEqual([first, second]);
        expect(await storage.findApprovals(requesterId, 'c'.repeat(64))).toEqual([]);
        expect(await storage.findApprovals(randomUUID(), digest)).toEqual([]);
      });

      it('decides only a Pending request before it expires', async () => {
        const a = makeApproval({ expiresAt: at(1) });
        const r = makeApproval({ expiresAt: at(1) });
        const late = makeApproval({ expiresAt: at(1) });
        for (const x of [a, r, late]) await storage.createApproval(x);

        const approved = await storage.decideApproval(a.id, 'Approved', approver, at(0, 10));
        expect(approved).toEqual({ ...a, status: 'Approved', approverId: approver.id, approverArn: approver.arn, decidedAt: at(0, 10) });
        expect(await storage.getApproval(a.id)).toEqual(approved);
        expect(await storage.decideApproval(a.id, 'Rejected', approver, at(0, 11))).toBeUndefined();
        expect(await storage.getApproval(a.id)).toEqual(approved);

        expect(await storage.decideApproval(r.id, 'Rejected', approver, at(0, 12))).toMatchObject({ status: 'Rejected', decidedAt: at(0, 12) });
        expect(await storage.decideApproval(r.id, 'Approved', approver, at(0, 13))).toBeUndefined();

        expect(await storage.decideApproval(late.id, 'Approved', approver, at(1))).toBeUndefined(); // expiresAt is exclusive
        expect(await storage.getApproval(late.id)).toEqual(late);
        expect(await storage.decideApproval(randomUUID(), 'Approved', approver, at(0))).toBeUndefined();
        await expect(storage.decideApproval(late.id, 'Consumed' as 'Approved', approver, at(0))).rejects.toEqual(ERR('ERR_VALIDATION'));
      });

      it('consumes an Approved, unexpired request exactly once', async () => {
        const pending = makeApproval();
        const ok = makeApproval({ expiresAt: at(1) });
        const expired = makeApproval({ expiresAt: at(1) });
        const rejected = makeApproval();
        for (const x of [pending, ok, expired, rejected]) await storage.createApproval(x);
        await storage.decideApproval(ok.id, 'Approved', approver, at(0, 1));
        await storage.decideApproval(expired.id, 'Approved', approver, at(0, 1));
        await storage.decideApproval(rejected.id, 'Rejected', approver, at(0, 1));

        expect(await storage.consumeApproval(pending.id, at(0, 2))).toBe(false);
        expect(await storage.consumeApproval(rejected.id, at(0, 2))).toBe(false);
        expect(await storage.consumeApproval(expired.id, at(1))).toBe(false);
        expect((await storage.getApproval(expired.id))!.status).toBe('Approved');
        expect(await storage.consumeApproval(ok.id, at(0, 3))).toBe(true);
        expect(await storage.getApproval(ok.id)).toMatchObject({ status: 'Consumed', consumedAt: at(0, 3), decidedAt: at(0, 1), approverId: approver.id });
        expect(await storage.consumeApproval(ok.id, at(0, 4))).toBe(false);
        expect(await storage.consumeApproval(randomUUID(), at(0))).toBe(false);
      });

      it('lets exactly one of concurrent decisions, and one of concurrent consumptions, through (two instances)', async () => {
        const other = await harness.open();
        const a = makeApproval();
        await storage.createApproval(a);
        const decisions = await Promise.all(
          range(1, 10).map((i) => (i % 2 ? storage : other).decideApproval(a.id, i % 3 ? 'Approved' : 'Rejected', { id: `approver-${i}`, arn: `arn-${i}` }, at(0, 200))),
        );
        const winners = decisions.filter((d) => d !== undefined);
        expect(winners).toHaveLength(1);
        expect(await other.getApproval(a.id)).toEqual(winners[0]);

        const b = makeApproval();
        await storage.createApproval(b);
        await storage.decideApproval(b.id, 'Approved', approver, at(0, 200));
        const consumed = await Promise.all(range(1, 10).map((i) => (i % 2 ? storage : other).consumeApproval(b.id, at(0, 300))));
        expect(consumed.filter(Boolean)).toHaveLength(1);
        expect((await storage.getApproval(b.id))!.status).toBe('Consumed');
      });

      it('keeps approvals when their requester is deleted', async () => {
        const p = makePrincipal();
        await storage.createPrincipal(p);
        const a = makeApproval({ requesterId: p.id, requesterArn: p.arn });
        await storage.createApproval(a);
        expect(await storage.deletePrincipal(p.id)).toBe(true);
        expect(await storage.getApproval(a.id)).toEqual(a);
      });
    });

    describe('audit', () => {
      it('appends batches and reads every field back in order with increasing sequences', async () => {
        const batch1 = [
          makeEvent({ eventName: 'CreateKey', outcome: 'attempt', readOnly: false, details: { keySpec: 'SYMMETRIC_DEFAULT', nested: { a: [1, 'ü', null] } } }),
          makeEvent({ outcome: 'denied', errorCode: 'ERR_ACCESS_DENIED', credential: null, sourceIp: null, userAgent: null, resource: null, readOnly: true }),
          makeEvent({ principal: 'anonymous', outcome: 'failure', errorCode: 'ERR_UNAUTHENTICATED', details: { note: '日本語 🧾' } }),
        ];
        const batch2 = [makeEvent({ eventSource: 'job', eventTime: at(9, 1) }), makeEvent({ eventSource: 'aws-kms' })];
        await storage.append(batch1);
        await storage.append([]);
        await storage.append(batch2);

        const all = await storage.readAudit({ limit: 100 });
        expect(all.map(({ sequence, ...event }) => event)).toEqual([...batch1, ...batch2]);
        const seqs = all.map((e) => e.sequence);
        expect(seqs.every((s) => Number.isSafeInteger(s) && s > 0)).toBe(true);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(5);
        expect(all[0]!.eventTime).toBeInstanceOf(Date);
      });

      it('reads after a sequence, exclusive, up to limit', async () => {
        const events = range(1, 7).map((i) => makeEvent({ requestId: `r${i}` }));
        await storage.append(events.slice(0, 4));
        await storage.append(events.slice(4));
        const all = await storage.readAudit({ limit: 100 });
        const page1 = await storage.readAudit({ limit: 3 });
        expect(page1.map((e) => e.requestId)).toEqual(['r1', 'r2', 'r3']);
        const page2 = await storage.readAudit({ afterSequence: page1[2]!.sequence, limit: 3 });
        expect(page2.map((e) => e.requestId)).toEqual(['r4', 'r5', 'r6']);
        const page3 = await storage.readAudit({ afterSequence: page2[2]!.sequence, limit: 3 });
        expect(page3.map((e) => e.requestId)).toEqual(['r7']);
        expect(await storage.readAudit({ afterSequence: page3[0]!.sequence, limit: 3 })).toEqual([]);
        expect(await storage.readAudit({ afterSequence: 0, limit: 100 })).toEqual(all);
      });

      it('appends a large batch (more rows than one statement carries) completely and in order', async () => {
        const events = range(1, 1_234).map((i) => makeEvent({ requestId: `big-${i}`, details: { i } }));
        await storage.append(events);
        const read = await storage.readAudit({ limit: 5_000 });
        expect(read.map((e) => e.requestId)).toEqual(events.map((e) => e.requestId));
      });

      it('keeps each chain gap-free and in order when two instances append their own chains concurrently (no shared lock)', async () => {
        const other = await harness.open();
        const chains = [createAuditChain(), createAuditChain()];
        const batches = range(1, 12).map((b) => range(1, 5).map((i) => makeEvent({ requestId: `b${b}-${i}` })));
        // Link in order per chain (as the single appender does), then append concurrently from two instances.
        const linked = batches.map((batch, i) => chains[i % 2]!.link(batch));
        await Promise.all(linked.map((batch, i) => (i % 2 ? storage : other).append(batch)));
        for (const chain of chains) {
          const { chainId } = chain.head();
          const read = await other.readChain(chainId, { limit: 1_000 });
          expect(read.map((e) => e.sequence)).toEqual(range(1, 30));
          for (let i = 1; i < read.length; i++) expect(read[i]!.previousHash).toBe(read[i - 1]!.hash);
          const page = await storage.readChain(chainId, { afterSequence: 10, limit: 5 });
          expect(page.map((e) => e.sequence)).toEqual(range(11, 15));
        }
        const summaries = await storage.listChains();
        expect(summaries.map((c) => c.chainId).sort()).toEqual(chains.map((c) => c.head().chainId).sort());
        expect(summaries.every((c) => c.firstSequence === 1 && c.lastSequence === 30 && c.events === 30)).toBe(true);
        const all = await storage.readAudit({ limit: 1_000 });
        expect(all).toHaveLength(60);
        expect(all.every((e) => e.chain !== undefined)).toBe(true);
      });

      it('round-trips a chained event: the record text exactly, and the search filters', async () => {
        const chain = createAuditChain();
        const events = chain.link([
          makeEvent({ eventName: 'Encrypt', requestId: 'find-me', details: { note: '日本語 🧾' } }),
          makeEvent({ eventName: 'Decrypt', outcome: 'denied', errorCode: 'ERR_ACCESS_DENIED' }),
        ]);
        await storage.append(events);
        const [first] = await storage.readChain(chain.head().chainId, { limit: 10 });
        expect(first).toEqual(events[0]!.chain);
        const [found] = await storage.readAudit({ limit: 10, requestId: 'find-me' });
        expect(found!.eventName).toBe('Encrypt');
        // Stored once, in the record: the details read back are the event's.
        expect(found!.details).toEqual({ note: '日本語 🧾' });
        expect((await storage.readAudit({ limit: 10, outcome: 'denied' })).map((e) => e.eventName)).toEqual(['Decrypt']);
        expect((await storage.readAudit({ limit: 10, eventName: 'Decrypt', principal: events[1]!.principal })).map((e) => e.requestId)).toEqual([events[1]!.requestId]);
        expect(await storage.readAudit({ limit: 10, from: new Date(Date.now() + 86_400_000) })).toEqual([]);
      });

      it('finds the events whose record holds a keyed hash: exactly, case-sensitively, any of several, with the other filters and paging', async () => {
        const hash = (key: number, hex: string) => `hmac-sha256:audit-hmac-${key}:${hex.repeat(64 / hex.length)}`;
        const h1 = hash(1, 'ab');
        const h2 = hash(2, 'ab'); // the same digest under another key version: another hash
        const other = hash(1, 'cd');
        const chain = createAuditChain();
        const events = chain.link([
          makeEvent({ requestId: 'ec-1', details: { keyId: 'x', encryptionContext: { tenant: h1 } } }),
          makeEvent({ requestId: 'other-1', details: { encryptionContext: { tenant: other } } }),
          makeEvent({ requestId: 'ec-2', eventName: 'Decrypt', details: { encryptionContext: { tenant: h1, region: other } } }),
          makeEvent({ requestId: 'key-2', details: { encryptionContext: { tenant: h2 } } }),
          makeEvent({ requestId: 'upper', details: { encryptionContext: { tenant: h1.toUpperCase() } } }),
          makeEvent({ requestId: 'prefix', details: { note: h1.slice(0, -1) } }),
          makeEvent({ requestId: 'wildcards', details: { note: '%_\\' } }),
          makeEvent({ requestId: 'ec-3', details: { grantee: h1 } }),
        ]);
        await storage.append(events.slice(0, 4));
        // An unchained event (written before the chain existed) holds its details in its own column.
        await storage.append([makeEvent({ requestId: 'unchained', details: { encryptionContext: { tenant: h1 } } })]);
        await storage.append(events.slice(4));
        const ids = async (search: Omit<AuditSearch, 'limit'> & { limit?: number }) => (await storage.readAudit({ limit: 100, ...search })).map((e) => e.requestId);

        expect(await ids({ hashes: [h1] })).toEqual(['ec-1', 'ec-2', 'unchained', 'ec-3']);
        expect(await ids({ hashes: [h2] })).toEqual(['key-2']);
        expect(await ids({ hashes: [h1, h2] })).toEqual(['ec-1', 'ec-2', 'key-2', 'unchained', 'ec-3']);
        expect(await ids({ hashes: [other] })).toEqual(['other-1', 'ec-2']);
        expect(await ids({ hashes: [hash(1, 'ef')] })).toEqual([]);
        expect(await ids({ hashes: [] })).toEqual([]);
        expect(await ids({ hashes: [h1], eventName: 'Decrypt' })).toEqual(['ec-2']);
        const page1 = await storage.readAudit({ limit: 2, hashes: [h1] });
        expect(page1.map((e) => e.requestId)).toEqual(['ec-1', 'ec-2']);
        expect(await ids({ limit: 2, afterSequence: page1[1]!.sequence, hashes: [h1] })).toEqual(['unchained', 'ec-3']);
        // Storage matches the text literally: LIKE wildcards and escapes are plain characters here.
        expect(await ids({ hashes: ['%_\\'] })).toEqual(['wildcards']);
        expect(await ids({ hashes: ['%ab%'] })).toEqual([]);
        expect(await ids({ hashes: ['hmac-sha256:audit-hmac-_:%'] })).toEqual([]);
        // Without the filter every event is there.
        expect(await ids({})).toHaveLength(9);
      });

      it('refuses a second event at the same chain position', async () => {
        const chain = createAuditChain(() => 'fixed-chain');
        const [e] = chain.link([makeEvent()]);
        await storage.append([e!]);
        await expect(storage.append([{ ...e!, eventId: randomUUID() }])).rejects.toBeDefined();
        expect(await storage.readChain('fixed-chain', { limit: 10 })).toHaveLength(1);
      });

      it('stores checkpoints once per chain position and lists them in order', async () => {
        const cp = (chainId: string, sequence: number) => ({ chainId, sequence, hash: 'a'.repeat(64), time: at(1, 2), keyId: 'audit-signing-1', payload: `{"s":${sequence}}`, signature: 'c2ln' });
        await storage.appendCheckpoint(cp('b', 5));
        await storage.appendCheckpoint(cp('a', 10));
        await storage.appendCheckpoint(cp('a', 2));
        await expect(storage.appendCheckpoint(cp('a', 2))).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
        expect((await storage.listCheckpoints()).map((c) => `${c.chainId}${c.sequence}`)).toEqual(['a2', 'a10', 'b5']);
        expect(await storage.listCheckpoints({ chainId: 'b' })).toEqual([cp('b', 5)]);
      });

      it('stores audit keys once per id, bytes intact', async () => {
        const key = { id: 'audit-signing-1', purpose: 'signing' as const, algorithm: 'ED25519', publicKey: new Uint8Array(randomBytes(44)), wrapped: new Uint8Array(randomBytes(80)), createdAt: at(1, 1) };
        await storage.createAuditKey(key);
        await storage.createAuditKey({ ...key, id: 'audit-hmac-1', purpose: 'hmac', algorithm: 'HMAC_SHA_256', publicKey: null, createdAt: at(1, 3) });
        await expect(storage.createAuditKey(key)).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
        const keys = await storage.listAuditKeys();
        expect(keys.map((k) => k.id)).toEqual(['audit-signing-1', 'audit-hmac-1']);
        expect(keys[0]).toEqual(key);
        expect(keys[1]!.publicKey).toBeNull();
      });
    });

    describe('lifecycle and migrations', () => {
      it('reopening (migrating again) is a no-op that keeps the data', async () => {
        const { key } = await createKey();
        await storage.append([makeEvent()]);
        await storage.close();
        const again = await harness.open();
        const third = await harness.open();
        expect(await again.getKey(key.id)).toEqual(key);
        expect(await third.readAudit({ limit: 10 })).toHaveLength(1);
        storage = again;
      });

      it('two instances opening a fresh database at once both migrate safely', async () => {
        const fresh = await newHarness();
        try {
          const opened = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
          const { key } = await createKey({}, opened[0]);
          expect(await opened[2]!.getKey(key.id)).toEqual(key);
        } finally {
          await fresh.dispose();
        }
      });

      it('upgrades a database written under migration 0001: keys read back with the default policy and take grants', async () => {
        const old = await newHarness();
        try {
          const key = makeKey({ tags: { team: 'zahlungsverkehr ü' } });
          const first = makeVersion(key.id, 1);
          const legacy = await old.migrateTo('0001-initial-schema');
          try {
            // The rows exactly as 0001 had them: keys has no policy column, and there is no grants table.
            await legacy.db
              .insertInto('keys')
              .values({
                id: key.id,
                created_at: key.createdAt.getTime(),
                description: key.description,
                key_spec: key.keySpec,
                key_usage: key.keyUsage,
                origin: key.origin,
                state: key.state,
                current_version: 1,
                rotation_period_days: key.rotationPeriodDays,
                next_rotation_at: key.nextRotationAt!.getTime(),
                deletion_at: null,
                pending_window_days: null,
                tags: JSON.stringify(key.tags),
              })
              .execute();
            await legacy.db
              .insertInto('key_versions')
              .values({
                key_id: key.id,
                version: 1,
                material_id: first.materialId,
                wrapped: Buffer.from(first.wrapped),
                created_at: first.createdAt.getTime(),
                rotation_type: first.rotationType,
              })
              .execute();
            await legacy.db.insertInto('aliases').values({ name: 'alias/legacy', key_id: key.id, created_at: 1, updated_at: 2 }).execute();
          } finally {
            await legacy.close();
          }

          const s = await old.open();
          expect(key.policy).toBeNull();
          expect(await s.getKey(key.id)).toEqual(key);
          expect((await s.listKeys({ limit: 10 })).items).toEqual([key]);
          const versions = await s.listVersions(key.id);
          expect(versions.map((v) => [v.materialId, Buffer.from(v.wrapped).toString('hex')])).toEqual([[first.materialId, Buffer.from(first.wrapped).toString('hex')]]);

          const g = makeGrant(key.id, { name: 'after-upgrade', retiringPrincipal: 'arn:aws:iam::111122223333:user/ops' });
          await s.createGrant(g);
          expect(await s.getGrantByName(key.id, 'after-upgrade')).toEqual(g);
          // The grants -> keys reference still resolves after the upgrade (SQLite rebuilt keys in 0003).
          await expect(s.createGrant(makeGrant(randomUUID()))).rejects.toEqual(ERR('ERR_NOT_FOUND'));
          expect(await s.updateKey(key.id, { policy: '{"Statement":[]}' })).toEqual({ ...key, policy: '{"Statement":[]}' });

          await s.updateKey(key.id, { state: 'PendingDeletion', deletionAt: at(1), pendingWindowDays: 7 });
          expect(await s.destroyKey(key.id, at(2))).toBe(true);
          expect(await s.getKey(key.id)).toBeUndefined();
          expect(await s.getGrant(key.id, g.id)).toBeUndefined();
          expect(await s.getAlias('alias/legacy')).toBeUndefined();
          expect(await s.listVersions(key.id)).toEqual([]);
        } finally {
          await old.dispose();
        }
      });

      it('upgrades principals, tokens and access keys written under migration 0001 (kind user, no tags or policies, updatedAt = createdAt)', async () => {
        const old = await newHarness();
        try {
          const legacy = await old.migrateTo('0001-initial-schema');
          const alice = { id: randomUUID(), name: 'alice', arn: 'arn:aws:iam::111122223333:user/alice', roles: ['administrator'], disabled: false, createdAt: at(0, 42) };
          const bob = { id: randomUUID(), name: 'bob', arn: 'arn:aws:iam::111122223333:user/bob', roles: [], disabled: true, createdAt: at(1, 7) };
          const secret = randomBytes(72);
          const tokenHash = randomBytes(32).toString('hex');
          try {
            // The rows exactly as 0001 had them: no kind, tags or updated_at; access keys without expires_at.
            for (const p of [alice, bob]) {
              await legacy.db
                .insertInto('principals')
                .values({ id: p.id, name: p.name, arn: p.arn, roles: JSON.stringify(p.roles), disabled: p.disabled ? 1 : 0, created_at: p.createdAt.getTime() })
                .execute();
            }
            await legacy.db
              .insertInto('access_keys')
              .values({ id: 'AKIALEGACY0000000001', principal_id: alice.id, secret_wrapped: secret, status: 'Active', created_at: at(0, 50).getTime() })
              .execute();
            await legacy.db
              .insertInto('tokens')
              .values({ hash: tokenHash, accessor: 'acc-legacy', principal_id: alice.id, created_at: at(0, 60).getTime(), expires_at: null })
              .execute();
          } finally {
            await legacy.close();
          }

          const s = await old.open();
          const upgraded = (p: typeof alice): PrincipalRecord => ({ ...p, kind: 'user', policies: [], tags: {}, updatedAt: p.createdAt });
          expect(await s.getPrincipal(alice.id)).toEqual(upgraded(alice));
          expect(await s.getPrincipalByName('bob')).toEqual(upgraded(bob));
          expect(await s.listPrincipals({ limit: 10 })).toEqual({ items: [upgraded(alice), upgraded(bob)] });
          const key = await s.getAccessKey('AKIALEGACY0000000001');
          expect({ ...key, secretWrapped: Buffer.from(key!.secretWrapped).toString('hex') }).toEqual({
            id: 'AKIALEGACY0000000001',
            principalId: alice.id,
            secretWrapped: secret.toString('hex'),
            status: 'Active',
            createdAt: at(0, 50),
            expiresAt: null,
          });
          expect(await s.getTokenByAccessor('acc-legacy')).toEqual({ hash: tokenHash, accessor: 'acc-legacy', principalId: alice.id, createdAt: at(0, 60), expiresAt: null });

          // Constraints survive the upgrade (SQLite rebuilt principals in 0004): unique names, references to principals.
          await expect(s.createPrincipal(makePrincipal({ name: 'alice' }))).rejects.toEqual(ERR('ERR_ALREADY_EXISTS'));
          await expect(s.createToken(makeToken(randomUUID()))).rejects.toEqual(ERR('ERR_NOT_FOUND'));
          await expect(s.createClientCertificate(makeCertificate(randomUUID()))).rejects.toEqual(ERR('ERR_NOT_FOUND'));
          expect(await s.createAccessKey(makeAccessKey(alice.id), 2)).toBe(true);
          expect(await s.createAccessKey(makeAccessKey(alice.id), 2)).toBe(false); // the legacy key counts
          await s.createPolicy(makePolicy({ name: 'after-upgrade' }));
          expect(await s.updatePrincipal(bob.id, { policies: ['after-upgrade'] }, at(3))).toEqual({
            ...upgraded(bob),
            policies: ['after-upgrade'],
            updatedAt: at(3),
          });

          expect(await s.deletePrincipal(alice.id)).toBe(true);
          expect(await s.getAccessKey('AKIALEGACY0000000001')).toBeUndefined();
          expect(await s.getToken(tokenHash)).toBeUndefined();
          expect(await s.getPrincipal(bob.id)).toMatchObject({ name: 'bob', policies: ['after-upgrade'] });
        } finally {
          await old.dispose();
        }
      });

      it('close is idempotent', async () => {
        const extra = await harness.open();
        await extra.close();
        await extra.close();
      });
    });
  });
}
