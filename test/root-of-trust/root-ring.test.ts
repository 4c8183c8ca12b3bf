/**
 * The root ring over the local-sealed root, on SQLite and PostgreSQL: legacy blobs are generation 1, blobs name their
 * generation, an unknown generation and an edited registry are refused; rotate-root interrupted after one batch and
 * resumed, while the server keeps serving, loses nothing and retires the old generation only at the end.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBytes } from '../../src/crypto/index.js';
import { enableRootRecovery } from '../../src/core/root-recovery.js';
import { accessKeySecretAad } from '../../src/core/root-rewrap.js';
import { pinAad } from '../../src/core/hsm-keys.js';
import { caKeyAad } from '../../src/core/secret-aads.js';
import { encodeRingBlob, parseRingBlob } from '../../src/core/root-ring-format.js';
import { registryMac } from '../../src/core/root-registry.js';
import { AccessDeniedError, ConflictError, DependencyError } from '../../src/errors/index.js';
import { accessKeyAad } from '../../src/identity/credentials.js';
import { context } from '../helpers/core-fixture.js';
import {
  ENGINES,
  admin,
  configOf,
  expectIntact,
  generationsInStorage,
  initLocalSealed,
  openRoot,
  place,
  populate,
  serve,
  user,
  type Served,
} from './ring-fixture.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function deployment(engine: (typeof ENGINES)[number], options: Parameters<typeof serve>[0] extends infer O ? Partial<O> : never = {}) {
  const p = await place(engine);
  cleanups.push(() => p.dispose());
  const config = configOf(p.dir);
  const shares = await initLocalSealed(config);
  const configured = await openRoot(config, shares);
  const storage = await p.storage();
  const s = serve({ config, storage, configured, ...options });
  cleanups.push(async () => {
    await s.close();
    configured.sealable?.seal();
  });
  /** A restart: new connection, the root opened from the configuration and unsealed, a new ring. */
  const restart = async (): Promise<Served> => {
    const root = await openRoot(config, shares);
    const again = serve({ config, storage: await p.storage(), configured: root });
    cleanups.push(async () => {
      await again.close();
      root.sealable?.seal();
    });
    return again;
  };
  return { p, config, shares, configured, storage, s, restart };
}

it('keeps the AAD of access-key secrets equal to identity/credentials', () => {
  expect(accessKeySecretAad('DDAKABCDEFGHIJKLMNOP').equals(Buffer.from(accessKeyAad('DDAKABCDEFGHIJKLMNOP')))).toBe(true);
});

describe.each(ENGINES)('root ring on %s', (engine) => {
  it('unwraps legacy blobs as generation 1 and writes blobs that name their generation', async () => {
    const { configured, storage, s } = await deployment(engine);
    const aad = Buffer.from('test/aad');
    const legacy = await configured.root.wrap(SecretBytes.copyOf(Buffer.from('legacy material')), aad);
    expect(legacy[0]).toBeLessThan(0x10);
    expect((await s.ring.unwrap(legacy, aad)).reveal().toString()).toBe('legacy material');

    const wrapped = await s.ring.wrap(SecretBytes.copyOf(Buffer.from('new material')), aad);
    expect(wrapped[0]).toBe(0x10);
    expect(parseRingBlob(wrapped)?.generation).toBe(1);
    expect((await s.ring.unwrap(wrapped, aad)).reveal().toString()).toBe('new material');

    const registry = await storage.getRootRegistry();
    expect(registry.generations.map((g) => [g.generation, g.kind, g.state])).toEqual([[1, 'local-sealed', 'active']]);
    expect(registry.generations[0]!.descriptor).toMatchObject({ rootKey: 1 });
  });

  it('refuses a blob naming a generation it does not have with a clear DependencyError', async () => {
    const { s } = await deployment(engine);
    const aad = Buffer.from('test/aad');
    const inner = parseRingBlob(await s.ring.wrap(SecretBytes.copyOf(Buffer.from('x')), aad))!.inner;
    const err = await s.ring.unwrap(encodeRingBlob(9, inner), aad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect((err as Error).message).toMatch(/root generation 9/);
  });

  it('refuses an edited registry: a new generation, a changed state, a swapped recovery key', async () => {
    const { storage, s, restart } = await deployment(engine);
    const aad = Buffer.from('test/aad');
    await s.ring.wrap(SecretBytes.copyOf(Buffer.from('x')), aad);
    const original = await storage.getRootRegistry();

    // An attacker's generation (an upstream key of theirs), made active, MACed under a key of their own.
    const attackerKey = SecretBytes.copyOf(randomBytes(32));
    const now = new Date();
    const forged = {
      revision: original.revision + 1,
      generations: [
        { ...original.generations[0]!, state: 'retiring' as const },
        { generation: 2, kind: 'aws-kms', descriptor: { keyArn: 'arn:aws:kms:us-east-1:999999999999:key/evil' }, state: 'active' as const, registryKey: randomBytes(80), createdAt: now, updatedAt: now },
      ],
      recovery: null,
      mac: null as Uint8Array | null,
    };
    forged.mac = registryMac(attackerKey, forged);
    expect(await storage.saveRootRegistry(forged, original.revision)).toBe(true);
    const fresh = await restart();
    await expect(fresh.ring.wrap(SecretBytes.copyOf(Buffer.from('y')), aad)).rejects.toThrow(DependencyError);
    await expect(fresh.ring.wrap(SecretBytes.copyOf(Buffer.from('y')), aad)).rejects.toThrow(/fails its authentication/);

    // A state edited in place, the MAC left as it was.
    const edited = { ...original, revision: forged.revision + 1, generations: [{ ...original.generations[0]!, state: 'retiring' as const }] };
    expect(await storage.saveRootRegistry(edited, forged.revision)).toBe(true);
    await expect((await restart()).ring.wrap(SecretBytes.copyOf(Buffer.from('y')), aad)).rejects.toThrow(DependencyError);

    // Put the authentic registry back (same content, same MAC over it at its own revision: revisions are MACed too).
    expect(await storage.saveRootRegistry({ ...original, revision: edited.revision + 1 }, edited.revision)).toBe(true);
    await expect((await restart()).ring.view()).rejects.toThrow(DependencyError);
  });

  it('refuses a swapped recovery public key (escrows never go to an attacker)', async () => {
    const { storage, s, restart } = await deployment(engine);
    const shares = await enableRootRecovery(s.ring, { shares: 3, threshold: 2 });
    expect(shares).toHaveLength(3);
    expect(shares[0]).toMatch(/^ddr1\.[0-9a-f]{8}\./);
    const aad = Buffer.from('test/aad');
    const blob = await s.ring.wrap(SecretBytes.copyOf(Buffer.from('escrowed')), aad);
    expect(blob[0]).toBe(0x11);
    expect(parseRingBlob(blob)?.escrow).not.toBeNull();

    const reg = await storage.getRootRegistry();
    const swapped = { ...reg, revision: reg.revision + 1, recovery: { ...reg.recovery!, publicKey: randomBytes(32) } };
    expect(await storage.saveRootRegistry(swapped, reg.revision)).toBe(true);
    await expect((await restart()).ring.wrap(SecretBytes.copyOf(Buffer.from('z')), aad)).rejects.toThrow(DependencyError);
  });

  it('rotate-root: interrupted after one batch, resumed, serving throughout; nothing lost, old generation retired at the end', async () => {
    let interrupt = true;
    let batches = 0;
    const { p, config, storage, s, restart } = await deployment(engine, {
      onBatch: () => {
        batches++;
        if (interrupt) {
          interrupt = false;
          throw new Error('simulated crash after one batch');
        }
      },
    });
    const population = await populate(s, storage);
    expect(await generationsInStorage(storage)).toEqual([1]);

    const started = await s.migrations.rotate(admin());
    expect(started.resumed).toBe(false);
    expect(started.ring.active).toMatchObject({ generation: 2, kind: 'local-sealed', descriptor: { rootKey: 2 } });
    await s.migrations.settled();
    const stopped = await s.migrations.progress(admin());
    expect(stopped.migration).toMatchObject({ state: 'stopped', operation: 'rotate', targetGeneration: 2, done: 2, total: 7 });
    expect(stopped.migration?.lastError).toBeTruthy();
    expect(await generationsInStorage(storage)).toEqual([1, 2]);
    const sealFile = JSON.parse(await readFile(join(p.dir, 'seal.json'), 'utf8')) as { rootKeys?: Array<{ rootKey: number }> };
    expect(sealFile.rootKeys?.map((k) => k.rootKey)).toEqual([2]);

    // Serving while half-moved: old ciphertexts decrypt, new material goes to generation 2.
    await expectIntact(s, storage, population);
    const during = await s.service.keys.create(user(), {});
    expect(parseRingBlob((await storage.getVersion(during.id, 1))!.wrapped)?.generation).toBe(2);

    // Another operation is refused while this one is under way; the same one resumes it.
    await expect(s.migrations.migrate(admin(), { to: 'pkcs11' })).rejects.toThrow(ConflictError);
    const resumed = await s.migrations.rotate(admin());
    expect(resumed.resumed).toBe(true);
    const decryptsDuringJob = population.ciphertexts.map((c) => s.service.crypto.decrypt(user(), { ciphertext: c.ciphertext }));
    await Promise.all([s.migrations.settled(), ...decryptsDuringJob]);

    const done = await s.migrations.progress(admin());
    expect(done.migration).toMatchObject({ state: 'done', done: 7, total: 7, skipped: 0, lastError: null });
    expect(batches).toBeGreaterThan(2);
    expect(done.ring.generations.map((g) => [g.generation, g.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect(await generationsInStorage(storage)).toEqual([2]);
    const registry = await storage.getRootRegistry();
    expect(registry.generations.find((g) => g.generation === 1)?.registryKey).toBeNull();

    // After a restart (the configuration unchanged: local-sealed, the same seal) everything still opens.
    const after = await restart();
    await expectIntact(after, storage, population);
    expect((await after.ring.view()).active.generation).toBe(2);
    expect(config.rootOfTrust).toBe('local-sealed');
  });

  it('only administrators rotate the root, and compare-and-swap never overwrites a changed row', async () => {
    const { storage, s } = await deployment(engine);
    const population = await populate(s, storage, 1);
    await expect(s.migrations.rotate(context(['data-engineer'], 'bob'))).rejects.toThrow(AccessDeniedError);
    const [version] = await storage.listWrappedKeyVersions(undefined, 1);
    expect(await storage.replaceKeyVersionWrap(version!.keyId, version!.version, randomBytes(10), randomBytes(10))).toBe(false);
    expect(await storage.replaceAccessKeyWrap(population.accessKey.accessKeyId, randomBytes(10), randomBytes(10))).toBe(false);
    await expectIntact(s, storage, population);
  });

  it('rotate-root re-wraps the custom key stores\' PINs and the CA keys too (compare-and-swap on each)', async () => {
    const { storage, s } = await deployment(engine);
    const now = new Date();
    const id = 'cks-0123456789abcdef0';
    const pinWrapped = await s.ring.wrap(SecretBytes.copyOf(Buffer.from('store-pin')), pinAad(id));
    await storage.createCustomKeyStore({
      id, name: 'payments-hsm', type: 'AWS_CLOUDHSM', clusterId: 'payments', trustAnchorCertificate: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
      pinWrapped, connectionState: 'DISCONNECTED', connectionErrorCode: null, revision: 1, createdAt: now, updatedAt: now,
    });
    const caId = '7c1d2e3f-0000-4000-8000-000000000001';
    await storage.createCertificateAuthority({
      id: caId, kind: 'root', state: 'active', commonName: 'DataDefender CA', certPem: null, chainPem: '', csrPem: null,
      wrappedKey: await s.ring.wrap(SecretBytes.copyOf(Buffer.from('ca-private-key')), caKeyAad(caId)), notAfter: null, createdAt: now, updatedAt: now,
    });
    expect(await storage.replaceSecretWrap('custom-key-store-pins', id, randomBytes(10), randomBytes(10))).toBe(false);
    await s.migrations.rotate(admin());
    await s.migrations.settled();
    const [row] = await storage.listWrappedSecrets('custom-key-store-pins', undefined, 10);
    expect(parseRingBlob(row!.wrapped)?.generation).toBe(2);
    expect((await s.ring.unwrap(row!.wrapped, pinAad(id))).reveal().toString()).toBe('store-pin');
    const [ca] = await storage.listWrappedSecrets('pki-ca-keys', undefined, 10);
    expect(parseRingBlob(ca!.wrapped)?.generation).toBe(2);
    expect((await s.ring.unwrap(ca!.wrapped, caKeyAad(caId))).reveal().toString()).toBe('ca-private-key');
  });
});
