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
import type { AccessRequest, AttachedPolicy, Caller, PolicyEngine, PreparedDecision } from './authorize.js';
import { iamAction } from './actions.js';
import { builtInRole } from './built-in-roles.js';
import { buildDefaultKeyPolicy } from './default-key-policy.js';
import { evaluate, type DecidingStatement, type PolicyEntry } from './evaluate.js';
import { parsePolicy, type ParsedPolicy, type PolicyKind } from './policy-document.js';
import { renderPolicy } from './render-policy.js';
import { toRequestContext, type ContextValue, type RequestContext } from './request-context.js';

/** Actions every authenticated caller may perform. */
const UNRESTRICTED = new Set(['GetCallerIdentity', 'datadefender:GetStatus']);

const label = (by: DecidingStatement) => `${by.policyId}:${by.sid ?? `#${by.statementIndex}`}`;

export function defaultKeyPolicy(accountId: string): string {
  return renderPolicy(buildDefaultKeyPolicy(accountId));
}

/**
 * A bounded cache of parsed documents of one kind by their text (oldest entry evicted first): at most `size` entries
 * (at least one), however many distinct documents pass through; `entries()` says how many it holds now.
 */
export function documentCache(kind: Exclude<PolicyKind, 'grant'>, size: number) {
  const parsed = new Map<string, ParsedPolicy>();
  const options = kind === 'key' ? { kind, resourceDefaultsToAny: true } : { kind };
  const get = (text: string): ParsedPolicy => {
    let policy = parsed.get(text);
    if (!policy) {
      policy = parsePolicy(text, options);
      if (parsed.size >= size) parsed.delete(parsed.keys().next().value as string);
      parsed.set(text, policy);
    }
    return policy;
  };
  return Object.assign(get, { entries: () => parsed.size });
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

const NO_POLICIES: readonly AttachedPolicy[] = Object.freeze([]);

/** `cacheSize`: parsed identity and key policy documents kept, each (config policyCacheSize; default 10,000). */
export function createPolicyEngine(options: { cacheSize?: number } = {}): PolicyEngine {
  const size = options.cacheSize ?? 10_000;
  const identityDocument = documentCache('identity', size);
  const keyDocument = documentCache('key', size);
  const defaults = new Map<string, ParsedPolicy>();
  const defaultFor = (accountId: string) => {
    let policy = defaults.get(accountId);
    if (!policy) {
      policy = keyDocument(defaultKeyPolicy(accountId));
      defaults.set(accountId, policy);
    }
    return policy;
  };

  // A caller's identity entries, remembered per (roles, policies) arrays: the caller directory hands out the same
  // frozen arrays for a principal while its cache entry lives, so a request usually builds nothing here.
  const identityMemo = new WeakMap<readonly string[], WeakMap<readonly AttachedPolicy[], readonly PolicyEntry[]>>();
  const identityEntries = (caller: Caller): readonly PolicyEntry[] => {
    const policies = caller.policies ?? NO_POLICIES;
    let byPolicies = identityMemo.get(caller.roles);
    let entries = byPolicies?.get(policies);
    if (entries) return entries;
    const built: PolicyEntry[] = [];
    for (const name of caller.roles) {
      const role = builtInRole(name);
      if (role) built.push({ kind: 'identity', id: `role:${name}`, document: role.policy });
    }
    for (const attached of policies) built.push({ kind: 'identity', id: `policy:${attached.name}`, document: identityDocument(attached.document) });
    entries = Object.freeze(built);
    if (!byPolicies) identityMemo.set(caller.roles, (byPolicies = new WeakMap()));
    byPolicies.set(policies, entries);
    return entries;
  };

  const entriesOf = (request: Omit<AccessRequest, 'conditions'>): readonly PolicyEntry[] => {
    const identity = identityEntries(request.caller);
    if (request.resource === null || request.keyPolicy === undefined) return identity;
    const own = request.keyPolicy !== null;
    const accountId = request.resource.split(':')[4] ?? '';
    return [...identity, { kind: 'key', id: own ? 'key-policy' : 'default-key-policy', document: own ? keyDocument(request.keyPolicy!) : defaultFor(accountId) }];
  };

  const prepare = (request: Omit<AccessRequest, 'conditions'>): PreparedDecision => {
    if (UNRESTRICTED.has(request.action)) return { uses: () => false, decide: () => ({ decision: 'allow', by: 'unrestricted' }) };
    const entries = entriesOf(request);
    const action = iamAction(request.action);
    return {
      uses: (key) => entries.some((entry) => conditionKeysOf(entry.document).has(key)),
      decide(conditions) {
        const context =
          conditions !== undefined && Object.hasOwn(conditions, 'aws:principalarn')
            ? (conditions as RequestContext)
            : toRequestContext({ ...(conditions as Record<string, ContextValue> | undefined), 'aws:PrincipalArn': request.caller.arn });
        const result = evaluate({ principalArn: request.caller.arn, action, resource: request.resource ?? '*', context }, entries);
        if (!result.by) return { decision: result.decision };
        return { decision: result.decision, by: result.delegatedBy ? `${label(result.by)} via ${label(result.delegatedBy)}` : label(result.by) };
      },
    };
  };

  return {
    validateKeyPolicy: (policy) => void keyDocument(policy),
    validateIdentityPolicy: (policy) => void identityDocument(policy),
    defaultKeyPolicy,
    prepare,
    decide: (request) => prepare(request).decide(request.conditions),
  };
}
