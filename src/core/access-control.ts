/**
 * Access control for every request on the core path: the pure policy decision (identity permissions and the key
 * policy, policy/) and then the key's grants. AWS KMS evaluation (aws-kms-protocol.md §6.3): an explicit Deny
 * anywhere wins; otherwise any Allow — from the caller's own permissions (when the key policy delegates to the
 * account), from the key policy, or from a grant — allows; otherwise the request is denied.
 * Invariants: grants are read only when the policies did not already decide (administrators never pay for it);
 * a grant applies only to its grantee, its operations and its encryption-context constraints; the decision and
 * what made it go into the audit event.
 */
import { AccessDeniedError } from '../errors/index.js';
import type { KeyRecord, Storage } from '../ports/storage.js';
import type { AccessDecision, Caller, Decide } from '../policy/authorize.js';
import { keyArn, type AccountScope } from './arn.js';
import { grantAllows } from './grant-match.js';

/** Condition facts a use case knows about its request. */
export interface Conditions {
  encryptionContext?: Record<string, string>;
}

/** Facts every request has (the runner adds them). */
export interface RequestFacts {
  sourceIp: string | null;
  now: Date;
}

export interface AccessControl {
  arnOf(key: KeyRecord): string;
  authorize(caller: Caller, action: string, key: KeyRecord | null, conditions: Conditions | undefined, request: RequestFacts): Promise<AccessDecision>;
}

/** AWS's AccessDeniedException text. */
export function accessDenied(principal: string, action: string, resource: string | null): AccessDeniedError {
  return new AccessDeniedError(`User: ${principal} is not authorized to perform: kms:${action} on resource: ${resource ?? '*'}`);
}

const MAX_GRANTS_CONSIDERED = 1000;

function conditionFacts(key: KeyRecord | null, conditions: Conditions | undefined, request: RequestFacts): Record<string, string | readonly string[] | Date | boolean> {
  // Every API is served over TLS only, so aws:SecureTransport is always true.
  const facts: Record<string, string | readonly string[] | Date | boolean> = { 'aws:currenttime': request.now, 'aws:securetransport': true };
  if (request.sourceIp) facts['aws:sourceip'] = request.sourceIp;
  if (key) Object.assign(facts, { 'kms:keyspec': key.keySpec, 'kms:keyusage': key.keyUsage, 'kms:keyorigin': key.origin });
  const ec = conditions?.encryptionContext;
  if (ec) {
    facts['kms:encryptioncontextkeys'] = Object.keys(ec);
    for (const [k, v] of Object.entries(ec)) facts[`kms:encryptioncontext:${k.toLowerCase()}`] = v;
  }
  return facts;
}

export function createAccessControl(deps: { decide: Decide; storage: Storage; scope: AccountScope }): AccessControl {
  const { decide, storage, scope } = deps;
  const arnOf = (key: KeyRecord) => keyArn(scope, key.id);
  return {
    arnOf,
    async authorize(caller, action, key, conditions, request) {
      const decision = decide({
        caller,
        action,
        resource: key === null ? null : arnOf(key),
        ...(key === null ? {} : { keyPolicy: key.policy }),
        // Only a key policy of the key's own reads condition facts (roles and the default policy do not).
        ...(key?.policy ? { conditions: conditionFacts(key, conditions, request) } : {}),
      });
      if (decision.decision !== 'implicit-deny' || key === null) return decision;
      const grants = await storage.grantsFor(key.id, caller.arn, MAX_GRANTS_CONSIDERED);
      const grant = grants.find((g) => grantAllows(g, action, conditions?.encryptionContext));
      return grant ? { decision: 'allow', by: `grant:${grant.id}` } : decision;
    },
  };
}
