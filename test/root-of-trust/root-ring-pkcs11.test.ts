/**
 * The root ring with SoftHSM2 (really installed; never skipped), on SQLite and PostgreSQL: rotate-root on the pkcs11
 * root, migrate-root from local-sealed to pkcs11 — each interrupted after one batch and resumed, nothing lost — and
 * break-glass recovery: a pkcs11 root with escrow, the token destroyed, recovery with M shares onto a new
 * local-sealed root, old ciphertexts decrypt; too few, wrong and duplicate shares refused.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enableRootRecovery, recoverRoot } from '../../src/core/root-recovery.js';
import { DependencyError, ValidationError } from '../../src/errors/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { createRootBackends } from '../../src/root-backends.js';
import { initializeConfiguredRoot } from '../../src/roots.js';
import { startSoftHsm, type SoftHsm } from '../helpers/softhsm.js';
import { ENGINES, admin, configOf, expectIntact, generationsInStorage, initLocalSealed, openRoot, place, populate, serve, type Served } from './ring-fixture.js';

let hsm: SoftHsm;
let tokens = 0;
beforeAll(async () => {
  hsm = await startSoftHsm();
});
afterAll(async () => {
  await hsm?.close();
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A fresh token and the environment that configures it (the PIN from an environment variable, as in production). */
async function tokenEnv() {
  const label = `ring-${++tokens}`;
  const token = await hsm.createToken(label, `pin-${tokens}`);
  const env = {
    ...process.env,
    DATADEFENDER_PKCS11_MODULE: hsm.module,
    DATADEFENDER_PKCS11_TOKEN_LABEL: label,
    DATADEFENDER_PKCS11_KEY_LABEL: 'dd-root',
    DATADEFENDER_PKCS11_PIN_ENV: 'DD_TEST_PKCS11_PIN',
    DD_TEST_PKCS11_PIN: token.pin,
  };
  return { token, env };
}

function track(s: Served, configured: { sealable?: { seal(): void } | undefined; close(): Promise<void> }) {
  cleanups.push(async () => {
    await s.close();
    configured.sealable?.seal();
    await configured.close();
  });
  return s;
}

const crashOnce = () => {
  let armed = true;
  return () => {
    if (armed) {
      armed = false;
      throw new Error('simulated crash after one batch');
    }
  };
};

describe.each(ENGINES)('root ring with SoftHSM2 on %s', (engine) => {
  it('rotate-root on pkcs11: a new key object, interrupted and resumed, nothing lost', async () => {
    const p = await place(engine);
    cleanups.push(() => p.dispose());
    const { env } = await tokenEnv();
    const config = configOf(p.dir, env, 'pkcs11');
    const init = await initializeConfiguredRoot(config, { createKey: true, shares: 1, threshold: 1 }, env);
    await init.opened.close();
    const configured = await openRoot(config, [], env);
    const storage = await p.storage();
    const s = track(serve({ config, storage, configured, env, onBatch: crashOnce() }), configured);
    const population = await populate(s, storage);

    const started = await s.migrations.rotate(admin());
    expect(started.ring.active).toMatchObject({ generation: 2, kind: 'pkcs11', descriptor: { keyLabel: 'dd-root-g2' } });
    await s.migrations.settled();
    expect((await s.migrations.progress(admin())).migration).toMatchObject({ state: 'stopped', done: 2, total: 7 });
    await expectIntact(s, storage, population);

    expect((await s.migrations.rotate(admin())).resumed).toBe(true);
    await s.migrations.settled();
    expect((await s.migrations.progress(admin())).migration).toMatchObject({ state: 'done', done: 7, total: 7 });
    expect(await generationsInStorage(storage)).toEqual([2]);

    // A restart with the configuration unchanged (key label dd-root): the token anchors the registry, dd-root-g2 serves.
    const again = await openRoot(config, [], env);
    const after = track(serve({ config, storage: await p.storage(), configured: again, env }), again);
    await expectIntact(after, storage, population);
    expect((await after.ring.view()).generations.map((g) => g.state)).toEqual(['retired', 'active']);
  });

  it('migrate-root local-sealed -> pkcs11: interrupted and resumed; after it the server runs on the HSM', async () => {
    const p = await place(engine);
    cleanups.push(() => p.dispose());
    const { env } = await tokenEnv();
    const config = configOf(p.dir, env, 'local-sealed');
    const shares = await initLocalSealed(config);
    const configured = await openRoot(config, shares, env);
    const storage = await p.storage();
    const s = track(serve({ config, storage, configured, env, onBatch: crashOnce() }), configured);
    const population = await populate(s, storage);

    const started = await s.migrations.migrate(admin(), { to: 'pkcs11', createKey: true });
    expect(started.ring.active).toMatchObject({ generation: 2, kind: 'pkcs11', descriptor: { keyLabel: 'dd-root' } });
    await s.migrations.settled();
    expect((await s.migrations.progress(admin())).migration).toMatchObject({ state: 'stopped', operation: 'migrate', targetKind: 'pkcs11' });
    expect(await generationsInStorage(storage)).toEqual([1, 2]);
    await expectIntact(s, storage, population);

    expect((await s.migrations.migrate(admin(), { to: 'pkcs11' })).resumed).toBe(true);
    await s.migrations.settled();
    expect((await s.migrations.progress(admin())).migration).toMatchObject({ state: 'done', done: 7, total: 7 });
    expect(await generationsInStorage(storage)).toEqual([2]);
    await expectIntact(s, storage, population);

    // Restarted on the HSM (rootOfTrust: pkcs11), everything decrypts; the retired local-sealed root anchors nothing.
    const pkcs11Config = configOf(p.dir, env, 'pkcs11');
    const onHsm = await openRoot(pkcs11Config, [], env);
    const after = track(serve({ config: pkcs11Config, storage: await p.storage(), configured: onHsm, env }), onHsm);
    await expectIntact(after, storage, population);
    const stale = await openRoot(config, shares, env);
    const refused = track(serve({ config, storage: await p.storage(), configured: stale, env }), stale);
    await expect(refused.ring.view()).rejects.toThrow(/not a live generation/);
  });

  it('recovers from a destroyed HSM token with M recovery shares onto a new local-sealed root', async () => {
    const p = await place(engine);
    cleanups.push(() => p.dispose());
    const { token, env } = await tokenEnv();
    const config = configOf(p.dir, env, 'pkcs11');
    const init = await initializeConfiguredRoot(config, { createKey: true, shares: 1, threshold: 1 }, env);
    await init.opened.close();
    const configured = await openRoot(config, [], env);
    const storage = await p.storage();
    const s = serve({ config, storage, configured, env });
    const recoveryShares = await enableRootRecovery(s.ring, { shares: 5, threshold: 3 });
    const population = await populate(s, storage);
    await s.close();
    await configured.close();

    // The token is destroyed: its directory deleted. The HSM root no longer opens.
    await token.takeOffline();
    for (const name of await readdir(join(hsm.dir, 'offline'))) await rm(join(hsm.dir, 'offline', name), { recursive: true, force: true });
    await expect(openRoot(config, [], env)).rejects.toThrow(DependencyError);

    // Offline recovery onto a new local-sealed root (the configuration of the target: a seal file in the data dir).
    const target = configOf(p.dir, env, 'local-sealed');
    const recoveryStorage = await p.storage();
    const recover = (shares: string[]) =>
      recoverRoot({
        storage: recoveryStorage,
        backends: createRootBackends(target, { configured: null, env }),
        clock: systemClock,
        shares,
        target: { kind: 'local-sealed', shares: 3, threshold: 2 },
        batchSize: 2,
      });
    await expect(recover(recoveryShares.slice(0, 2))).rejects.toThrow(/needs 3 recovery shares; 2 were given/);
    await expect(recover([recoveryShares[0]!, recoveryShares[0]!, recoveryShares[1]!])).rejects.toThrow(/given twice/);
    const other = await (async () => {
      const q = await place('sqlite');
      cleanups.push(() => q.dispose());
      const c = configOf(q.dir);
      const sh = await initLocalSealed(c);
      const root = await openRoot(c, sh);
      const o = serve({ config: c, storage: await q.storage(), configured: root });
      const shares = await enableRootRecovery(o.ring, { shares: 3, threshold: 2 });
      await o.close();
      root.sealable?.seal();
      return shares;
    })();
    await expect(recover([recoveryShares[0]!, recoveryShares[1]!, other[0]!])).rejects.toThrow(ValidationError);
    const mistyped = `${recoveryShares[2]!.slice(0, -3)}${recoveryShares[2]!.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`;
    await expect(recover([recoveryShares[0]!, recoveryShares[1]!, mistyped])).rejects.toThrow(ValidationError);
    expect((await recoveryStorage.getRootRegistry()).generations.map((g) => g.state)).toEqual(['active']);

    const report = await recover([recoveryShares[4]!, recoveryShares[1]!, recoveryShares[3]!]);
    expect(report).toMatchObject({ generation: 2, kind: 'local-sealed', total: 7, unrecoverable: 0, resumed: false });
    expect(report.unsealShares).toHaveLength(3);

    // The server restarts on the new root (rootOfTrust: local-sealed), unsealed with the new seal's shares.
    const configuredAfter = await openRoot(target, report.unsealShares!.slice(0, 2), env);
    const after = track(serve({ config: target, storage: await p.storage(), configured: configuredAfter, env }), configuredAfter);
    await expectIntact(after, storage, population);
    expect((await after.ring.view()).generations.map((g) => [g.generation, g.kind, g.state])).toEqual([
      [1, 'pkcs11', 'retired'],
      [2, 'local-sealed', 'active'],
    ]);
    // Escrow continues under the same recovery key.
    expect((await after.ring.view()).recovery).not.toBeNull();
  });
});
