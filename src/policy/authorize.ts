/** An identity policy attached to a principal: its name and its document (JSON text). */
export interface AttachedPolicy {
  readonly name: string;
  readonly document: string;
}

/** Who is calling, as far as authorization is concerned. Built by identity/ after authentication. */
export interface Caller {
  principalId: string;
  /** Principal ARN, e.g. arn:aws:iam::111122223333:user/admin. */
  arn: string;
  /** Built-in role names (built-in-roles.ts). */
  roles: readonly string[];
  /** Managed policies attached to the principal. */
  policies?: readonly AttachedPolicy[];
  /** The principal's tags (`aws:PrincipalTag/<k>`). */
  tags?: Readonly<Record<string, string>>;
  /** `token:<accessor>`, `access-key:<id>`, `certificate:<sha256>`, `job`. */
  credential: string;
}

/** Condition facts: `kms:EncryptionContext:<k>`, `kms:KeySpec`, ... by lower-cased name. */
export type ConditionFacts = Readonly<Record<string, string | readonly string[] | number | boolean | Date>>;

/** What a request asks, in the terms policies speak. */
export interface AccessRequest {
  caller: Caller;
  /** AWS KMS operation name (`Encrypt`, `ReEncryptFrom`, ...: policies see `kms:<name>`) or `datadefender:<name>`. */
  action: string;
  /** The key ARN (or another resource's ARN), or null for account-level actions (CreateKey, ListKeys, ...). */
  resource: string | null;
  /** The key policy document (JSON text); null means the default key policy; undefined when the resource is no key. */
  keyPolicy?: string | null;
  conditions?: ConditionFacts;
}

/** The outcome and the statement that decided it (for the audit trail). */
export interface AccessDecision {
  decision: 'allow' | 'deny' | 'implicit-deny';
  /** e.g. `role:administrator:<Sid>`, `policy:<name>:<Sid>`, `key-policy:<Sid>`, `grant:<id>`. */
  by?: string;
}

/** A pure decision over identity policies and the key policy (grants are checked by the core afterwards). */
export type Decide = (request: AccessRequest) => AccessDecision;

/** Policy documents: validation, AWS's default key policy, and the decision that uses them. */
export interface PolicyEngine {
  /** @throws MalformedPolicyError (ERR_MALFORMED_POLICY) with the reason. */
  validateKeyPolicy(policy: string): void;
  /** @throws MalformedPolicyError (ERR_MALFORMED_POLICY) with the reason. */
  validateIdentityPolicy(policy: string): void;
  /** AWS's default key policy for `accountId`, as JSON text. */
  defaultKeyPolicy(accountId: string): string;
  /** The policies of a request, gathered once: ask what they test, then decide. */
  prepare(request: Omit<AccessRequest, 'conditions'>): PreparedDecision;
  decide: Decide;
}

/** A request's policies, ready to decide. */
export interface PreparedDecision {
  /** True when a policy taking part tests the (lower-cased) condition key (for facts that cost I/O to gather). */
  uses(key: string): boolean;
  /** The decision under these condition facts (lower-cased names; `aws:principalarn` is added when absent). */
  decide(conditions: ConditionFacts | undefined): AccessDecision;
}
