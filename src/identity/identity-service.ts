/** The identity use cases: principals, their credentials, identity policies and roles. The public face of identity/. */
import { createAccessKeys } from './access-keys.js';
import { createClientCertificates } from './client-certificates.js';
import type { IdentityContext } from './identity-context.js';
import { createManagedPolicies } from './managed-policies.js';
import { createPrincipals } from './principals.js';
import { createTokens } from './tokens.js';

export function createIdentityService(ic: IdentityContext) {
  return {
    principals: createPrincipals(ic),
    accessKeys: createAccessKeys(ic),
    tokens: createTokens(ic),
    certificates: createClientCertificates(ic),
    policies: createManagedPolicies(ic),
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
