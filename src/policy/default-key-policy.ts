/**
 * AWS's default key policy: what CreateKey stores when the caller supplies none (aws-kms-protocol.md §6.3; AWS KMS
 * Developer Guide, "Default key policy"). Its one statement names the account root, so it grants nothing by
 * itself: it delegates the key to the account's identity policies (see evaluate.ts).
 * Invariants:
 * - byte-for-byte the document AWS returns (Id `key-default-1`, Sid `Enable IAM User Permissions`, Action `kms:*`,
 *   Resource `*`), rendered by render-policy.ts the way GetKeyPolicy shows it;
 * - the result is deeply frozen.
 */
import { ValidationError } from '../errors/index.js';
import type { JsonObject } from './policy-document.js';

export const DEFAULT_KEY_POLICY_ID = 'key-default-1';

const ACCOUNT_ID = /^\d{12}$/;
const PARTITION = /^aws(?:-[a-z]+)*$/;

/**
 * The default key policy document for `accountId`.
 * @param partition `aws` (default), `aws-cn`, `aws-us-gov`, ...
 * @throws ValidationError (ERR_VALIDATION) when the account id is not 12 digits or the partition is malformed.
 */
export function buildDefaultKeyPolicy(accountId: string, partition = 'aws'): JsonObject {
  if (!ACCOUNT_ID.test(accountId)) throw new ValidationError('An account id is 12 digits.');
  if (!PARTITION.test(partition)) throw new ValidationError('Invalid partition.');
  const statement = Object.freeze({
    Sid: 'Enable IAM User Permissions',
    Effect: 'Allow',
    Principal: Object.freeze({ AWS: `arn:${partition}:iam::${accountId}:root` }),
    Action: 'kms:*',
    Resource: '*',
  });
  return Object.freeze({ Version: '2012-10-17', Id: DEFAULT_KEY_POLICY_ID, Statement: Object.freeze([statement]) });
}
