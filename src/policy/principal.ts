/**
 * The Principal / NotPrincipal element of resource-based policies (key policies, grants) and how it relates to
 * the caller (AWS IAM User Guide, "AWS JSON policy elements: Principal" and "NotPrincipal"; AWS KMS Developer
 * Guide, "Default key policy: allows access to the AWS account and enables IAM policies"; aws-kms-protocol.md §6.3).
 * Invariants:
 * - accepted forms: `"*"`, `{"AWS": "*"}`, `{"AWS": <account id | principal ARN | list>}`, `{"Service": <name | list>}`;
 *   anything else (Federated, CanonicalUser, `{}`, empty lists, wildcards inside an ARN) is refused with AWS's
 *   message "Policy contains a statement with one or more invalid principals.";
 * - a bare 12-digit account id means that account's root, `arn:<partition>:iam::<id>:root`;
 * - a caller is seen as two identities: its own ARN and its account (`<partition>:<account>`). A listed ARN or a
 *   service name matches the caller itself (`caller`); a listed account root matches every principal of that
 *   account, but — unless the caller *is* the root — only as the account (`account`), which the evaluator reads as
 *   delegation to the account's identity policies;
 * - NotPrincipal matches when some identity of the caller is not listed: the caller's own ARN not listed gives
 *   `caller`; only its account not listed gives `account` (so `NotPrincipal: {AWS: [user/Bob]}` with Deny also
 *   denies Bob, through his account, as AWS documents); NotPrincipal `*` is refused.
 */
import { MalformedPolicyError } from '../errors/index.js';
import { splitArn } from './arn-pattern.js';

/** A compiled Principal or NotPrincipal element. */
export interface PrincipalSet {
  /** NotPrincipal. */
  readonly negated: boolean;
  /** `"*"` or `{"AWS": "*"}`. */
  readonly any: boolean;
  /** Principal ARNs other than account roots (users, roles, assumed-role sessions, federated users). */
  readonly arns: ReadonlySet<string>;
  /** Accounts named by their root ARN or bare id, as `<partition>:<account>`. */
  readonly accounts: ReadonlySet<string>;
  /** Service principals (`s3.amazonaws.com`), matched against the caller's principal name exactly. */
  readonly services: ReadonlySet<string>;
}

/** The caller, as principal matching needs it. Build once per request with {@link callerIdentity}. */
export interface CallerIdentity {
  readonly arn: string;
  /** `<partition>:<account>` when the caller is an IAM or STS principal ARN. */
  readonly account: string | undefined;
  /** The caller is the account root user itself. */
  readonly isAccountRoot: boolean;
}

/** How a principal element relates to the caller: names it, names only its account, or does not apply. */
export type PrincipalMatch = 'caller' | 'account' | 'none';

const INVALID = 'Policy contains a statement with one or more invalid principals.';
const ACCOUNT_ID = /^\d{12}$/;
const PARTITION = /^aws(?:-[a-z]+)*$/;
const NAME = '[A-Za-z0-9+=,.@_-]+';
const IAM_RESOURCE = new RegExp(`^(?:root|(?:user|role)(?:/${NAME})+)$`);
const STS_RESOURCE = new RegExp(`^(?:assumed-role/${NAME}/${NAME}|federated-user/${NAME})$`);
const SERVICE = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/;

const invalid = () => new MalformedPolicyError(INVALID);

/**
 * `<partition>:<account>` and whether the ARN is the account root, or undefined for anything but an IAM/STS
 * principal ARN. `strict` also checks the resource part (policy text); callers' ARNs come from identity/.
 */
function principalArnParts(arn: string, strict: boolean): { account: string; isRoot: boolean } | undefined {
  const parts = splitArn(arn);
  if (parts === undefined) return undefined;
  const [, partition, service, region, account, resource] = parts as [string, string, string, string, string, string];
  if (!PARTITION.test(partition) || region !== '' || !ACCOUNT_ID.test(account)) return undefined;
  const shape = service === 'iam' ? IAM_RESOURCE : service === 'sts' ? STS_RESOURCE : undefined;
  if (shape === undefined || (strict && !shape.test(resource))) return undefined;
  return { account: `${partition}:${account}`, isRoot: service === 'iam' && resource === 'root' };
}

function stringList(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) throw invalid();
  return list as string[];
}

/**
 * Compiles a Principal (or, with `negated`, NotPrincipal) element.
 * @param partition the partition a bare account id belongs to (`aws`, `aws-cn`, `aws-us-gov`).
 * @throws MalformedPolicyError (ERR_MALFORMED_POLICY) "Policy contains a statement with one or more invalid principals."
 */
export function parsePrincipal(value: unknown, negated: boolean, partition: string): PrincipalSet {
  const arns = new Set<string>();
  const accounts = new Set<string>();
  const services = new Set<string>();
  let any = value === '*';
  if (!any) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
    const entries = Object.entries(value);
    if (entries.length === 0) throw invalid();
    for (const [type, list] of entries) {
      if (type === 'AWS') {
        for (const p of stringList(list)) {
          if (p === '*') any = true;
          else if (ACCOUNT_ID.test(p)) accounts.add(`${partition}:${p}`);
          else {
            const parts = principalArnParts(p, true);
            if (parts === undefined) throw invalid();
            if (parts.isRoot) accounts.add(parts.account);
            else arns.add(p);
          }
        }
      } else if (type === 'Service') {
        for (const s of stringList(list)) {
          if (!SERVICE.test(s)) throw invalid();
          services.add(s);
        }
      } else throw invalid();
    }
  }
  if (any && negated) throw invalid();
  return Object.freeze({ negated, any, arns, accounts, services });
}

let lastCaller: CallerIdentity | undefined;

/** The caller's identities for principal matching. Remembers the last caller (requests come in runs). */
export function callerIdentity(principalArn: string): CallerIdentity {
  if (lastCaller?.arn !== principalArn) {
    const parts = principalArnParts(principalArn, false);
    lastCaller = Object.freeze({ arn: principalArn, account: parts?.account, isAccountRoot: parts?.isRoot ?? false });
  }
  return lastCaller;
}

/** How the principal element applies to the caller (see the header). Allocates nothing. */
export function matchPrincipal(set: PrincipalSet, caller: CallerIdentity): PrincipalMatch {
  const accountListed = caller.account !== undefined && set.accounts.has(caller.account);
  const callerListed = set.any || set.arns.has(caller.arn) || set.services.has(caller.arn) || (caller.isAccountRoot && accountListed);
  if (!set.negated) return callerListed ? 'caller' : accountListed ? 'account' : 'none';
  if (!callerListed) return 'caller';
  return caller.account !== undefined && !caller.isAccountRoot && !accountListed ? 'account' : 'none';
}
