/**
 * Key policy documents and the policy decision (pure). IAM policy grammar (AWS IAM User Guide, "IAM JSON policy
 * elements"; aws-kms-protocol.md §6.3): Version, Id, Statement[] of Sid, Effect, Principal/NotPrincipal,
 * Action/NotAction, Resource/NotResource, Condition.
 * Invariants:
 * - a document is parsed and validated once (MalformedPolicyError with the reason) and then cached by its text;
 * - evaluation: an explicit Deny in the key policy wins; otherwise an Allow naming the caller (its ARN, `*`) allows;
 *   an Allow naming the account (`arn:aws:iam::<account>:root` or the bare account id) delegates to the caller's
 *   own permissions, which come from roles until identity policies arrive (issue #4);
 * - the decision names the statement that made it (`key-policy:<Sid or #index>`), for the audit trail.
 * Conditions: the String*, Bool, Null and Numeric* operators with `...IfExists` and `ForAnyValue:`/`ForAllValues:`;
 * a condition with any other operator never matches (so an Allow under it never allows, a Deny never denies —
 * issue #4 completes the operator set).
 */
import { MalformedPolicyError } from '../errors/index.js';
import type { AccessDecision, AccessRequest, KeyPolicyEngine } from './authorize.js';
import { ADMINISTRATOR_ROLE, SYSTEM_ROLE } from './roles.js';

const MAX_POLICY_BYTES = 32 * 1024;
const VERSIONS = ['2012-10-17', '2008-10-17'];
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const ALL_ACTIONS_ROLES = [ADMINISTRATOR_ROLE, SYSTEM_ROLE];
/** Actions every authenticated caller may perform (as sts:GetCallerIdentity needs no permission). */
const UNRESTRICTED = new Set(['GetCallerIdentity']);

type Values = readonly string[];
type Matcher = (value: string) => boolean;

interface Condition {
  test(facts: Readonly<Record<string, unknown>>): boolean;
}

interface Statement {
  label: string;
  effect: 'Allow' | 'Deny';
  principals: { negated: boolean; any: boolean; arns: Set<string> };
  actions: { negated: boolean; match: Matcher };
  resources: { negated: boolean; match: Matcher };
  conditions: Condition[];
}

const malformed = (reason: string) => new MalformedPolicyError(reason);

/** `*` and `?` wildcards, compiled to an anchored regular expression over escaped literals (linear, no nesting). */
function wildcard(patterns: Values, ignoreCase: boolean): Matcher {
  const source = patterns
    .map((p) => p.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.'))
    .join('|');
  const re = new RegExp(`^(?:${source})$`, ignoreCase ? 'is' : 's');
  return (value) => re.test(value);
}

function stringList(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw malformed(`${field} must be a non-empty string or list of strings.`);
  }
  return list as string[];
}

function principalsOf(value: unknown): Statement['principals']['arns'] | 'any' {
  if (value === '*') return 'any';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('Policy contains a statement with one or more invalid principals.');
  const arns = new Set<string>();
  for (const [kind, v] of Object.entries(value)) {
    if (kind !== 'AWS' && kind !== 'Service') throw malformed('Policy contains a statement with one or more invalid principals.');
    for (const p of stringList(v, 'Principal')) {
      if (p === '*' && kind === 'AWS') return 'any';
      const account = /^\d{12}$/.test(p) ? `arn:aws:iam::${p}:root` : p;
      if (kind === 'AWS' && !/^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+|role\/.+)$/.test(account)) {
        throw malformed('Policy contains a statement with one or more invalid principals.');
      }
      arns.add(account);
    }
  }
  return arns;
}

/** Condition operators: how one request value compares with one policy value. */
const OPERATORS: Readonly<Record<string, { negated: boolean; compare: (fact: string, policy: string) => boolean }>> = {
  StringEquals: { negated: false, compare: (f, p) => f === p },
  StringNotEquals: { negated: true, compare: (f, p) => f === p },
  StringEqualsIgnoreCase: { negated: false, compare: (f, p) => f.toLowerCase() === p.toLowerCase() },
  StringNotEqualsIgnoreCase: { negated: true, compare: (f, p) => f.toLowerCase() === p.toLowerCase() },
  StringLike: { negated: false, compare: (f, p) => wildcard([p], false)(f) },
  StringNotLike: { negated: true, compare: (f, p) => wildcard([p], false)(f) },
  ArnEquals: { negated: false, compare: (f, p) => f === p },
  ArnNotEquals: { negated: true, compare: (f, p) => f === p },
  ArnLike: { negated: false, compare: (f, p) => wildcard([p], false)(f) },
  ArnNotLike: { negated: true, compare: (f, p) => wildcard([p], false)(f) },
  NumericEquals: { negated: false, compare: (f, p) => Number(f) === Number(p) },
  NumericNotEquals: { negated: true, compare: (f, p) => Number(f) === Number(p) },
  NumericLessThan: { negated: false, compare: (f, p) => Number(f) < Number(p) },
  NumericLessThanEquals: { negated: false, compare: (f, p) => Number(f) <= Number(p) },
  NumericGreaterThan: { negated: false, compare: (f, p) => Number(f) > Number(p) },
  NumericGreaterThanEquals: { negated: false, compare: (f, p) => Number(f) >= Number(p) },
  Bool: { negated: false, compare: (f, p) => f === p.toLowerCase() },
};

function condition(operatorName: string, key: string, policyValues: Values): Condition {
  const set = operatorName.startsWith('ForAnyValue:') ? 'any' : operatorName.startsWith('ForAllValues:') ? 'all' : 'single';
  let name = operatorName.replace(/^For(Any|All)Values?:/, '');
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  const factName = key.toLowerCase();
  if (name === 'Null') {
    const wantsNull = policyValues.map((v) => v.toLowerCase() === 'true');
    return { test: (facts) => wantsNull.includes(facts[factName] === undefined) };
  }
  const operator = OPERATORS[name];
  if (!operator) return { test: () => false };
  const matchesOne = (fact: string) => policyValues.some((p) => operator.compare(fact, p));
  return {
    test(facts) {
      const raw = facts[factName];
      if (raw === undefined) return set === 'all' || ifExists || (operator.negated && set === 'single');
      const values = (Array.isArray(raw) ? raw : [raw]).map(String);
      if (set === 'all') return values.every((v) => (operator.negated ? !matchesOne(v) : matchesOne(v)));
      const any = values.some((v) => (operator.negated ? !matchesOne(v) : matchesOne(v)));
      return set === 'any' ? any : operator.negated ? values.every((v) => !matchesOne(v)) : any;
    },
  };
}

function conditionsOf(value: unknown): Condition[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('Condition must be an object.');
  const out: Condition[] = [];
  for (const [operatorName, block] of Object.entries(value)) {
    const base = operatorName.replace(/^For(Any|All)Values?:/, '').replace(/IfExists$/, '');
    if (base !== 'Null' && !Object.hasOwn(OPERATORS, base) && !/^(Date|IpAddress|NotIpAddress)/.test(base)) {
      throw malformed(`Unknown condition operator: ${operatorName}`);
    }
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw malformed(`Condition ${operatorName} must be an object.`);
    for (const [key, v] of Object.entries(block)) {
      const values = (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'boolean' || typeof x === 'number' ? String(x) : x));
      if (!values.every((x) => typeof x === 'string')) throw malformed(`Condition ${operatorName} ${key} must have string values.`);
      out.push(condition(operatorName, key, values as string[]));
    }
  }
  return out;
}

function statementOf(raw: unknown, index: number): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('Each policy statement must be an object.');
  const s = raw as Record<string, unknown>;
  const unknown = Object.keys(s).find((k) => !STATEMENT_FIELDS.has(k));
  if (unknown) throw malformed(`Policy statement contains an unknown field: ${unknown}`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed('Policy statement Effect must be Allow or Deny.');
  if ((s.Action === undefined) === (s.NotAction === undefined)) throw malformed('Policy statement must contain actions.');
  if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) throw malformed('Policy statement must contain a principal.');
  if (s.Resource !== undefined && s.NotResource !== undefined) throw malformed('Policy statement has both Resource and NotResource.');
  if (s.Sid !== undefined && (typeof s.Sid !== 'string' || !/^[A-Za-z0-9 _-]*$/.test(s.Sid))) throw malformed('Statement IDs (SID) must be alphanumeric.');
  const principals = principalsOf(s.Principal ?? s.NotPrincipal);
  const actions = stringList(s.Action ?? s.NotAction, 'Action');
  for (const a of actions) if (a !== '*' && !/^kms:[A-Za-z*?]+$/.test(a)) throw malformed(`Policy statement has an invalid action: ${a}`);
  return {
    label: typeof s.Sid === 'string' && s.Sid !== '' ? s.Sid : `#${index}`,
    effect: s.Effect,
    principals: { negated: s.NotPrincipal !== undefined, any: principals === 'any', arns: principals === 'any' ? new Set() : principals },
    actions: { negated: s.NotAction !== undefined, match: wildcard(actions, true) },
    resources: { negated: s.NotResource !== undefined, match: wildcard(stringList(s.Resource ?? s.NotResource ?? '*', 'Resource'), false) },
    conditions: conditionsOf(s.Condition),
  };
}

/** @throws MalformedPolicyError */
function parse(text: string): Statement[] {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw malformed(`The key policy is larger than ${MAX_POLICY_BYTES} bytes.`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('The policy document is not valid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('The policy document must be a JSON object.');
  const { Version, Id, Statement, ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw malformed(`The policy document contains an unknown field: ${Object.keys(rest)[0]}`);
  if (Version !== undefined && !VERSIONS.includes(Version as string)) throw malformed('The policy Version must be 2012-10-17 or 2008-10-17.');
  if (Id !== undefined && typeof Id !== 'string') throw malformed('The policy Id must be a string.');
  const statements = Array.isArray(Statement) ? Statement : Statement === undefined ? [] : [Statement];
  if (statements.length === 0) throw malformed('The policy document must contain at least one statement.');
  return statements.map(statementOf);
}

const ACCOUNT_ROOT = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;

/** How a statement's principal element relates to the caller: names it, names its account (delegation), or neither. */
function principalMatch(s: Statement, callerArn: string): 'caller' | 'account' | 'none' {
  const { negated, any, arns } = s.principals;
  let match: 'caller' | 'account' | 'none' = any || arns.has(callerArn) ? 'caller' : 'none';
  if (match === 'none') {
    const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(callerArn)?.[1];
    for (const arn of arns) if (ACCOUNT_ROOT.exec(arn)?.[1] === account && account !== undefined) match = 'account';
  }
  if (!negated) return match;
  return match === 'none' ? 'caller' : 'none';
}

function statementApplies(s: Statement, request: AccessRequest): boolean {
  const action = `kms:${request.action}`;
  if (s.actions.match(action) === s.actions.negated) return false;
  const resource = request.resource ?? '*';
  if (s.resources.match(resource) === s.resources.negated) return false;
  const facts = { ...request.conditions, 'aws:principalarn': request.caller.arn, 'aws:username': request.caller.arn.split('/').pop() };
  return s.conditions.every((c) => c.test(facts));
}

/** The caller's own permissions: roles until identity policies arrive (issue #4). */
function identityDecision(request: AccessRequest): AccessDecision {
  const role = ALL_ACTIONS_ROLES.find((r) => request.caller.roles.includes(r));
  return role ? { decision: 'allow', by: `role:${role}` } : { decision: 'implicit-deny' };
}

export function defaultKeyPolicy(accountId: string): string {
  const doc = {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' }],
  };
  return JSON.stringify(doc, null, 2);
}

export function createKeyPolicyEngine(options: { cacheSize?: number } = {}): KeyPolicyEngine {
  const cacheSize = options.cacheSize ?? 10_000;
  const parsed = new Map<string, Statement[]>();
  const statementsOf = (text: string): Statement[] => {
    let statements = parsed.get(text);
    if (!statements) {
      statements = parse(text);
      if (parsed.size >= cacheSize) parsed.delete(parsed.keys().next().value as string);
      parsed.set(text, statements);
    }
    return statements;
  };

  return {
    validate: (policy) => void statementsOf(policy),
    defaultKeyPolicy,
    decide(request) {
      if (UNRESTRICTED.has(request.action)) return { decision: 'allow', by: 'unrestricted' };
      const identity = identityDecision(request);
      if (request.resource === null || request.keyPolicy === undefined) return identity;
      if (request.keyPolicy === null) return identity.decision === 'allow' ? { ...identity, by: `${identity.by} via default key policy` } : identity;
      const statements = statementsOf(request.keyPolicy);
      let allow: AccessDecision | undefined;
      for (const s of statements) {
        const who = principalMatch(s, request.caller.arn);
        if (who === 'none' || !statementApplies(s, request)) continue;
        if (s.effect === 'Deny') return { decision: 'deny', by: `key-policy:${s.label}` };
        if (!allow && who === 'caller') allow = { decision: 'allow', by: `key-policy:${s.label}` };
        if (!allow && who === 'account' && identity.decision === 'allow') allow = { decision: 'allow', by: `${identity.by} via key-policy:${s.label}` };
      }
      return allow ?? { decision: 'implicit-deny' };
    },
  };
}
