/**
 * The key service: composition of the key use cases over the ports. The public face of core/.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { Storage } from '../ports/storage.js';
import { createAliases } from './aliases.js';
import { createAuditTrail } from './audit-trail.js';
import type { AuditKeyring } from '../audit/audit-keys.js';
import type { AuditArchiver } from '../audit/archiver.js';
import type { AccountScope } from './arn.js';
import { createOperationRunner } from './audited-operation.js';
import type { KeyContext } from './key-context.js';
import { createKeyCrypto } from './key-crypto.js';
import { createKeyDeletion } from './key-deletion.js';
import { createKeyLifecycle } from './key-lifecycle.js';
import { createKeyMaterial } from './key-material.js';
import { createKeyResolver } from './key-resolver.js';
import { createKeyRotation } from './key-rotation.js';
import { createKeyMac } from './key-mac.js';
import { createKeySigning } from './key-signing.js';
import { createSharedSecrets } from './shared-secrets.js';
import { createMaterialCache } from './material-cache.js';
import { withReadCache } from './cached-storage.js';
import type { PolicyEngine } from '../policy/authorize.js';
import { createAccessControl } from './access-control.js';
import { createGrants } from './grants.js';
import { createKeyPolicies } from './key-policies.js';
import { createKeyImport } from './key-import.js';
import { createApprovals } from './approvals.js';
import { createDualControl, type DualControlSettings } from './dual-control.js';
import type { KeyStoreConnector } from '../ports/key-store.js';
import { createHsmKeys } from './hsm-keys.js';
import { createCustomKeyStores } from './custom-key-stores.js';

export interface KeyServiceDeps {
  storage: Storage;
  root: RootOfTrust;
  audit: AuditLog;
  policies: PolicyEngine;
  clock: Clock;
  scope: AccountScope;
  /** True while the root of trust is sealed (local-sealed); absent for roots that cannot seal. */
  sealed?: () => boolean;
  /** The audit signing and HMAC keys (public keys and keyed hashes for the audit trail); absent in some tests. */
  auditKeys?: AuditKeyring;
  /** Audit retention (archiving old segments), when configured. */
  auditArchiver?: AuditArchiver;
  /** Opens custom key stores' HSM tokens (main.ts picks the adapter); absent when no PKCS#11 module is configured. */
  keyStores?: KeyStoreConnector;
  settings: {
    defaultRotationPeriodDays: number;
    keyCacheSize: number;
    keyCacheTtlSeconds: number;
    /** Changes by other processes to key records and aliases show within this (the change feed's staleness bound); 0: no cache. */
    metadataCacheMs: number;
    dualControl: DualControlSettings;
  };
}

export function createKeyService(deps: KeyServiceDeps) {
  const { root, audit, policies, clock, scope, settings } = deps;
  const storage = withReadCache(deps.storage, { maxStalenessMs: settings.metadataCacheMs, maxEntries: settings.keyCacheSize, ttlMs: settings.keyCacheTtlSeconds * 1000 });
  const cache = createMaterialCache({ maxEntries: settings.keyCacheSize, ttlMs: settings.keyCacheTtlSeconds * 1000 });
  const access = createAccessControl({ policies, storage, scope });
  const dualControl = createDualControl({ storage: deps.storage, clock, settings: settings.dualControl });
  const hsmKeys = createHsmKeys({ storage: deps.storage, root, clock, connector: deps.keyStores });
  const kc: KeyContext = {
    storage,
    clock,
    scope,
    settings,
    material: createKeyMaterial({ root, storage, cache }),
    resolver: createKeyResolver({ storage, scope }),
    policies,
    root,
    hsmKeys,
    run: createOperationRunner({ audit, access, clock, dualControl, sealed: deps.sealed ?? (() => false) }),
  };
  return {
    keys: createKeyLifecycle(kc),
    rotation: createKeyRotation(kc),
    deletion: createKeyDeletion(kc),
    crypto: createKeyCrypto(kc),
    signing: createKeySigning(kc),
    mac: createKeyMac(kc),
    sharedSecrets: createSharedSecrets(kc),
    aliases: createAliases(kc),
    grants: createGrants(kc),
    keyPolicies: createKeyPolicies(kc),
    keyImport: createKeyImport(kc),
    customKeyStores: createCustomKeyStores({ storage: deps.storage, root, clock, run: kc.run, hsmKeys }),
    auditTrail: createAuditTrail(kc, deps.auditKeys, deps.auditArchiver),
    approvals: createApprovals({ ...kc, storage: deps.storage }, access),
    /** Whether dual control is on and what it gates (for status). */
    dualControl: settings.dualControl,
    /** Unwrapped key material held in memory: its size and hit rate (for status), and `clear` for sealing. */
    materialCache: { stats: () => cache.stats(), clear: () => cache.clear() },
    /** The account and region keys live in (for ARNs in responses). */
    scope,
    /** For front ends that audit requests rejected before reaching a use case (e.g. failed authentication). */
    run: kc.run,
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
