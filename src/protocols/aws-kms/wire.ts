/**
 * AWS KMS wire shapes of core results: KeyMetadata, epoch-second timestamps, pages.
 * AWS facts (../shared/reference/aws-kms-protocol.md §2.4, §9): timestamps are JSON numbers of epoch seconds;
 * KeyId in responses is the key ARN wherever AWS returns one; KeyMetadata carries `Description: ""`,
 * `MultiRegion: false`, both KeySpec and CustomerMasterKeySpec, and omits what does not apply; a key in a custom key
 * store carries CustomKeyStoreId and CloudHsmClusterId and is `Unavailable` (not Enabled) while its store is not
 * CONNECTED, unless it is PendingDeletion (AWS key-state.md footnote 13); list outputs carry
 * `Truncated` and, only when truncated, `NextMarker`.
 */
import { InvalidMarkerError } from '../../errors/index.js';
import type { KeyDescription } from '../../core/key-context.js';
import { algorithmsOf } from '../../core/key-specs.js';

/** Epoch seconds (fractional milliseconds kept). */
export const epochSeconds = (date: Date): number => date.getTime() / 1000;

const ALGORITHM_LISTS = [
  ['encryptionAlgorithms', 'EncryptionAlgorithms'],
  ['signingAlgorithms', 'SigningAlgorithms'],
  ['macAlgorithms', 'MacAlgorithms'],
  ['keyAgreementAlgorithms', 'KeyAgreementAlgorithms'],
] as const;

export function keyMetadata(key: KeyDescription) {
  const lists = algorithmsOf(key.keySpec, key.keyUsage);
  const algorithms: Record<string, readonly string[]> = {};
  for (const [field, wire] of ALGORITHM_LISTS) {
    const values = lists[field];
    if (values && values.length > 0) algorithms[wire] = values;
  }
  const store = key.customKeyStore;
  const state = store && store.connectionState !== 'CONNECTED' && key.state !== 'PendingDeletion' ? 'Unavailable' : key.state;
  return {
    AWSAccountId: key.arn.split(':')[4],
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: epochSeconds(key.createdAt),
    Enabled: state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: state,
    ...(key.deletionAt ? { DeletionDate: epochSeconds(key.deletionAt) } : {}),
    ...(key.pendingWindowDays !== null && key.state === 'PendingDeletion' ? { PendingDeletionWindowInDays: key.pendingWindowDays } : {}),
    Origin: key.origin,
    ...(store ? { CustomKeyStoreId: store.id, CloudHsmClusterId: store.clusterId } : {}),
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...algorithms,
    MultiRegion: false,
    ...(key.origin === 'EXTERNAL' && key.currentVersion > 0 ? { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } : {}),
    ...(key.currentVersion > 0 ? { CurrentKeyMaterialId: key.currentKeyMaterialId } : {}),
  };
}

/** A page of `items` for lists the core returns whole; the marker is an opaque offset. @throws InvalidMarkerError */
export function pageOf<T>(items: readonly T[], limit: number, marker: string | undefined): { items: T[]; nextMarker?: string } {
  let start = 0;
  if (marker !== undefined) {
    const decoded = /^o([0-9]{1,9})$/.exec(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!decoded || Buffer.from(`o${decoded[1]}`).toString('base64url') !== marker || Number(decoded[1]) > items.length) {
      throw new InvalidMarkerError('The marker is invalid.');
    }
    start = Number(decoded[1]);
  }
  const end = start + limit;
  return {
    items: items.slice(start, end),
    ...(end < items.length ? { nextMarker: Buffer.from(`o${end}`).toString('base64url') } : {}),
  };
}

/** `Truncated` and `NextMarker` as AWS lists carry them. */
export function truncation(nextMarker: string | undefined) {
  return nextMarker === undefined ? { Truncated: false } : { Truncated: true, NextMarker: nextMarker };
}
