/**
 * Request limits, as AWS KMS sets them (../shared/reference/aws-kms-protocol.md §2.3), checked in the core
 * so both APIs enforce the same ones.
 */
import { InvalidTagError, ValidationError } from '../errors/index.js';

export const LIMITS = {
  plaintextBytes: { min: 1, max: 4096 },
  ciphertextBytes: { min: 1, max: 6144 },
  dataKeyBytes: { min: 1, max: 1024 },
  randomBytes: { min: 1, max: 1024 },
  descriptionChars: { min: 0, max: 8192 },
  pendingWindowDays: { min: 7, max: 30 },
  rotationPeriodDays: { min: 90, max: 2560 },
  listKeys: { min: 1, max: 1000 },
  listAliases: { min: 1, max: 100 },
  tagsPerKey: 50,
  tagKeyChars: { min: 1, max: 128 },
  tagValueChars: { min: 0, max: 256 },
  onDemandRotations: 25,
} as const;

/** @throws ValidationError (ERR_VALIDATION) when `value` is not an integer within `range`. */
export function checkInteger(name: string, value: number, range: { min: number; max: number }): number {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ValidationError(`${name} must be an integer from ${range.min} to ${range.max}.`);
  }
  return value;
}

/** @throws ValidationError (ERR_VALIDATION) when the byte length is outside `range`. */
export function checkLength(name: string, bytes: Uint8Array, range: { min: number; max: number }): void {
  if (bytes.length < range.min || bytes.length > range.max) {
    throw new ValidationError(`${name} must be from ${range.min} to ${range.max} bytes long.`);
  }
}

/** @throws ValidationError (ERR_VALIDATION) */
export function checkDescription(description: string): string {
  if (description.length > LIMITS.descriptionChars.max) {
    throw new ValidationError(`Description must be at most ${LIMITS.descriptionChars.max} characters.`);
  }
  return description;
}

/** Tag rules of AWS KMS TagResource: at most 50, key 1-128 chars, value 0-256, `aws:` reserved. @throws ValidationError, InvalidTagError */
export function checkTags(tags: Record<string, string>): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > LIMITS.tagsPerKey) throw new InvalidTagError(`Too many tags: a key can have at most ${LIMITS.tagsPerKey}.`);
  for (const [key, value] of entries) {
    if (key.length < LIMITS.tagKeyChars.min || key.length > LIMITS.tagKeyChars.max) {
      throw new ValidationError(`Tag keys must be from 1 to ${LIMITS.tagKeyChars.max} characters.`);
    }
    if (typeof value !== 'string' || value.length > LIMITS.tagValueChars.max) {
      throw new ValidationError(`Tag values must be strings of at most ${LIMITS.tagValueChars.max} characters.`);
    }
    if (key.toLowerCase().startsWith('aws:')) throw new InvalidTagError('Tags beginning with aws: are reserved.');
  }
  return tags;
}
