/**
 * Authorization until the policy engine (issue #4) lands: administrators and DataDefender's own jobs may do
 * everything; everyone else is denied. The denial text follows AWS's AccessDeniedException.
 */
import { AccessDeniedError } from '../errors/index.js';
import type { Authorize } from './authorize.js';
import { ADMINISTRATOR_ROLE, SYSTEM_ROLE } from './roles.js';

const ALLOWED_ROLES = new Set([ADMINISTRATOR_ROLE, SYSTEM_ROLE]);
/** Actions every authenticated caller may perform (as sts:GetCallerIdentity needs no permission). */
const UNRESTRICTED = new Set(['GetCallerIdentity']);

export const authorizeByRole: Authorize = (caller, action, resource) => {
  if (UNRESTRICTED.has(action) || caller.roles.some((role) => ALLOWED_ROLES.has(role))) return;
  throw new AccessDeniedError(`User: ${caller.arn} is not authorized to perform: kms:${action} on resource: ${resource ?? '*'}`);
};
