import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { KeyRecord, Storage } from '../ports/storage.js';
import type { PolicyEngine } from '../policy/authorize.js';
import type { AccountScope } from './arn.js';
import { keyArn } from './arn.js';
import type { RunOperation } from './audited-operation.js';
import type { KeyMaterial } from './key-material.js';
import { materialIdFor } from './key-material.js';
import type { KeyResolver } from './key-resolver.js';
import type { HsmKeys, KeyStoreView } from './hsm-keys.js';

/** What every use case of the key service shares. */
export interface KeyContext {
  storage: Storage;
  material: KeyMaterial;
  run: RunOperation;
  clock: Clock;
  scope: AccountScope;
  resolver: KeyResolver;
  settings: { defaultRotationPeriodDays: number };
  policies: PolicyEngine;
  root: RootOfTrust;
  /** Keys whose material is in a custom key store's HSM token (origin AWS_CLOUDHSM). */
  hsmKeys: HsmKeys;
}

/** A key as the core returns it. */
export interface KeyDescription extends KeyRecord {
  arn: string;
  currentKeyMaterialId: string;
  /** Origin AWS_CLOUDHSM: the custom key store holding the material (DescribeKey shows Unavailable unless CONNECTED). */
  customKeyStore?: KeyStoreView;
}

export function describeRecord(scope: AccountScope, key: KeyRecord): KeyDescription {
  return { ...key, arn: keyArn(scope, key.id), currentKeyMaterialId: materialIdFor(key.id, key.currentVersion) };
}

export const DAY_MS = 86_400_000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}
