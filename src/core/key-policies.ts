/**
 * Key policies (AWS KMS PutKeyPolicy, GetKeyPolicy, ListKeyPolicies; aws-kms-protocol.md §6.3): one policy per
 * key, named `default`. A key without a policy of its own has AWS's default key policy, which delegates to the
 * account's principals' own permissions.
 * Invariants: a document is validated (MalformedPolicyError with the reason) before it is stored; the lockout
 * safety check refuses a policy under which the caller could no longer call PutKeyPolicy, unless the caller
 * bypasses it explicitly; policies are at most 32 KB.
 */
import { sha256Hex } from '../crypto/index.js';
import { MalformedPolicyError, NotFoundError } from '../errors/index.js';
import type { PolicyEngine } from '../policy/authorize.js';
import { keyArn } from './arn.js';
import type { KeyContext } from './key-context.js';
import { applyTransition } from './key-transition.js';
import type { RequestContext } from './request-context.js';

export const POLICY_NAME = 'default';

export function createKeyPolicies(kc: KeyContext) {
  const { run, resolver, scope, policies: engine } = kc;
  const checkName = (name: string | undefined) => {
    if (name !== undefined && name !== POLICY_NAME) throw new NotFoundError('No such policy exists.');
  };

  return {
    /** The policy text (the default policy when the key has none of its own). @throws NotFoundError */
    get(ctx: RequestContext, identifier: string, policyName?: string): Promise<string> {
      return run(ctx, 'GetKeyPolicy', { readOnly: true }, async (op) => {
        const key = await resolver.resolve(identifier, { allowAlias: false });
        await op.authorize(key);
        checkName(policyName);
        return key.policy ?? engine.defaultKeyPolicy(scope.accountId);
      });
    },

    list(ctx: RequestContext, identifier: string): Promise<string[]> {
      return run(ctx, 'ListKeyPolicies', { readOnly: true }, async (op) => {
        await op.authorize(await resolver.resolve(identifier, { allowAlias: false }));
        return [POLICY_NAME];
      });
    },

    /** @throws MalformedPolicyError (invalid document, or lockout without bypass), NotFoundError, InvalidStateError */
    put(ctx: RequestContext, input: { keyId: string; policy: string; policyName?: string; bypassLockoutSafetyCheck?: boolean }): Promise<void> {
      return run(ctx, 'PutKeyPolicy', { readOnly: false }, async (op) => {
        const key = await resolver.resolve(input.keyId, { allowAlias: false });
        // The digest names the exact document in the audit trail, and in the request an approval is given for.
        op.details.policySha256 = sha256Hex(input.policy);
        await op.authorize(key);
        checkName(input.policyName);
        const policy = checkPolicy(engine, input.policy, ctx, keyArn(scope, key.id), input.bypassLockoutSafetyCheck === true);
        op.details.policyBytes = Buffer.byteLength(policy);
        await op.beforeChange();
        await applyTransition(kc, key, 'read', { policy });
      });
    },
  };
}

/** Validates a policy for a key and runs the lockout safety check. @throws MalformedPolicyError */
export function checkPolicy(engine: PolicyEngine, policy: string, ctx: RequestContext, arn: string, bypass: boolean): string {
  engine.validateKeyPolicy(policy);
  if (!bypass && engine.decide({ caller: ctx.caller, action: 'PutKeyPolicy', resource: arn, keyPolicy: policy }).decision !== 'allow') {
    throw new MalformedPolicyError(
      'The new key policy will not allow you to update the key policy in the future. Set BypassPolicyLockoutSafetyCheck to true to put it anyway.',
    );
  }
  return policy;
}

export type KeyPolicies = ReturnType<typeof createKeyPolicies>;
