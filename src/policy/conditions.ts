/**
 * Condition operators of the IAM policy language, as one table (AWS IAM User Guide, "IAM JSON policy elements:
 * Condition operators", "Single-valued vs. multivalued context keys", "...IfExists condition operators").
 * Invariants:
 * - a condition is compiled once (at policy parse time); policy values of the wrong type are refused then
 *   (MalformedPolicyError), never at evaluation;
 * - several policy values for one key are OR-ed ("matches any"); for a negated operator (StringNotEquals,
 *   NotIpAddress, ...) the result is the negation of the positive operator, i.e. NOR over the policy values;
 * - without a set prefix, a multivalued request key matches when any request value matches (negated: when none
 *   does);
 * - missing key (absent, null, or an empty list — see request-context.ts): false, except negated operators
 *   ("If the policy condition requires that the key is not matched ... and the right key is not present, the
 *   condition is true"), `...IfExists` (true) and `ForAllValues:` (true: the empty set is a subset of anything);
 *   `ForAnyValue:` on a missing key is false (true with IfExists);
 * - `ForAnyValue:` is true when at least one request value satisfies the operator, `ForAllValues:` when every one
 *   does; for a negated operator each request value must match none of the policy values;
 * - `Null` tests presence only: `true` means "the key is absent"; it takes no set prefix and no IfExists;
 * - condition-key names are case-insensitive (compiled lower-cased; aws-kms-protocol.md §6.3); value case follows
 *   the operator (StringEquals vs StringEqualsIgnoreCase);
 * - ArnEquals and ArnLike are the same test (AWS: both match each ARN component with wildcards);
 * - evaluation allocates nothing beyond lower-casing for the IgnoreCase operators.
 */
import { MalformedPolicyError } from '../errors/index.js';
import { compileArnPatternSet } from './arn-pattern.js';
import { readBool, readDate, readNumber, readString } from './condition-values.js';
import { ipInRange, parseIpAddress, parseIpRange, type IpRange } from './ip-range.js';
import { lookupContext, type ContextScalar, type RequestContext } from './request-context.js';
import { compileWildcardSet } from './wildcard.js';

/** A value as written in a policy's Condition block. */
export type PolicyConditionValue = string | number | boolean;

/** A compiled condition: one operator applied to one key. */
export interface Condition {
  /** The operator as written, e.g. `ForAnyValue:StringEqualsIgnoreCaseIfExists`. */
  readonly operator: string;
  /** The condition key, lower-cased. */
  readonly key: string;
  readonly values: readonly PolicyConditionValue[];
  /** True when the request context satisfies the condition. Never throws. */
  test(context: RequestContext): boolean;
}

/** True when one request value matches at least one of the policy values (the positive reading). */
type Compare = (value: ContextScalar) => boolean;

interface OperatorSpec {
  /** The operator is the negation of its positive form (…Not…, NotIpAddress). */
  readonly negated: boolean;
  /** Compiles the policy values; returns undefined when one of them has the wrong type. */
  readonly compile: (values: readonly PolicyConditionValue[]) => Compare | undefined;
}

type Ordering = (request: number, policy: number) => boolean;

function allDefined<T>(values: readonly (T | undefined)[]): values is readonly T[] {
  return !values.includes(undefined);
}

const stringEquals = (values: readonly PolicyConditionValue[]): Compare => {
  const set = new Set(values.map(String));
  return (v) => set.has(readString(v));
};

const stringEqualsIgnoreCase = (values: readonly PolicyConditionValue[]): Compare => {
  const set = new Set(values.map((p) => String(p).toLowerCase()));
  return (v) => set.has(readString(v).toLowerCase());
};

const stringLike = (values: readonly PolicyConditionValue[]): Compare => {
  const match = compileWildcardSet(values.map(String));
  return (v) => match(readString(v));
};

const arnLike = (values: readonly PolicyConditionValue[]): Compare => {
  const match = compileArnPatternSet(values.map(String));
  return (v) => match(readString(v));
};

const ordered =
  (read: (value: unknown) => number | undefined, order: Ordering) =>
  (values: readonly PolicyConditionValue[]): Compare | undefined => {
    const policy = values.map(read);
    if (!allDefined(policy)) return undefined;
    return (v) => {
      const n = read(v);
      if (n === undefined) return false;
      for (const p of policy) if (order(n, p)) return true;
      return false;
    };
  };

const numeric = (order: Ordering) => ordered(readNumber, order);
const date = (order: Ordering) => ordered(readDate, order);

const equal: Ordering = (a, b) => a === b;
const less: Ordering = (a, b) => a < b;
const lessOrEqual: Ordering = (a, b) => a <= b;
const greater: Ordering = (a, b) => a > b;
const greaterOrEqual: Ordering = (a, b) => a >= b;

const bool = (values: readonly PolicyConditionValue[]): Compare | undefined => {
  const policy = values.map(readBool);
  if (!allDefined(policy)) return undefined;
  return (v) => {
    const b = readBool(v);
    return b !== undefined && policy.includes(b);
  };
};

const ipAddress = (values: readonly PolicyConditionValue[]): Compare | undefined => {
  const ranges = values.map((p) => (typeof p === 'string' ? parseIpRange(p) : undefined));
  if (!allDefined<IpRange>(ranges)) return undefined;
  return (v) => {
    const address = typeof v === 'string' ? parseIpAddress(v) : undefined;
    if (address === undefined) return false;
    for (const r of ranges) if (ipInRange(address, r)) return true;
    return false;
  };
};

const op = (compile: OperatorSpec['compile'], negated = false): OperatorSpec => ({ compile, negated });

/** Every operator except Null, by name (without set prefix or IfExists suffix). */
export const CONDITION_OPERATORS: Readonly<Record<string, OperatorSpec>> = Object.freeze({
  StringEquals: op(stringEquals),
  StringNotEquals: op(stringEquals, true),
  StringEqualsIgnoreCase: op(stringEqualsIgnoreCase),
  StringNotEqualsIgnoreCase: op(stringEqualsIgnoreCase, true),
  StringLike: op(stringLike),
  StringNotLike: op(stringLike, true),
  ArnEquals: op(arnLike),
  ArnNotEquals: op(arnLike, true),
  ArnLike: op(arnLike),
  ArnNotLike: op(arnLike, true),
  NumericEquals: op(numeric(equal)),
  NumericNotEquals: op(numeric(equal), true),
  NumericLessThan: op(numeric(less)),
  NumericLessThanEquals: op(numeric(lessOrEqual)),
  NumericGreaterThan: op(numeric(greater)),
  NumericGreaterThanEquals: op(numeric(greaterOrEqual)),
  DateEquals: op(date(equal)),
  DateNotEquals: op(date(equal), true),
  DateLessThan: op(date(less)),
  DateLessThanEquals: op(date(lessOrEqual)),
  DateGreaterThan: op(date(greater)),
  DateGreaterThanEquals: op(date(greaterOrEqual)),
  Bool: op(bool),
  IpAddress: op(ipAddress),
  NotIpAddress: op(ipAddress, true),
});

/** How a set prefix reads the request value(s) once the key is present. */
type SetTest = (value: ContextScalar | readonly ContextScalar[], compare: Compare, negated: boolean) => boolean;

const some = (values: readonly ContextScalar[], compare: Compare, negated: boolean): boolean => {
  for (const v of values) if (compare(v) !== negated) return true;
  return false;
};

const SET_PREFIXES: Readonly<Record<'' | 'ForAnyValue:' | 'ForAllValues:', { missing: boolean; test: SetTest }>> = {
  // Single-valued reading: any request value matching makes the positive operator true; negation flips the result.
  '': {
    missing: false,
    test: (value, compare, negated) => (Array.isArray(value) ? some(value, compare, false) : compare(value as ContextScalar)) !== negated,
  },
  'ForAnyValue:': {
    missing: false,
    test: (value, compare, negated) => (Array.isArray(value) ? some(value, compare, negated) : compare(value as ContextScalar) !== negated),
  },
  'ForAllValues:': {
    missing: true,
    test: (value, compare, negated) => (Array.isArray(value) ? !some(value, compare, !negated) : compare(value as ContextScalar) !== negated),
  },
};

const IF_EXISTS = 'IfExists';
const VENDOR_KEY = /^[A-Za-z0-9_.-]+:./s;

const malformed = (reason: string) => new MalformedPolicyError(reason);

function nullCondition(operator: string, key: string, values: readonly PolicyConditionValue[]): Condition {
  const wanted = values.map(readBool);
  if (!allDefined(wanted)) throw malformed(`Condition operator ${operator} requires true or false for key ${key}.`);
  const whenAbsent = wanted.includes(true);
  const whenPresent = wanted.includes(false);
  return Object.freeze({
    operator,
    key,
    values: Object.freeze([...values]),
    test: (context: RequestContext) => (lookupContext(context, key) === undefined ? whenAbsent : whenPresent),
  });
}

/**
 * Compiles one condition: `{ operator: { key: values } }` of a statement's Condition element.
 * @param operator as written, e.g. `ForAllValues:StringLike` or `DateLessThanIfExists`.
 * @param key the condition key in any case; it must carry a vendor prefix (`kms:`, `aws:`, ...).
 * @param values at least one value.
 * @throws MalformedPolicyError (ERR_MALFORMED_POLICY) for an unknown operator (`Unknown condition operator: X`),
 *   a key without a vendor prefix, no values, or a value the operator cannot read (a non-numeric NumericEquals
 *   value, an invalid date, CIDR or boolean).
 */
export function compileCondition(operator: string, key: string, values: readonly PolicyConditionValue[]): Condition {
  if (!VENDOR_KEY.test(key)) throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  if (values.length === 0) throw malformed(`Condition operator ${operator} has no values for key ${key}.`);
  const lowerKey = key.toLowerCase();
  if (operator === 'Null') return nullCondition(operator, lowerKey, values);
  const prefix = operator.startsWith('ForAnyValue:') ? 'ForAnyValue:' : operator.startsWith('ForAllValues:') ? 'ForAllValues:' : '';
  const rest = operator.slice(prefix.length);
  const ifExists = rest.endsWith(IF_EXISTS);
  const name = ifExists ? rest.slice(0, -IF_EXISTS.length) : rest;
  if (!Object.hasOwn(CONDITION_OPERATORS, name)) throw malformed(`Unknown condition operator: ${operator}`);
  const spec = CONDITION_OPERATORS[name] as OperatorSpec;
  const compare = spec.compile(values);
  if (compare === undefined) throw malformed(`Condition operator ${operator} has an invalid value for key ${key}.`);
  const { negated } = spec;
  const set = SET_PREFIXES[prefix];
  const missing = ifExists || set.missing || (prefix === '' && negated);
  return Object.freeze({
    operator,
    key: lowerKey,
    values: Object.freeze([...values]),
    test(context: RequestContext) {
      const value = lookupContext(context, lowerKey);
      return value === undefined ? missing : set.test(value, compare, negated);
    },
  });
}
