/**
 * Which permissions let their holder see plaintext: the test dual control applies to every change that would let
 * someone decrypt (issue #4, PCI DSS 3.6.1.2): roles, identity policies, key policies, grants, and credentials
 * issued for a principal who may decrypt.
 * Invariants:
 * - an Allow of any DECRYPTION_ACTIONS action counts, whatever its resources and conditions (erring towards a
 *   second approval);
 * - in a key policy, an Allow whose Principal names only account roots does not count by itself: it delegates to
 *   the account's identity policies, whose changes are themselves under dual control. Any other principal — `*`, a
 *   user, a role, a service, a NotPrincipal — is given the permission directly, and counts.
 */
import { DECRYPTION_ACTIONS } from './actions.js';
import { parsePolicy, type ParsedPolicy, type PolicyStatement } from './policy-document.js';

const DECRYPTION = DECRYPTION_ACTIONS.map((a) => a.toLowerCase());

const allowsDecryptionIn = (s: PolicyStatement) => s.effect === 'Allow' && DECRYPTION.some((a) => s.actions.match(a) !== s.actions.negated);

/** True when the policy allows any operation that reveals plaintext. */
export function allowsDecryption(policy: ParsedPolicy): boolean {
  return policy.statements.some(allowsDecryptionIn);
}

/**
 * True when the key policy lets a principal decrypt directly (not only through its account's identity policies).
 * A document that does not parse is not judged here: the caller validates it, and refuses it, separately.
 */
export function keyPolicyDecryptsDirectly(document: string, partition: string): boolean {
  let policy: ParsedPolicy;
  try {
    policy = parsePolicy(document, { kind: 'key', partition });
  } catch {
    return false;
  }
  return policy.statements.some((s) => {
    const p = s.principal;
    return allowsDecryptionIn(s) && (p === undefined || p.negated || p.any || p.arns.size > 0 || p.services.size > 0);
  });
}

/** True when a grant's operations (AWS names, e.g. `Decrypt`) include one that reveals plaintext. */
export function grantDecrypts(operations: readonly string[]): boolean {
  return operations.some((o) => DECRYPTION.includes(`kms:${o}`.toLowerCase()));
}
