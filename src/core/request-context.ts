import type { Caller } from '../policy/authorize.js';

export type { Authorize, Caller } from '../policy/authorize.js';

/** One request as the core sees it; built by the protocol front ends after authentication. */
export interface RequestContext {
  requestId: string;
  /** `rest`, `aws-kms` or `job`. */
  source: string;
  caller: Caller;
  sourceIp: string | null;
  userAgent: string | null;
}
