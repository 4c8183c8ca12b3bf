/** Wire helpers of the native API: strict base64 and the JSON shapes of keys and aliases. */
import { ValidationError } from '../../errors/index.js';
import type { AliasDescription } from '../../core/aliases.js';
import type { KeyDescription } from '../../core/key-context.js';

/**
 * Decodes canonical standard base64 (RFC 4648 §4, with padding). Node's decoder skips characters it does not
 * know, so the round trip is what proves the input was canonical base64 and nothing else.
 * @throws ValidationError (ERR_VALIDATION) otherwise.
 */
export function fromBase64(field: string, value: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new ValidationError(`${field} must be standard base64.`);
  return bytes;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function keyView(k: KeyDescription) {
  return {
    keyId: k.id,
    arn: k.arn,
    description: k.description,
    keySpec: k.keySpec,
    keyUsage: k.keyUsage,
    state: k.state,
    createdAt: k.createdAt.toISOString(),
    currentVersion: k.currentVersion,
    // A key waiting for imported material (version 0) has none.
    currentKeyMaterialId: k.currentVersion > 0 ? k.currentKeyMaterialId : null,
    rotation: { enabled: k.rotationPeriodDays !== null, periodInDays: k.rotationPeriodDays, nextRotationAt: iso(k.nextRotationAt) },
    deletionAt: iso(k.deletionAt),
    tags: k.tags,
  };
}

export function aliasView(a: AliasDescription) {
  return { aliasName: a.name, aliasArn: a.arn, keyId: a.keyId, createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString() };
}
