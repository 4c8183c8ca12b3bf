/**
 * The policy decision for one request (pure), over the IAM policy language of policy-document.ts and evaluate.ts:
 * the caller's identity policies (its built-in roles and its attached managed policies) and the key's policy.
 * Invariants:
 * - every request on a key is evaluated with a key policy: the key's own, or AWS's default policy, which names the
 *   account and so delegates to the caller's identity policies;
 * - an explicit Deny anywhere wins; the decision names the statement that made it (for the audit trail):
 *   `role:<name>:<Sid>`, `policy:<name>:<Sid>`, `key-policy:<Sid>`, `default-key-policy:<Sid>` (a statement without
 *   Sid is `#<index>`), an identity allow through delegation as `<identity> via <key policy statement>`;
 * - documents are parsed once and cached by their text (bounded), so a decision costs microseconds;
 * - GetCallerIdentity and GetStatus need no permission (as sts:GetCallerIdentity).
 */
import type { AccessDecision, AccessRequest, PolicyEngine } from './authorize.js';
import { iamAction } from './actions.js';
import { builtInRole } from './built-in-roles.js';
import { buildDefaultKeyPolicy } from './default-key-policy.js';
import { evaluate, type DecidingStatement, type PolicyEntry } from './evaluate.js';
import { parsePolicy, type ParsedPolicy, type PolicyKind } from './policy-document.js';
import { renderPolicy } from './render-policy.js';
import { toRequestContext, type ContextValue } from './request-context.js';

/** Actions every authenticated caller may perform. */
const UNRESTRICTED = new Set(['GetCallerIdentity', 'datadefender:GetStatus']);

const label = (by: DecidingStatement) => `${by.policyId}:${by.sid ?? `#${by.statementIndex}`}`;

export function defaultKeyPolicy(accountId: string): string {
  return renderPolicy(buildDefaultKeyPolicy(accountId));
}

/** A bounded cache of parsed documents by kind and text (oldest entry evicted first). */
function documentCache(size: number) {
  const parsed = new Map<string, ParsedPolicy>();
  return (kind: Exclude<PolicyKind, 'grant'>, text: string): ParsedPolicy => {
    const cacheKey = `${kind}\u0000${text}`;
    let policy = parsed.get(cacheKey);
    if (!policy) {
      policy = parsePolicy(text, kind === 'key' ? { kind, resourceDefaultsToAny: true } : { kind });
      if (parsed.size >= size) parsed.delete(parsed.keys().next().value as string);
      parsed.set(cacheKey, policy);
    }
    return policy;
  };
}

const conditionKeySets = new WeakMap<ParsedPolicy, ReadonlySet<string>>();
/** The (lower-cased) condition keys a document tests, computed once per parsed document. */
function conditionKeysOf(policy: ParsedPolicy): ReadonlySet<string> {
  let keys = conditionKeySets.get(policy);
  if (!keys) {
    keys = new Set(policy.statements.flatMap((s) => s.conditions.map((c) => c.key)));
    conditionKeySets.set(policy, keys);
  }
  return keys;
}

export function createPolicyEngine(options: { cacheSize?: number } = {}): PolicyEngine {
  const parse = documentCache(options.cacheSize ?? 10_000);
  const defaults = new Map<string, ParsedPolicy>();
  const defaultFor = (accountId: string) => {
    let policy = defaults.get(accountId);
    if (!policy) {
      policy = parse('key', defaultKeyPolicy(accountId));
      defaults.set(accountId, policy);
    }
    return policy;
  };

  const entriesOf = (request: AccessRequest): PolicyEntry[] => {
    const entries: PolicyEntry[] = [];
    for (const name of request.caller.roles) {
      const role = builtInRole(name);
      if (role) entries.push({ kind: 'identity', id: `role:${name}`, document: role.policy });
    }
    for (const attached of request.caller.policies ?? []) {
      entries.push({ kind: 'identity', id: `policy:${attached.name}`, document: parse('identity', attached.document) });
    }
    if (request.resource !== null && request.keyPolicy !== undefined) {
      const accountId = request.resource.split(':')[4] ?? '';
      const own = request.keyPolicy !== null;
      entries.push({ kind: 'key', id: own ? 'key-policy' : 'default-key-policy', document: own ? parse('key', request.keyPolicy!) : defaultFor(accountId) });
    }
    return entries;
  };

  return {
    validateKeyPolicy: (policy) => void parse('key', policy),
    validateIdentityPolicy: (policy) => void parse('identity', policy),
    defaultKeyPolicy,
    usesConditionKey: (request, key) => entriesOf(request).some((entry) => conditionKeysOf(entry.document).has(key)),
    decide(request: AccessRequest): AccessDecision {
      if (UNRESTRICTED.has(request.action)) return { decision: 'allow', by: 'unrestricted' };
      const result = evaluate(
        {
          principalArn: request.caller.arn,
          action: iamAction(request.action),
          resource: request.resource ?? '*',
          context: toRequestContext({ ...(request.conditions as Record<string, ContextValue> | undefined), 'aws:PrincipalArn': request.caller.arn }),
        },
        entriesOf(request),
      );
      if (!result.by) return { decision: result.decision };
      return { decision: result.decision, by: result.delegatedBy ? `${label(result.by)} via ${label(result.delegatedBy)}` : label(result.by) };
    },
  };
}
