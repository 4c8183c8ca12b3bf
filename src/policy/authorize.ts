/** Who is calling, as far as authorization is concerned. Built by identity/ after authentication. */
export interface Caller {
  principalId: string;
  /** Principal ARN, e.g. arn:aws:iam::111122223333:user/admin. */
  arn: string;
  roles: readonly string[];
  /** `token:<accessor>`, `access-key:<id>`, `job`. */
  credential: string;
}

/**
 * Decides whether `caller` may perform `action` (an AWS KMS operation name) on `resource` (a key ARN, or null
 * for account-level actions). @throws AccessDeniedError (ERR_ACCESS_DENIED)
 */
export type Authorize = (caller: Caller, action: string, resource: string | null) => void;
