/**
 * When a grant allows a request (AWS KMS grants, aws-kms-protocol.md §6.4): the operation is one of the grant's,
 * and the request's encryption context satisfies the grant's constraint — EncryptionContextEquals: exactly those
 * pairs; EncryptionContextSubset: at least those pairs. DescribeKey, CreateGrant and RetireGrant ignore constraints.
 */
import type { GrantRecord } from '../ports/storage.js';

/** Whether `grant` lets its grantee perform `operation` with encryption context `ec`. */
export function grantAllows(grant: GrantRecord, operation: string, ec: Record<string, string> | undefined): boolean {
  if (!grant.operations.includes(operation)) return false;
  const c = grant.constraints;
  if (!c || operation === 'DescribeKey' || operation === 'RetireGrant' || operation === 'CreateGrant') return true;
  const context = ec ?? {};
  if (c.encryptionContextEquals) {
    const want = Object.entries(c.encryptionContextEquals);
    return want.length === Object.keys(context).length && want.every(([k, v]) => context[k] === v);
  }
  return Object.entries(c.encryptionContextSubset ?? {}).every(([k, v]) => context[k] === v);
}

