/**
 * The AWS KMS operation table: `X-Amz-Target: TrentService.<name>` -> operation. Operations of the service model
 * that DataDefender does not offer answer UnsupportedOperationException with the reason.
 */
import { UnsupportedError } from '../../../errors/index.js';
import type { AwsOperation } from '../operation.js';
import { ALIAS_OPERATIONS } from './aliases.js';
import { ASYMMETRIC_OPERATIONS } from './asymmetric.js';
import { CRYPTO_OPERATIONS } from './crypto.js';
import { GRANT_OPERATIONS } from './grants.js';
import { IMPORT_OPERATIONS } from './import.js';
import { POLICY_OPERATIONS } from './policies.js';
import { KEY_OPERATIONS } from './keys.js';
import { ROTATION_OPERATIONS } from './rotation.js';
import { TAG_OPERATIONS } from './tags.js';
import { CUSTOM_KEY_STORE_OPERATIONS } from './custom-key-stores.js';

/** AWS KMS operations DataDefender answers with UnsupportedOperationException, and why. */
export const NOT_OFFERED: Readonly<Record<string, string>> = {
  ReplicateKey: 'Multi-Region keys are not supported.',
  UpdatePrimaryRegion: 'Multi-Region keys are not supported.',
  GetKeyLastUsage: 'GetKeyLastUsage is not supported; use the audit trail.',
  Encapsulate: 'Key encapsulation (ML-KEM keys) is not supported.',
  Decapsulate: 'Key encapsulation (ML-KEM keys) is not supported.',
};

const unsupported = (reason: string) => ({
  input: {},
  run: () => Promise.reject(new UnsupportedError(reason)),
});

export const AWS_OPERATIONS: Readonly<Record<string, AwsOperation>> = {
  ...KEY_OPERATIONS,
  ...CRYPTO_OPERATIONS,
  ...ASYMMETRIC_OPERATIONS,
  ...ALIAS_OPERATIONS,
  ...ROTATION_OPERATIONS,
  ...TAG_OPERATIONS,
  ...GRANT_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...IMPORT_OPERATIONS,
  ...CUSTOM_KEY_STORE_OPERATIONS,
  ...Object.fromEntries(Object.entries(NOT_OFFERED).map(([name, reason]) => [name, unsupported(reason)])),
};
