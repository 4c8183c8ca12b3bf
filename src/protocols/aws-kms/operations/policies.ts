/** Key policy operations: PutKeyPolicy, GetKeyPolicy, ListKeyPolicies (one policy per key, named `default`). */
import { operation, optionalField } from '../operation.js';
import { KEY_ID, bool, int, optional, required, str } from '../shapes.js';

const POLICY = str({ min: 1, max: 131_072 });
const POLICY_NAME = str({ min: 1, max: 128, pattern: /^[\w]+$/ });

export const POLICY_OPERATIONS = {
  PutKeyPolicy: operation<{ KeyId: string; Policy: string; PolicyName?: string; BypassPolicyLockoutSafetyCheck?: boolean }>(
    { KeyId: required(KEY_ID), Policy: required(POLICY), PolicyName: optional(POLICY_NAME), BypassPolicyLockoutSafetyCheck: optional(bool) },
    async (service, ctx, i) => {
      await service.keyPolicies.put(ctx, {
        keyId: i.KeyId,
        policy: i.Policy,
        ...optionalField('policyName', i.PolicyName),
        ...optionalField('bypassLockoutSafetyCheck', i.BypassPolicyLockoutSafetyCheck),
      });
      return {};
    },
  ),

  GetKeyPolicy: operation<{ KeyId: string; PolicyName?: string }>({ KeyId: required(KEY_ID), PolicyName: optional(POLICY_NAME) }, async (service, ctx, i) => ({
    Policy: await service.keyPolicies.get(ctx, i.KeyId, i.PolicyName),
    PolicyName: 'default',
  })),

  ListKeyPolicies: operation<{ KeyId: string }>(
    { KeyId: required(KEY_ID), Limit: optional(int(1, 1000)), Marker: optional(str({ min: 1, max: 320 })) },
    async (service, ctx, i) => ({ PolicyNames: await service.keyPolicies.list(ctx, i.KeyId), Truncated: false }),
  ),
};
