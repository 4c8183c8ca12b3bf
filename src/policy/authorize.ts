/** Who is calling, as far as authorization is concerned. Built by identity/ after authentication. */
export interface Caller {
  principalId: string;
  /** Principal ARN, e.g. arn:aws:iam::111122223333:user/admin. */
  arn: string;
  roles: readonly string[];
  /** `token:<accessor>`, `access-key:<id>`, `job`. */
  credential: string;
}

/** What a request asks, in the terms policies speak. */
export interface AccessRequest {
  caller: Caller;
  /** AWS KMS operation name (`Encrypt`, `ReEncryptFrom`, ...); policies see it as `kms:<action>`. */
  action: string;
  /** The key ARN, or null for account-level actions (CreateKey, ListKeys, ...). */
  resource: string | null;
  /** The key policy document (JSON text); null means the default key policy; undefined for account-level actions. */
  keyPolicy?: string | null;
  /** Condition facts of the request: `kms:EncryptionContext:<k>`, `kms:KeySpec`, ... (lower-cased names). */
  conditions?: Readonly<Record<string, string | readonly string[] | number | boolean | Date>>;
}

/** The outcome and the statement that decided it (for the audit trail). */
export interface AccessDecision {
  decision: 'allow' | 'deny' | 'implicit-deny';
  /** e.g. `role:administrator`, `key-policy:<Sid or index>`, `grant:<id>`. */
  by?: string;
}

/** A pure decision over identity permissions and the key policy (grants are checked by the core afterwards). */
export type Decide = (request: AccessRequest) => AccessDecision;

/** Key policy documents: validation, AWS's default policy, and the decision that uses them. */
export interface KeyPolicyEngine {
  /** @throws MalformedPolicyError (ERR_MALFORMED_POLICY) with the reason. */
  validate(policy: string): void;
  /** AWS's default key policy for `accountId`, as JSON text. */
  defaultKeyPolicy(accountId: string): string;
  decide: Decide;
}
