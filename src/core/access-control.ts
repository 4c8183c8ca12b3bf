/**
 * Access control for every request on the core path: the pure policy decision (identity policies and the key
 * policy, policy/) and then the key's grants. AWS KMS evaluation (aws-kms-protocol.md §6.3): an explicit Deny
 * anywhere wins; otherwise any Allow — from the caller's identity policies (when the key policy delegates to the
 * account), from the key policy, or from a grant — allows; otherwise the request is denied.
 * Invariants: grants are read only when the policies did not already decide; a grant applies only to its grantee,
 * its operations and its encryption-context constraints; the key's aliases (`kms:ResourceAliases`) are read only
 * when a policy taking part tests them; the decision and what made it go into the audit event.
 */
import { AccessDeniedError } from '../errors/index.js';
import type { KeyRecord, Storage } from '../ports/storage.js';
import type { AccessDecision, Caller, PolicyEngine } from '../policy/authorize.js';
import { iamAction } from '../policy/actions.js';
import { aliasArn, keyArn, type AccountScope } from './arn.js';
import { grantAllows } from './grant-match.js';

/** Condition facts a use case knows about its request. */
export interface Conditions {
  encryptionContext?: Record<string, string>;
  /** The alias the request named the key by (`alias/...`), for `kms:RequestAlias`. */
  requestAlias?: string;
  /** Tags the request sets (CreateKey, TagResource), for `aws:RequestTag/<k>` and `aws:TagKeys`. */
  requestTags?: Record<string, string>;
  /** CreateGrant: `kms:GrantOperations`, `kms:GranteePrincipal`, `kms:RetiringPrincipal`. */
  grant?: { operations: readonly string[]; granteePrincipal: string; retiringPrincipal?: string };
}

/** Facts every request has (the runner adds them). */
export interface RequestFacts {
  sourceIp: string | null;
  now: Date;
}

/** What a request is about: a key, another resource named by ARN (a principal, a policy), or nothing. */
export type Target = KeyRecord | { arn: string } | null;

export interface AccessControl {
  arnOf(key: KeyRecord): string;
  aliasArnOf(alias: string): string;
  authorize(caller: Caller, action: string, target: Target, conditions: Conditions | undefined, request: RequestFacts): Promise<AccessDecision>;
}

/** AWS's AccessDeniedException text. */
export function accessDenied(principal: string, action: string, resource: string | null): AccessDeniedError {
  const name = iamAction(action);
  // DataDefender's own actions name no resource: a principal's ARN (user/ or role/) would tell whether it exists.
  if (!name.startsWith('kms:')) return new AccessDeniedError(`User: ${principal} is not authorized to perform: ${name}`);
  return new AccessDeniedError(`User: ${principal} is not authorized to perform: ${name} on resource: ${resource ?? '*'}`);
}

const MAX_GRANTS_CONSIDERED = 1000;
const USER_ARN = /^arn:[^:]+:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/;
const ACCOUNT_OF = /^arn:[^:]+:iam::(\d{12}):/;

export const isKeyTarget = (target: Target): target is KeyRecord => target !== null && 'keySpec' in target;

type Facts = Record<string, string | readonly string[] | Date | boolean>;

function callerFacts(facts: Facts, caller: Caller): void {
  const account = ACCOUNT_OF.exec(caller.arn)?.[1];
  if (account) facts['kms:calleraccount'] = account;
  const user = USER_ARN.exec(caller.arn)?.[2];
  if (user) facts['aws:username'] = user;
  for (const [k, v] of Object.entries(caller.tags ?? {})) facts[`aws:principaltag/${k.toLowerCase()}`] = v;
}

function requestFacts(facts: Facts, conditions: Conditions): void {
  const ec = conditions.encryptionContext;
  if (ec) {
    facts['kms:encryptioncontextkeys'] = Object.keys(ec);
    for (const [k, v] of Object.entries(ec)) facts[`kms:encryptioncontext:${k.toLowerCase()}`] = v;
  }
  if (conditions.requestAlias) facts['kms:requestalias'] = conditions.requestAlias;
  if (conditions.requestTags) {
    facts['aws:tagkeys'] = Object.keys(conditions.requestTags);
    for (const [k, v] of Object.entries(conditions.requestTags)) facts[`aws:requesttag/${k.toLowerCase()}`] = v;
  }
  if (conditions.grant) {
    facts['kms:grantoperations'] = conditions.grant.operations;
    facts['kms:granteeprincipal'] = conditions.grant.granteePrincipal;
    if (conditions.grant.retiringPrincipal) facts['kms:retiringprincipal'] = conditions.grant.retiringPrincipal;
  }
}

function conditionFacts(caller: Caller, key: KeyRecord | null, conditions: Conditions | undefined, request: RequestFacts): Facts {
  // Every API is served over TLS only, so aws:SecureTransport is always true.
  const facts: Facts = { 'aws:currenttime': request.now, 'aws:securetransport': true, 'aws:principalarn': caller.arn };
  if (request.sourceIp) facts['aws:sourceip'] = request.sourceIp;
  callerFacts(facts, caller);
  if (key) {
    Object.assign(facts, { 'kms:keyspec': key.keySpec, 'kms:keyusage': key.keyUsage, 'kms:keyorigin': key.origin });
    for (const [k, v] of Object.entries(key.tags)) facts[`aws:resourcetag/${k.toLowerCase()}`] = v;
  }
  if (conditions) requestFacts(facts, conditions);
  return facts;
}

export function createAccessControl(deps: { policies: PolicyEngine; storage: Storage; scope: AccountScope }): AccessControl {
  const { policies, storage, scope } = deps;
  const arnOf = (key: KeyRecord) => keyArn(scope, key.id);

  return {
    arnOf,
    aliasArnOf: (alias) => aliasArn(scope, alias),
    async authorize(caller, action, target, conditions, facts) {
      const key = isKeyTarget(target) ? target : null;
      const prepared = policies.prepare({
        caller,
        action,
        resource: key ? arnOf(key) : ((target as { arn: string } | null)?.arn ?? null),
        ...(key ? { keyPolicy: key.policy } : {}),
      });
      const known = conditionFacts(caller, key, conditions, facts);
      if (key && prepared.uses('kms:resourcealiases')) {
        known['kms:resourcealiases'] = (await storage.listAliases({ keyId: key.id, limit: 50 })).items.map((a) => a.name);
      }
      const decision = prepared.decide(known);
      if (decision.decision !== 'implicit-deny' || key === null) return decision;
      const grants = await storage.grantsFor(key.id, caller.arn, MAX_GRANTS_CONSIDERED);
      const grant = grants.find((g) => grantAllows(g, action, conditions?.encryptionContext));
      return grant ? { decision: 'allow', by: `grant:${grant.id}` } : decision;
    },
  };
}
