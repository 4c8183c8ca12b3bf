/**
 * ARN patterns for the `Resource`/`NotResource` elements and the `Arn*` condition operators.
 * AWS IAM User Guide, "Condition operators / ARN condition operators": "Each of the six colon-delimited components
 * of the ARN is checked separately and each can include multi-character match wildcards (*) or single-character
 * match wildcards (?)"; the same holds for the Resource element ("wildcards cannot span segments").
 * Invariants:
 * - an ARN is `arn:partition:service:region:account:resource`, split on the first five colons; the resource part
 *   may contain further colons;
 * - matching is case-sensitive; `*` alone matches any value (including a request resource of `*`);
 * - when the first five components of a pattern hold no wildcard, whole-string matching is exactly equivalent
 *   (the literal prefix pins every colon), so the common pattern compiles to one wildcard matcher; otherwise the
 *   value is split once (memoised for the last value seen, as one request tests many statements) and each
 *   component is matched on its own;
 * - a pattern that is not ARN-shaped is matched as a plain wildcard over the whole value.
 */
import { compileWildcard, hasWildcard, type Matcher } from './wildcard.js';

const ARN_PARTS = 6;

/** Splits an ARN into its six components, or undefined when it has fewer than five colons or no `arn` prefix. */
export function splitArn(value: string): readonly string[] | undefined {
  if (!value.startsWith('arn:')) return undefined;
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < ARN_PARTS - 1; i++) {
    const colon = value.indexOf(':', from);
    if (colon === -1) return undefined;
    parts.push(value.slice(from, colon));
    from = colon + 1;
  }
  parts.push(value.slice(from));
  return parts;
}

let lastValue: string | undefined;
let lastParts: readonly string[] | undefined;

/**
 * {@link splitArn}, remembering the last value: one request tests the same resource against many statements.
 * The parts are frozen, as they are shared.
 */
export function splitArnCached(value: string): readonly string[] | undefined {
  if (value !== lastValue) {
    const parts = splitArn(value);
    lastParts = parts === undefined ? undefined : Object.freeze(parts);
    lastValue = value;
  }
  return lastParts;
}

/** True when `pattern` is `*` or has the six ARN components (wildcards allowed inside components). */
export const isArnPattern = (pattern: string): boolean => pattern === '*' || splitArn(pattern) !== undefined;

/** Compiles one ARN pattern (see the header for the matching rules). */
export function compileArnPattern(pattern: string): Matcher {
  const parts = splitArn(pattern);
  if (parts === undefined || !parts.slice(0, ARN_PARTS - 1).some(hasWildcard)) return compileWildcard(pattern);
  const matchers = parts.map((p) => compileWildcard(p));
  return (value) => {
    const valueParts = splitArnCached(value);
    if (valueParts === undefined) return false;
    for (let i = 0; i < ARN_PARTS; i++) if (!(matchers[i] as Matcher)(valueParts[i] as string)) return false;
    return true;
  };
}

/** Compiles a list of ARN patterns into one matcher that is true when any of them matches. */
export function compileArnPatternSet(patterns: readonly string[]): Matcher {
  if (patterns.includes('*')) return () => true;
  const matchers = patterns.map(compileArnPattern);
  if (matchers.length === 1) return matchers[0] as Matcher;
  return (value) => {
    for (const m of matchers) if (m(value)) return true;
    return false;
  };
}
