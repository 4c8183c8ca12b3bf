import { timeOrderedUuid } from '../crypto/index.js';
import type { AccountScope } from './arn.js';
import { partitionOf } from './arn.js';
import type { RequestContext } from './request-context.js';
import { SYSTEM_ROLE } from '../policy/built-in-roles.js';

/** Request context for one step of a background job (rotation, deletion): audited like any request. */
export function jobContext(scope: AccountScope): RequestContext {
  return {
    requestId: timeOrderedUuid(),
    source: 'job',
    caller: {
      principalId: 'datadefender-jobs',
      arn: `arn:${partitionOf(scope.region)}:iam::${scope.accountId}:role/datadefender-jobs`,
      roles: [SYSTEM_ROLE],
      credential: 'job',
    },
    sourceIp: null,
    userAgent: null,
  };
}
