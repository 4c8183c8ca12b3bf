/**
 * The common first step of every cryptographic use case: resolve the key (aliases allowed), authorize the caller
 * on its ARN, check that its state allows use, and that its usage fits the operation. AWS text for a wrong usage:
 * `<ARN> key usage is <USAGE> which is not valid for <Operation>.` (aws-kms-protocol.md §2.7).
 */
import { InvalidKeyUsageError } from '../errors/index.js';
import type { KeyRecord } from '../ports/storage.js';
import { aliasCondition, keyArn } from './arn.js';
import type { Conditions } from './access-control.js';
import type { Operation } from './audited-operation.js';
import type { KeyContext } from './key-context.js';
import { specOf, type KeyUsage } from './key-specs.js';
import { assertState } from './key-state-rules.js';

export interface UsableKey {
  key: KeyRecord;
  arn: string;
}

/** @throws NotFoundError, AccessDeniedError, KeyDisabledError, InvalidStateError, InvalidKeyUsageError */
export async function keyForUse(
  kc: KeyContext,
  op: Operation,
  identifier: string,
  usage: KeyUsage,
  operation: string,
  action?: string,
  conditions?: Conditions,
): Promise<UsableKey> {
  const key = await kc.resolver.resolve(identifier, { allowAlias: true });
  const arn = keyArn(kc.scope, key.id);
  await op.authorize(key, action, { ...conditions, ...aliasCondition(identifier) });
  assertState('use', key.state, arn);
  if (key.keyUsage !== usage) throw new InvalidKeyUsageError(`${arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  return { key, arn };
}

/** AWS: an algorithm the key's spec does not offer. */
export function checkAlgorithm(key: KeyRecord, algorithm: string, offered: readonly string[] | undefined): void {
  if (!offered?.includes(algorithm)) {
    throw new InvalidKeyUsageError(`Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
}

/** True for RSA, ECC and Edwards keys (material is a PKCS#8 private key). */
export function isAsymmetric(key: KeyRecord): boolean {
  return specOf(key.keySpec).material.kind === 'key-pair';
}
