/**
 * Policy documents: the IAM JSON policy grammar (AWS IAM User Guide, "IAM JSON policy element reference" and
 * "Grammar of the IAM JSON policy language"; aws-kms-protocol.md §6.3 key policies, §6.4 grants), parsed and
 * validated into an immutable, compiled model.
 * Invariants:
 * - parse once, evaluate many times: the result is deeply frozen and holds compiled matchers (wildcards, ARN
 *   patterns, conditions), so it can be cached by the policy text and shared;
 * - every violation throws MalformedPolicyError (ERR_MALFORMED_POLICY) with the reason; nothing is silently
 *   dropped: unknown top-level or statement fields, unknown condition operators and values the operator cannot
 *   read are all refused;
 * - size ≤ 32 KB (32768 bytes of UTF-8, aws-kms-protocol.md §6.3, resource quotas);
 * - `Version` is optional as in the IAM grammar (absent reads as 2008-10-17); `Statement` is an object or a
 *   non-empty list; each statement has `Effect`, exactly one of Action/NotAction, at most one of
 *   Resource/NotResource (absent is refused unless the caller allows it to mean `*`, as AWS KMS does for key
 *   policies) and, by kind: identity policies have no Principal/NotPrincipal; key policies and grants must have
 *   exactly one;
 * - action names are `<vendor>:<name>` or `*`, with `*`/`?` wildcards, matched case-insensitively (compiled
 *   lower-cased: callers match a lower-cased action name); an action that names no known `kms:` or `datadefender:`
 *   action (a typo, another service) is refused, so a misspelt Deny never silently denies nothing; resources are `*`
 *   or ARN patterns, case-sensitive;
 * - policy variables (`${aws:username}`) are not interpreted: they are literal text.
 */
import { MalformedPolicyError } from '../errors/index.js';
import { KNOWN_ACTIONS } from './actions.js';
import { compileArnPatternSet, isArnPattern } from './arn-pattern.js';
import { compileCondition, type Condition, type PolicyConditionValue } from './conditions.js';
import { parsePrincipal, type PrincipalSet } from './principal.js';
import { compileWildcardSet, type Matcher } from './wildcard.js';

/** Which kind of policy a document is: it decides the Principal rules here and the semantics in evaluate.ts. */
export type PolicyKind = 'identity' | 'key' | 'grant';
export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';

/** JSON as JSON.parse returns it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Action/NotAction or Resource/NotResource, compiled. */
export interface PatternSet {
  /** NotAction / NotResource. */
  readonly negated: boolean;
  /** The patterns as written. */
  readonly patterns: readonly string[];
  /** True when the value matches one of the patterns; for actions, pass the lower-cased action name. */
  readonly match: Matcher;
}

export interface PolicyStatement {
  /** Position in the Statement list (0-based). */
  readonly index: number;
  readonly sid?: string;
  readonly effect: Effect;
  /** Principal or NotPrincipal; absent in identity policies. */
  readonly principal?: PrincipalSet;
  readonly actions: PatternSet;
  readonly resources: PatternSet;
  /** All must hold (AND); empty when the statement has no Condition. */
  readonly conditions: readonly Condition[];
}

export interface ParsedPolicy {
  readonly kind: PolicyKind;
  readonly version: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly PolicyStatement[];
  /** The document as parsed, deeply frozen (render it with render-policy.ts). */
  readonly json: JsonObject;
}

export interface ParsePolicyOptions {
  /** `identity`: Principal/NotPrincipal forbidden. `key` and `grant`: exactly one of them required. */
  readonly kind: PolicyKind;
  /** A statement without Resource/NotResource means Resource `*` (AWS KMS key policies). Default false: refused. */
  readonly resourceDefaultsToAny?: boolean;
  /** Partition of a bare account id in Principal. Default `aws`. */
  readonly partition?: string;
}

/** Largest policy document, in bytes of UTF-8 (aws-kms-protocol.md §6.3). */
export const MAX_POLICY_BYTES = 32 * 1024;

const VERSIONS: readonly PolicyVersion[] = ['2012-10-17', '2008-10-17'];
const DEFAULT_VERSION: PolicyVersion = '2008-10-17';
const TOP_LEVEL_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const ACTION = /^[a-z0-9-]+:[a-z0-9*?]+$/i;
const ANY_RESOURCE: readonly string[] = Object.freeze(['*']);

const malformed = (reason: string) => new MalformedPolicyError(reason);

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A string or a non-empty list of non-empty strings, else the reason. */
function stringList(value: unknown, reason: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) throw malformed(reason);
  return Object.freeze([...(list as string[])]);
}

function onlyOne(s: Record<string, JsonValue>, field: string, notField: string): 'plain' | 'negated' | 'none' {
  const has = Object.hasOwn(s, field);
  const hasNot = Object.hasOwn(s, notField);
  if (has && hasNot) throw malformed(`Policy statement must contain only one of ${field} and ${notField}.`);
  return has ? 'plain' : hasNot ? 'negated' : 'none';
}

function actionsOf(s: Record<string, JsonValue>): PatternSet {
  const which = onlyOne(s, 'Action', 'NotAction');
  if (which === 'none') throw malformed('Policy statement must contain actions.');
  const negated = which === 'negated';
  const patterns = stringList(negated ? s.NotAction : s.Action, 'Policy statement must contain actions.');
  for (const a of patterns) {
    if (a !== '*' && !ACTION.test(a)) throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
    const one = compileWildcardSet([a.toLowerCase()]);
    if (!KNOWN_ACTIONS.some((known) => one(known))) throw malformed(`Policy contains an unknown action: ${a}. Actions are kms:<Operation> or datadefender:<Operation>.`);
  }
  return Object.freeze({ negated, patterns, match: compileWildcardSet(patterns.map((p) => p.toLowerCase())) });
}

function resourcesOf(s: Record<string, JsonValue>, defaultsToAny: boolean): PatternSet {
  const which = onlyOne(s, 'Resource', 'NotResource');
  if (which === 'none' && !defaultsToAny) throw malformed('Policy statement must contain resources.');
  const negated = which === 'negated';
  const patterns = which === 'none' ? ANY_RESOURCE : stringList(negated ? s.NotResource : s.Resource, 'Policy statement must contain resources.');
  for (const r of patterns) if (!isArnPattern(r)) throw malformed(`Resource ${r} must be in ARN format or "*".`);
  return Object.freeze({ negated, patterns, match: compileArnPatternSet(patterns) });
}

function principalOf(s: Record<string, JsonValue>, options: ParsePolicyOptions): PrincipalSet | undefined {
  const which = onlyOne(s, 'Principal', 'NotPrincipal');
  if (options.kind === 'identity') {
    if (which !== 'none') throw malformed('Policy document should not specify a principal.');
    return undefined;
  }
  if (which === 'none') throw malformed('Policy contains a statement with no principal.');
  const negated = which === 'negated';
  return parsePrincipal(negated ? s.NotPrincipal : s.Principal, negated, options.partition ?? 'aws');
}

function isConditionValue(v: unknown): v is PolicyConditionValue {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function conditionsOf(value: JsonValue | undefined): readonly Condition[] {
  if (value === undefined) return Object.freeze([]);
  if (!isObject(value)) throw malformed('Policy statement Condition must be a JSON object.');
  const out: Condition[] = [];
  for (const [operator, block] of Object.entries(value)) {
    if (!isObject(block)) throw malformed(`Condition operator ${operator} must map condition keys to values.`);
    for (const [key, raw] of Object.entries(block)) {
      const values = Array.isArray(raw) ? raw : [raw];
      if (!values.every(isConditionValue)) throw malformed(`Condition values for key ${key} must be strings, numbers or booleans.`);
      out.push(compileCondition(operator, key, values));
    }
  }
  return Object.freeze(out);
}

function statementOf(raw: JsonValue, index: number, options: ParsePolicyOptions): PolicyStatement {
  if (!isObject(raw)) throw malformed('Each policy statement must be a JSON object.');
  const unknown = Object.keys(raw).find((k) => !STATEMENT_FIELDS.has(k));
  if (unknown !== undefined) throw malformed(`Policy statement contains an unknown field: ${unknown}`);
  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') throw malformed('Policy statement Sid must be a string.');
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw malformed('Policy statement Effect must be Allow or Deny.');
  const principal = principalOf(raw, options);
  const statement: PolicyStatement = {
    index,
    ...(raw.Sid === undefined ? {} : { sid: raw.Sid }),
    effect: raw.Effect,
    ...(principal === undefined ? {} : { principal }),
    actions: actionsOf(raw),
    resources: resourcesOf(raw, options.resourceDefaultsToAny === true),
    conditions: conditionsOf(raw.Condition),
  };
  return Object.freeze(statement);
}

/**
 * Parses and validates a policy document.
 * @param text the document as JSON text.
 * @throws MalformedPolicyError (ERR_MALFORMED_POLICY) with the reason, e.g. `The policy document is not valid JSON.`,
 *   `Policy statement must contain actions.`, `Policy contains a statement with one or more invalid principals.`,
 *   `Unknown condition operator: X`, `Policy document should not specify a principal.`
 */
export function parsePolicy(text: string, options: ParsePolicyOptions): ParsedPolicy {
  if (typeof text !== 'string') throw malformed('The policy document must be JSON text.');
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw malformed(`The policy document exceeds the maximum size of ${MAX_POLICY_BYTES} bytes.`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('The policy document is not valid JSON.');
  }
  if (!isObject(doc)) throw malformed('The policy document must be a JSON object.');
  const unknown = Object.keys(doc).find((k) => !TOP_LEVEL_FIELDS.has(k));
  if (unknown !== undefined) throw malformed(`The policy document contains an unknown field: ${unknown}`);
  const { Version, Id, Statement } = doc;
  if (Version !== undefined && !VERSIONS.includes(Version as PolicyVersion)) throw malformed('The policy Version must be 2012-10-17 or 2008-10-17.');
  if (Id !== undefined && typeof Id !== 'string') throw malformed('The policy Id must be a string.');
  const list = Statement === undefined ? [] : Array.isArray(Statement) ? Statement : [Statement];
  if (list.length === 0) throw malformed('The policy document must contain at least one statement.');
  const statements = Object.freeze(list.map((s, i) => statementOf(s, i, options)));
  return Object.freeze({
    kind: options.kind,
    version: (Version as PolicyVersion | undefined) ?? DEFAULT_VERSION,
    ...(Id === undefined ? {} : { id: Id }),
    statements,
    json: deepFreeze(doc),
  });
}
