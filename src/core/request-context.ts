import type { Caller } from '../policy/authorize.js';

export type { Caller } from '../policy/authorize.js';

/** One request as the core sees it; built by the protocol front ends after authentication. */
export interface RequestContext {
  requestId: string;
  /** `rest`, `aws-kms` or `job`. */
  source: string;
  caller: Caller;
  sourceIp: string | null;
  userAgent: string | null;
  /**
   * SHA-256 hex of the request as received (operation and parameters), computed on demand; dual control matches a
   * repeated request to its approval by it. Absent for in-process callers and jobs.
   */
  requestDigest?: () => string;
  /**
   * Set by the operation runner once it recorded this request's outcome. A front end that catches an error
   * checks it and audits the request itself if the core never did (e.g. input rejected before dispatch).
   */
  readonly audit?: { recorded: boolean };
}
