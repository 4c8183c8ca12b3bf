/**
 * The policy decision for one request (pure), over the IAM policy language of policy-document.ts and evaluate.ts:
 * the caller's own permissions and the key's policy.
 * Identity permissions come from roles until issue #4 adds identity policies: `administrator` and DataDefender's
 * own `system` role hold an identity policy allowing `kms:*`; GetCallerIdentity needs no permission.
 * Invariants:
 * - every request on a key is evaluated with a key policy: the key's own, or AWS's default policy, which names the
 *   account and so delegates to the caller's own permissions;
 * - an explicit Deny anywhere wins; the decision names the statement that made it (for the audit trail);
 * - key policies are parsed once and cached by their text (bounded).
 */
import type { AccessDecision, AccessRequest, KeyPolicyEngine } from './authorize.js';
import { buildDefaultKeyPolicy } from './default-key-policy.js';
import { evaluate, type DecidingStatement, type PolicyEntry } from './evaluate.js';
import { parsePolicy, type ParsedPolicy } from './policy-document.js';
import { renderPolicy } from './render-policy.js';
import { toRequestContext, type ContextValue } from './request-context.js';
import { ADMINISTRATOR_ROLE, SYSTEM_ROLE } from './roles.js';

/** Actions every authenticated caller may perform (as sts:GetCallerIdentity needs no permission). */
const UNRESTRICTED = new Set(['GetCallerIdentity']);

const ALL_KMS = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }), { kind: 'identity' });
const ROLE_POLICIES: Readonly<Record<string, ParsedPolicy>> = { [ADMINISTRATOR_ROLE]: ALL_KMS, [SYSTEM_ROLE]: ALL_KMS };

/** `role:<name>` for a role's permissions, `<policy>:<Sid or #index>` for a statement of a key policy. */
const label = (by: DecidingStatement) => (by.policyKind === 'identity' ? by.policyId : `${by.policyId}:${by.sid ?? `#${by.statementIndex}`}`);

export function defaultKeyPolicy(accountId: string): string {
  return renderPolicy(buildDefaultKeyPolicy(accountId));
}

export function createKeyPolicyEngine(options: { cacheSize?: number } = {}): KeyPolicyEngine {
  const cacheSize = options.cacheSize ?? 10_000;
  const parsed = new Map<string, ParsedPolicy>();
  const keyPolicyOf = (text: string): ParsedPolicy => {
    let policy = parsed.get(text);
    if (!policy) {
      policy = parsePolicy(text, { kind: 'key', resourceDefaultsToAny: true });
      if (parsed.size >= cacheSize) parsed.delete(parsed.keys().next().value as string);
      parsed.set(text, policy);
    }
    return policy;
  };
  const defaults = new Map<string, ParsedPolicy>();
  const defaultFor = (accountId: string) => {
    let policy = defaults.get(accountId);
    if (!policy) {
      policy = keyPolicyOf(defaultKeyPolicy(accountId));
      defaults.set(accountId, policy);
    }
    return policy;
  };

  return {
    validate: (policy) => void keyPolicyOf(policy),
    defaultKeyPolicy,
    decide(request: AccessRequest): AccessDecision {
      if (UNRESTRICTED.has(request.action)) return { decision: 'allow', by: 'unrestricted' };
      const entries: PolicyEntry[] = request.caller.roles.flatMap((role) =>
        Object.hasOwn(ROLE_POLICIES, role) ? [{ kind: 'identity' as const, id: `role:${role}`, document: ROLE_POLICIES[role]! }] : [],
      );
      if (request.resource !== null && request.keyPolicy !== undefined) {
        const accountId = request.resource.split(':')[4] ?? '';
        const document = request.keyPolicy === null ? defaultFor(accountId) : keyPolicyOf(request.keyPolicy);
        entries.push({ kind: 'key', id: request.keyPolicy === null ? 'default-key-policy' : 'key-policy', document });
      }
      const result = evaluate(
        {
          principalArn: request.caller.arn,
          action: `kms:${request.action}`,
          resource: request.resource ?? '*',
          context: toRequestContext({ ...(request.conditions as Record<string, ContextValue> | undefined), 'aws:PrincipalArn': request.caller.arn }),
        },
        entries,
      );
      if (!result.by) return { decision: result.decision };
      return { decision: result.decision, by: result.delegatedBy ? `${label(result.by)} via ${label(result.delegatedBy)}` : label(result.by) };
    },
  };
}
