/**
 * The policy decision: (principal, action, resource, context) × policies → allow | deny | implicit-deny, with the
 * statement that decided it (for the audit trail). Pure: no I/O, no clock, no state.
 * AWS IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic"; AWS KMS Developer
 * Guide, "Default key policy" and "Allowing users in other accounts to use a KMS key"; aws-kms-protocol.md §6.3
 * ("access needs an Allow from the key policy, or from IAM when the key policy delegates to the account root, or
 * from a grant") and §6.4.
 * Invariants:
 * - a statement applies when its principal reaches the caller (resource-based kinds only; see principal.ts), its
 *   Action/NotAction matches the action (case-insensitively), its Resource/NotResource matches the resource, and
 *   every condition holds;
 * - an applicable Deny in any policy of any kind wins, whatever allows exist; the first one (policy order, then
 *   statement order) is reported;
 * - a key-policy or grant Allow whose principal names the caller (its ARN, `*`, or the account root when the
 *   caller is that root) allows by itself. One that reaches the caller only through its account root is
 *   *delegation*: it allows nothing alone, but lets an identity-policy Allow of that account count;
 * - when the key belongs to another account than the caller (account in the resource ARN ≠ the caller's), a key
 *   policy naming the caller is also only delegation: cross-account access needs the caller's identity policy too;
 * - when no key policy is among the policies (account-level actions such as kms:CreateKey, kms:ListKeys), an
 *   identity-policy Allow allows by itself. Callers must therefore always pass the key policy (AWS's default one
 *   when the key has none) for requests on a key;
 * - among the allows that take effect, the first in policy order is reported (`by`); an identity allow that took
 *   effect through delegation also names the delegating statement (`delegatedBy`);
 * - no applicable Allow: implicit deny.
 * Cost: one lower-casing of the action, one split of the caller ARN and one of the resource ARN per request (both
 * remembered for the next request with the same value); the rest allocates only the result (≈1–3 µs per decision
 * for a key policy plus an identity policy).
 */
import { InternalError } from '../errors/index.js';
import { splitArnCached } from './arn-pattern.js';
import type { ParsedPolicy, PolicyKind, PolicyStatement } from './policy-document.js';
import { callerIdentity, matchPrincipal, type PrincipalMatch } from './principal.js';
import type { RequestContext } from './request-context.js';

/** What is asked. */
export interface EvaluationRequest {
  /** The caller, e.g. `arn:aws:iam::111122223333:user/alice`. */
  readonly principalArn: string;
  /** `<vendor>:<Operation>`, e.g. `kms:Encrypt` (any case). */
  readonly action: string;
  /** The key ARN, or `*` for actions without a resource. */
  readonly resource: string;
  /** Condition keys by lower-cased name (see request-context.ts). */
  readonly context: RequestContext;
}

/** One policy taking part in the decision. `kind` must be the kind the document was parsed for. */
export interface PolicyEntry {
  readonly kind: PolicyKind;
  /** Names the policy in decisions: a key ARN, an identity-policy name, a grant id. */
  readonly id: string;
  readonly document: ParsedPolicy;
}

/** Where a decision came from. */
export interface DecidingStatement {
  readonly policyKind: PolicyKind;
  readonly policyId: string;
  readonly sid?: string;
  readonly statementIndex: number;
}

export type Decision = 'allow' | 'deny' | 'implicit-deny';

export interface EvaluationResult {
  readonly decision: Decision;
  /** The Deny that won, or the Allow that took effect; absent for an implicit deny. */
  readonly by?: DecidingStatement;
  /** For an identity-policy allow that counted through delegation: the key-policy or grant statement that delegated. */
  readonly delegatedBy?: DecidingStatement;
}

const IMPLICIT_DENY: EvaluationResult = Object.freeze({ decision: 'implicit-deny' });

interface Hit {
  readonly entry: number;
  readonly statement: PolicyStatement;
}

function applies(s: PolicyStatement, action: string, request: EvaluationRequest): boolean {
  if (s.actions.match(action) === s.actions.negated) return false;
  if (s.resources.match(request.resource) === s.resources.negated) return false;
  for (const c of s.conditions) if (!c.test(request.context)) return false;
  return true;
}

const before = (a: Hit, b: Hit | undefined): boolean =>
  b === undefined || a.entry < b.entry || (a.entry === b.entry && a.statement.index < b.statement.index);

/** `<partition>:<account>` of an ARN resource (the key's account), or undefined for `*` and non-ARNs. */
function resourceAccount(resource: string): string | undefined {
  const parts = splitArnCached(resource);
  return parts === undefined || parts[4] === '' ? undefined : `${parts[1]}:${parts[4]}`;
}

function deciding(policies: readonly PolicyEntry[], hit: Hit): DecidingStatement {
  const entry = policies[hit.entry] as PolicyEntry;
  const { sid, index } = hit.statement;
  const by: { policyKind: PolicyKind; policyId: string; sid?: string; statementIndex: number } = { policyKind: entry.kind, policyId: entry.id, statementIndex: index };
  if (sid !== undefined) by.sid = sid;
  return Object.freeze(by);
}

/**
 * Decides a request against the policies that govern it: the caller's identity policies, the key policy (for
 * requests on a key) and the key's grants for the caller.
 * @throws InternalError (ERR_INTERNAL) when an entry's kind differs from the kind its document was parsed for (a
 *   programming error: Principal rules differ by kind).
 */
export function evaluate(request: EvaluationRequest, policies: readonly PolicyEntry[]): EvaluationResult {
  const caller = callerIdentity(request.principalArn);
  const action = request.action.toLowerCase();
  let hasKeyPolicy = false;
  let direct: Hit | undefined;
  let keyForCaller: Hit | undefined;
  let delegation: Hit | undefined;
  let identity: Hit | undefined;
  const keyAccount = resourceAccount(request.resource);
  const crossAccount = keyAccount !== undefined && caller.account !== undefined && caller.account !== keyAccount;

  for (let e = 0; e < policies.length; e++) {
    const entry = policies[e] as PolicyEntry;
    if (entry.document.kind !== entry.kind) {
      throw new InternalError({ cause: new Error(`policy ${entry.id} was parsed as ${entry.document.kind}, evaluated as ${entry.kind}`) });
    }
    if (entry.kind === 'key') hasKeyPolicy = true;
    for (const s of entry.document.statements) {
      const reach: PrincipalMatch = s.principal === undefined ? 'caller' : matchPrincipal(s.principal, caller);
      if (reach === 'none' || !applies(s, action, request)) continue;
      if (s.effect === 'Deny') return Object.freeze({ decision: 'deny', by: deciding(policies, { entry: e, statement: s }) });
      if (entry.kind === 'identity') identity ??= { entry: e, statement: s };
      else if (reach === 'account') delegation ??= { entry: e, statement: s };
      else if (entry.kind === 'key' && crossAccount) keyForCaller ??= { entry: e, statement: s };
      else direct ??= { entry: e, statement: s };
    }
  }

  const opener = delegation !== undefined && keyForCaller !== undefined ? (before(delegation, keyForCaller) ? delegation : keyForCaller) : (delegation ?? keyForCaller);
  const identityCounts = identity !== undefined && (!hasKeyPolicy || opener !== undefined);
  if (identityCounts && before(identity as Hit, direct)) {
    const by = deciding(policies, identity as Hit);
    return Object.freeze(opener === undefined ? { decision: 'allow', by } : { decision: 'allow', by, delegatedBy: deciding(policies, opener) });
  }
  if (direct !== undefined) return Object.freeze({ decision: 'allow', by: deciding(policies, direct) });
  return IMPLICIT_DENY;
}
