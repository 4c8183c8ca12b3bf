// Every operation of the default dual-control set that the other tests leave out, table-driven, in the core: the
// first call by an administrator is held (ERR_APPROVAL_REQUIRED naming a pending approval request) and changes
// nothing; its requester cannot approve it; a second administrator can; the identical call then runs exactly once,
// and a third identical call needs a new approval. The root operations (rotate-root, migrate-root, rekey) run the
// same table over a deployment wired as main.ts wires it (the root ring over the local root, or local-sealed for
// rekey). Changes that let nobody decrypt are not held.
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSealedRoot } from '../../src/adapters/root-of-trust/local-sealed/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { DEFAULT_DUAL_CONTROL_OPERATIONS, dataPaths, loadServerConfig } from '../../src/config/config.js';
import type { DualControlSettings } from '../../src/core/dual-control.js';
import { createKeyService, type KeyService } from '../../src/core/key-service.js';
import { createRootMigrations } from '../../src/core/root-migration.js';
import { createRootOperations } from '../../src/core/root-operations.js';
import { createRootRing } from '../../src/core/root-ring.js';
import { createIdentityService } from '../../src/identity/identity-service.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { systemClock } from '../../src/ports/clock.js';
import type { PrincipalRecord, Storage } from '../../src/ports/storage.js';
import { createRootBackends } from '../../src/root-backends.js';
import { SCOPE, context, coreFixture } from '../helpers/core-fixture.js';
import { initLocalSealed, openRoot } from '../root-of-trust/ring-fixture.js';

const DUAL_CONTROL: DualControlSettings = { enabled: true, operations: [...DEFAULT_DUAL_CONTROL_OPERATIONS], approvalTtlSeconds: 3600 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SELF_APPROVAL = 'You cannot decide your own approval request.';

const engineer = context(['data-engineer'], 'eng');
const admin = context(['administrator'], 'solo');
const second = context(['administrator'], 'second');
const arnOf = (name: string) => `arn:aws:iam::${SCOPE.accountId}:user/${name}`;

const identityPolicy = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
const DECRYPTING = identityPolicy(['kms:Decrypt']);
const NOT_DECRYPTING = identityPolicy(['kms:Encrypt', 'kms:DescribeKey']);
const NOT_DECRYPTING_EITHER = identityPolicy(['kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext']);

type Failure = { code?: string; approvalId?: string; message?: string };
const failureOf = (promise: Promise<unknown>): Promise<Failure | undefined> =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Failure,
  );

/** One gated operation, ready to run: the call, the state it changes (a JSON value), and that state once it ran. */
interface Prepared {
  call: () => Promise<unknown>;
  state: () => Promise<unknown>;
  /** Assertions on the state after the one approved call. */
  changed: (after: any) => void | Promise<void>;
}

interface Deployment {
  service: KeyService;
  storage: Storage;
}

/**
 * The whole dual-control round for one operation: held and unchanged; self-approval refused; approved by the second
 * administrator (still unchanged); the identical call runs once, audited with both identities; a third is held anew.
 */
async function expectHeldUntilApproved(d: Deployment, eventName: string, operation: string, p: Prepared): Promise<void> {
  const before = await p.state();
  const pendingBefore = (await d.service.approvals.list(second, { status: 'Pending' })).items.map((a) => a.id);
  expect(pendingBefore).toEqual([]);

  const held = await failureOf(p.call());
  expect(held?.code, held?.message).toBe('ERR_APPROVAL_REQUIRED');
  const id = held!.approvalId!;
  expect(id).toMatch(UUID);
  expect(held!.message).toContain(`Approval request ${id} is pending`);
  expect(await p.state()).toEqual(before);
  const pending = (await d.service.approvals.list(second, { status: 'Pending' })).items;
  expect(pending.map((a) => a.id)).toEqual([id]);
  expect(pending[0]).toMatchObject({ operation, requestedBy: admin.caller.arn, status: 'Pending', decidedBy: null, consumedAt: null });
  // Repeating while pending names the same request and piles up nothing.
  expect((await failureOf(p.call()))?.approvalId).toBe(id);
  expect((await d.service.approvals.list(second, { status: 'Pending' })).items).toHaveLength(1);
  // The held call is audited as denied, with the attempt recorded before the request was stored.
  const heldEvents = await d.storage.readAudit({ eventName, limit: 100 });
  expect(heldEvents.map((e) => [e.outcome, e.errorCode])).toEqual([
    ['attempt', null],
    ['denied', 'ERR_APPROVAL_REQUIRED'],
    ['denied', 'ERR_APPROVAL_REQUIRED'],
  ]);

  await expect(d.service.approvals.approve(admin, id)).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED', message: SELF_APPROVAL });
  expect((await d.service.approvals.get(second, id)).status).toBe('Pending');
  expect(await p.state()).toEqual(before);

  const approved = await d.service.approvals.approve(second, id);
  expect(approved).toMatchObject({ id, status: 'Approved', requestedBy: admin.caller.arn, decidedBy: second.caller.arn, consumedAt: null });
  expect(await p.state()).toEqual(before); // an approval alone changes nothing

  await p.call();
  const after = await p.state();
  expect(after).not.toEqual(before);
  await p.changed(after);
  expect((await d.service.approvals.get(second, id)).consumedAt).not.toBeNull();
  const succeeded = (await d.storage.readAudit({ eventName, outcome: 'success', limit: 100 })).filter((e) => e.principal === admin.caller.arn);
  expect(succeeded).toHaveLength(1);
  expect(succeeded[0]!.details.approval).toEqual({ id, requestedBy: admin.caller.arn, approvedBy: second.caller.arn });

  const third = await failureOf(p.call());
  expect(third?.code, third?.message).toBe('ERR_APPROVAL_REQUIRED');
  expect(third!.approvalId).toMatch(UUID);
  expect(third!.approvalId).not.toBe(id);
  expect(await p.state()).toEqual(after);
  expect((await d.service.approvals.list(second, { status: 'Pending' })).items.map((a) => a.id)).toEqual([third!.approvalId]);
  expect((await d.service.approvals.get(second, id)).status).toBe('Consumed'); // not reusable
}

/** Runs `call` through one approval by the second administrator (setup steps that are themselves gated). */
async function withApproval<T>(service: KeyService, call: () => Promise<T>): Promise<T> {
  const held = await failureOf(call());
  expect(held?.code).toBe('ERR_APPROVAL_REQUIRED');
  await service.approvals.approve(second, held!.approvalId!);
  return call();
}

describe('dual control over the default operation set (core, local root)', () => {
  type Fixture = Awaited<ReturnType<typeof coreFixture>>;
  let f: Fixture;
  let identity: ReturnType<typeof createIdentityService>;

  async function addPrincipal(name: string, roles: string[]): Promise<PrincipalRecord> {
    const now = f.clock.now();
    const record: PrincipalRecord = { id: name, name, kind: 'user', arn: arnOf(name), roles, policies: [], tags: {}, disabled: false, createdAt: now, updatedAt: now };
    await f.storage.createPrincipal(record);
    return record;
  }

  const keyState = async (id: string) => {
    const key = await f.storage.getKey(id);
    return { state: key?.state, currentVersion: key?.currentVersion, deletionAt: key?.deletionAt?.toISOString() ?? null, policy: key?.policy ?? null };
  };
  const principalState = async (name: string) => {
    const p = await f.storage.getPrincipalByName(name);
    return p ? { roles: p.roles, policies: p.policies, disabled: p.disabled } : null;
  };

  /** An EXTERNAL key (PendingImport) and material wrapped for it with a fresh import token. */
  async function externalKeyWithWrappedMaterial() {
    const key = await f.service.keys.create(engineer, { origin: 'EXTERNAL' });
    const params = await f.service.keyImport.getParametersForImport(admin, { keyId: key.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' });
    const encryptedKeyMaterial = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(params.publicKey), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      randomBytes(32),
    );
    const input = { keyId: key.id, importToken: params.importToken, encryptedKeyMaterial, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
    return { keyId: key.id, importMaterial: () => f.service.keyImport.importKeyMaterial(admin, input) };
  }

  const decrypts = (ciphertext: Uint8Array) =>
    f.service.crypto.decrypt(engineer, { ciphertext }).then(
      (out) => Buffer.from(out.plaintext).toString(),
      (e: { code?: string }) => e.code,
    );

  beforeEach(async () => {
    f = await coreFixture({ dualControl: DUAL_CONTROL });
    identity = createIdentityService({ storage: f.storage, run: f.service.run, clock: f.clock, scope: SCOPE, root: f.root });
    await addPrincipal('eng', ['data-engineer']);
    await addPrincipal('analyst', ['security-analyst']);
    await addPrincipal('solo', ['administrator']);
    await addPrincipal('second', ['administrator']);
  });
  afterEach(() => f.close());

  const CASES: Array<[string, string, () => Promise<Prepared>]> = [
    [
      'PutKeyPolicy',
      'PutKeyPolicy',
      async () => {
        const key = await f.service.keys.create(engineer, {});
        const policy = JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SCOPE.accountId}:root` }, Action: 'kms:*', Resource: '*' },
            { Sid: 'Marker', Effect: 'Allow', Principal: { AWS: admin.caller.arn }, Action: ['kms:DescribeKey'], Resource: '*' },
          ],
        });
        return {
          call: () => f.service.keyPolicies.put(admin, { keyId: key.id, policy }),
          state: () => keyState(key.id),
          changed: async (after) => {
            expect(after.policy).toBe(policy);
            expect(await f.service.keyPolicies.get(second, key.id)).toBe(policy);
          },
        };
      },
    ],
    [
      'ImportKeyMaterial',
      'ImportKeyMaterial',
      async () => {
        const { keyId, importMaterial } = await externalKeyWithWrappedMaterial();
        return {
          call: importMaterial,
          state: () => keyState(keyId),
          changed: async (after) => {
            expect(after).toMatchObject({ state: 'Enabled', currentVersion: 1 });
            const sealed = await f.service.crypto.encrypt(engineer, { keyId, plaintext: Buffer.from('imported') });
            expect(await decrypts(sealed.ciphertext)).toBe('imported');
          },
        };
      },
    ],
    [
      'DeleteImportedKeyMaterial',
      'DeleteImportedKeyMaterial',
      async () => {
        const { keyId, importMaterial } = await externalKeyWithWrappedMaterial();
        await withApproval(f.service, importMaterial);
        const sealed = await f.service.crypto.encrypt(engineer, { keyId, plaintext: Buffer.from('under imported material') });
        return {
          call: () => f.service.keyImport.deleteImportedKeyMaterial(admin, keyId),
          state: async () => ({ ...(await keyState(keyId)), decrypts: await decrypts(sealed.ciphertext) }),
          changed: (after) => {
            expect(after).toMatchObject({ state: 'PendingImport', currentVersion: 0 });
            expect(after.decrypts).toBe('ERR_INVALID_STATE');
          },
        };
      },
    ],
    [
      'ScheduleKeyDeletion',
      'ScheduleKeyDeletion',
      async () => {
        const key = await f.service.keys.create(engineer, {});
        return {
          call: () => f.service.keys.scheduleDeletion(admin, key.id, 7),
          state: () => keyState(key.id),
          changed: (after) => expect(after).toMatchObject({ state: 'PendingDeletion', deletionAt: '2026-01-08T00:00:00.000Z' }),
        };
      },
    ],
    [
      'DisableKey',
      'DisableKey',
      async () => {
        const key = await f.service.keys.create(engineer, {});
        return {
          call: () => f.service.keys.disable(admin, key.id),
          state: () => keyState(key.id),
          changed: (after) => expect(after.state).toBe('Disabled'),
        };
      },
    ],
    [
      'CreatePrincipal',
      'datadefender:CreatePrincipal',
      async () => ({
        call: () => identity.principals.create(admin, { name: 'new-engineer', roles: ['data-engineer'] }),
        state: () => principalState('new-engineer'),
        changed: (after) => expect(after).toEqual({ roles: ['data-engineer'], policies: [], disabled: false }),
      }),
    ],
    [
      'EnablePrincipal',
      'datadefender:EnablePrincipal',
      async () => {
        await identity.principals.setDisabled(admin, 'eng', true); // disabling is not held
        return {
          call: () => identity.principals.setDisabled(admin, 'eng', false),
          state: () => principalState('eng'),
          changed: (after) => expect(after).toEqual({ roles: ['data-engineer'], policies: [], disabled: false }),
        };
      },
    ],
    [
      'AddPrincipalRole',
      'datadefender:AddPrincipalRole',
      async () => ({
        call: () => identity.principals.addRole(admin, 'analyst', 'data-engineer'),
        state: () => principalState('analyst'),
        changed: (after) => expect(after.roles).toEqual(['data-engineer', 'security-analyst']),
      }),
    ],
    [
      'AttachPrincipalPolicy',
      'datadefender:AttachPrincipalPolicy',
      async () => {
        await identity.policies.create(admin, { name: 'may-decrypt', document: DECRYPTING });
        return {
          call: () => identity.principals.attachPolicy(admin, 'analyst', 'may-decrypt'),
          state: () => principalState('analyst'),
          changed: (after) => expect(after.policies).toEqual(['may-decrypt']),
        };
      },
    ],
    [
      'UpdatePolicy',
      'datadefender:UpdatePolicy',
      async () => {
        await identity.policies.create(admin, { name: 'widening', document: NOT_DECRYPTING });
        await identity.principals.attachPolicy(admin, 'analyst', 'widening'); // not held: it lets nobody decrypt yet
        return {
          call: () => identity.policies.update(admin, { name: 'widening', document: DECRYPTING }),
          state: async () => (await f.storage.getPolicy('widening'))?.document,
          changed: (after) => expect(after).toBe(DECRYPTING),
        };
      },
    ],
  ];

  it('covers every operation of the default set that no other test exercises, or says where it is covered', () => {
    const elsewhere = ['CreateKey', 'CreateGrant', 'CreateAccessKey', 'UpdateAccessKey', 'CreateToken', 'MapClientCertificate']; // separation-of-duties.test.ts
    const root = ['RotateRoot', 'MigrateRoot', 'RekeyRoot']; // below
    expect([...CASES.map(([name]) => name), ...elsewhere, ...root].sort()).toEqual([...DEFAULT_DUAL_CONTROL_OPERATIONS].sort());
  });

  it.each(CASES)('%s: held, not self-approvable, approved by a second administrator, then runs exactly once', async (name, operation, prepare) => {
    const prepared = await prepare();
    await expectHeldUntilApproved(f, name, operation, prepared);
  });

  describe('changes that let nobody decrypt are not held', () => {
    const noApprovals = async () => expect((await f.service.approvals.list(second, { status: 'Pending' })).items).toEqual([]);

    it('AttachPrincipalPolicy of a policy without decryption runs at once', async () => {
      await identity.policies.create(admin, { name: 'describe-only', document: NOT_DECRYPTING });
      const updated = await identity.principals.attachPolicy(admin, 'analyst', 'describe-only');
      expect(updated.policies).toEqual(['describe-only']);
      expect((await principalState('analyst'))?.policies).toEqual(['describe-only']);
      await noApprovals();
    });

    it('UpdatePolicy to a document without decryption runs at once, even for an attached policy', async () => {
      await identity.policies.create(admin, { name: 'narrow', document: NOT_DECRYPTING });
      await identity.principals.attachPolicy(admin, 'eng', 'narrow');
      const updated = await identity.policies.update(admin, { name: 'narrow', document: NOT_DECRYPTING_EITHER });
      expect(updated.document).toBe(NOT_DECRYPTING_EITHER);
      expect((await f.storage.getPolicy('narrow'))?.document).toBe(NOT_DECRYPTING_EITHER);
      await noApprovals();
    });

    it('AddPrincipalRole security-analyst runs at once', async () => {
      const updated = await identity.principals.addRole(admin, 'eng', 'security-analyst');
      expect(updated.roles).toEqual(['data-engineer', 'security-analyst']);
      expect((await principalState('eng'))?.roles).toEqual(['data-engineer', 'security-analyst']);
      await noApprovals();
    });

    it('CreatePrincipal and EnablePrincipal of a principal who may not decrypt run at once', async () => {
      await identity.principals.create(admin, { name: 'auditor', roles: ['security-analyst'] });
      await identity.principals.setDisabled(admin, 'auditor', true);
      expect((await identity.principals.setDisabled(admin, 'auditor', false)).disabled).toBe(false);
      expect(await principalState('auditor')).toEqual({ roles: ['security-analyst'], policies: [], disabled: false });
      await noApprovals();
    });

    it('but the same role or policy change is held when it does let someone decrypt (the sensitive variant of each)', async () => {
      await identity.policies.create(admin, { name: 'may-decrypt', document: DECRYPTING });
      expect((await failureOf(identity.principals.attachPolicy(admin, 'analyst', 'may-decrypt')))?.code).toBe('ERR_APPROVAL_REQUIRED');
      expect((await failureOf(identity.principals.addRole(admin, 'analyst', 'developer')))?.code).toBe('ERR_APPROVAL_REQUIRED');
      expect(await principalState('analyst')).toEqual({ roles: ['security-analyst'], policies: [], disabled: false });
      expect((await f.service.approvals.list(second, { status: 'Pending' })).items).toHaveLength(2);
    });
  });
});

describe('dual control over the root operations (root ring as main.ts wires it)', () => {
  /** A deployment: SQLite, the configured root opened as main.ts opens it, the ring, the key service, root migrations and operations. */
  async function deployment(kind: 'local' | 'local-sealed') {
    const dir = await mkdtemp(join(tmpdir(), 'dd-dc-root-'));
    const config = loadServerConfig(kind === 'local' ? { dataDir: dir, dev: true, rootOfTrust: 'local' } : { dataDir: dir, rootOfTrust: 'local-sealed' }, {});
    const shares = kind === 'local-sealed' ? await initLocalSealed(config) : [];
    const opened = await openRoot(config, shares);
    const storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
    const backends = createRootBackends(config, { configured: opened });
    const ring = createRootRing({ storage, backends, clock: systemClock, kind: opened.root.kind, refreshMs: 0 });
    const service = createKeyService({
      storage,
      root: ring,
      audit: createAuditLog({ sink: storage }),
      policies: createPolicyEngine(),
      clock: systemClock,
      scope: SCOPE,
      settings: { defaultRotationPeriodDays: 180, keyCacheSize: 1000, keyCacheTtlSeconds: 300, metadataCacheMs: 0, dualControl: DUAL_CONTROL },
    });
    const migrations = createRootMigrations({ run: service.run, storage, ring, backends, clock: systemClock, scope: SCOPE, batchSize: 50, settleMs: 0 });
    const operations = createRootOperations({ run: service.run, root: ring, ...(opened.sealable ? { sealable: opened.sealable } : {}), forgetMaterial: () => service.materialCache.clear() });
    // Some wrapped material, so the ring is in use (and its registry made) before the operation.
    const key = await service.keys.create(engineer, {});
    const sealed = await service.crypto.encrypt(engineer, { keyId: key.id, plaintext: Buffer.from('kept') });
    const stillDecrypts = async () => Buffer.from((await service.crypto.decrypt(engineer, { ciphertext: sealed.ciphertext })).plaintext).toString();
    return {
      dir,
      config,
      shares,
      storage,
      ring,
      service,
      migrations,
      operations,
      stillDecrypts,
      async close() {
        await migrations.close();
        await backends.close();
        opened.sealable?.seal();
        await opened.close();
        await storage.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  type Dep = Awaited<ReturnType<typeof deployment>>;
  let d: Dep | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  const ringState = async (dep: Dep) => {
    const view = await dep.ring.view();
    const job = await dep.storage.latestRootMigration();
    return {
      active: { generation: view.active.generation, kind: view.active.kind },
      generations: view.generations.map((g) => [g.generation, g.kind]),
      job: job ? { operation: job.operation, targetGeneration: job.targetGeneration } : null,
      sealFile: existsSync(dataPaths(dep.config).sealFile),
    };
  };

  it('RotateRoot (local root): held, not self-approvable, approved by a second administrator, then runs exactly once', async () => {
    d = await deployment('local');
    const dep = d;
    expect(existsSync(join(dep.dir, 'root-g2.key'))).toBe(false);
    await expectHeldUntilApproved(dep, 'RotateRoot', 'datadefender:RotateRoot', {
      call: () => dep.migrations.rotate(admin),
      state: async () => ({ ...(await ringState(dep)), newRootFile: existsSync(join(dep.dir, 'root-g2.key')) }),
      changed: (after) => {
        expect(after.active).toEqual({ generation: 2, kind: 'local' });
        expect(after.job).toEqual({ operation: 'rotate', targetGeneration: 2 });
        expect(after.newRootFile).toBe(true);
      },
    });
    await dep.migrations.settled();
    expect((await dep.migrations.progress(second)).migration).toMatchObject({ state: 'done', targetGeneration: 2 });
    expect(await dep.stillDecrypts()).toBe('kept');
  });

  it('MigrateRoot (local to local-sealed): held, not self-approvable, approved by a second administrator, then runs exactly once', async () => {
    d = await deployment('local');
    const dep = d;
    let shares: string[] | undefined;
    await expectHeldUntilApproved(dep, 'MigrateRoot', 'datadefender:MigrateRoot', {
      call: async () => {
        shares = (await dep.migrations.migrate(admin, { to: 'local-sealed', shares: 3, threshold: 2 })).shares;
      },
      state: () => ringState(dep),
      changed: (after) => {
        expect(after.active).toEqual({ generation: 2, kind: 'local-sealed' });
        expect(after.job).toEqual({ operation: 'migrate', targetGeneration: 2 });
        expect(after.sealFile).toBe(true);
        expect(shares).toHaveLength(3);
      },
    });
    await dep.migrations.settled();
    expect((await dep.migrations.progress(second)).migration).toMatchObject({ state: 'done', targetKind: 'local-sealed' });
    expect(await dep.stillDecrypts()).toBe('kept');
  });

  it('RekeyRoot (local-sealed root): held, not self-approvable, approved by a second administrator, then runs exactly once', async () => {
    d = await deployment('local-sealed');
    const dep = d;
    const sealFile = dataPaths(dep.config).sealFile;
    let fresh: string[] = [];
    await expectHeldUntilApproved(dep, 'RekeyRoot', 'datadefender:RekeyRoot', {
      call: async () => {
        fresh = await dep.operations.rekey(admin, dep.shares.slice(0, 2), { shares: 4, threshold: 2 });
      },
      state: () => readFile(sealFile, 'utf8'),
      changed: async () => {
        expect(fresh).toHaveLength(4);
        expect(fresh.some((s) => dep.shares.includes(s))).toBe(false);
        // The seal now opens with 2 of the new shares, and no longer with the old ones.
        const withOld = await openSealedRoot(sealFile);
        const old = await failureOf(
          (async () => {
            for (const share of dep.shares.slice(0, 2)) await withOld.submitShare(share, withOld.status().nonce ?? undefined);
          })(),
        );
        expect(old?.code).toBe('ERR_VALIDATION');
        expect(withOld.status().sealed).toBe(true);
        const withNew = await openSealedRoot(sealFile);
        for (const share of fresh.slice(1, 3)) await withNew.submitShare(share, withNew.status().nonce ?? undefined);
        expect(withNew.status()).toMatchObject({ sealed: false, threshold: 2, shares: 4 });
        withNew.seal();
      },
    });
    expect(await dep.stillDecrypts()).toBe('kept');
  });
});
