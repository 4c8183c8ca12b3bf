/**
 * IAM wildcards: `*` matches any run of characters (including none), `?` exactly one character (one UTF-16 code
 * unit). There is no escape syntax (AWS IAM User Guide, "IAM JSON policy elements: Action / Resource", and the
 * `StringLike` operator). Used for actions, resources, ARN conditions and `StringLike`.
 * Invariants:
 * - patterns are compiled once (at policy parse time) into a closure; no regular expression is ever built from
 *   policy text, so there is nothing to escape and no backtracking;
 * - matching splits the pattern on `*` into literal segments (with `?` holes): the first segment must be a prefix,
 *   the last a suffix, and each middle segment is placed at its leftmost possible position (greedy leftmost is
 *   exact for `*`-separated segments). Cost is O(|value| · |pattern|) in the worst case and O(|value|) with
 *   `indexOf` when a segment has no `?`: a pattern like `a*a*a*a*b` stays fast on long inputs;
 * - the case-insensitive variant lower-cases the pattern once and the value at each call.
 */

/** A compiled pattern: true when the whole value matches. */
export type Matcher = (value: string) => boolean;

const matchAll: Matcher = () => true;

interface Segment {
  readonly text: string;
  /** The segment contains `?` and cannot use `indexOf`. */
  readonly holes: boolean;
}

const segment = (text: string): Segment => ({ text, holes: text.includes('?') });

/** `value` at `pos` matches the segment, `?` standing for any one code unit. The caller checks the bounds. */
function matchesAt(value: string, pos: number, seg: Segment): boolean {
  if (!seg.holes) return value.startsWith(seg.text, pos);
  const { text } = seg;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== value.charCodeAt(pos + i)) return false;
  }
  return true;
}

/** Leftmost position ≥ from where the segment fits entirely before `end`, or -1. */
function find(value: string, seg: Segment, from: number, end: number): number {
  const last = end - seg.text.length;
  if (!seg.holes) {
    const at = value.indexOf(seg.text, from);
    return at !== -1 && at <= last ? at : -1;
  }
  for (let pos = from; pos <= last; pos++) if (matchesAt(value, pos, seg)) return pos;
  return -1;
}

function compileCaseSensitive(pattern: string): Matcher {
  if (pattern === '*') return matchAll;
  const parts = pattern.split('*');
  if (parts.length === 1) {
    if (!pattern.includes('?')) return (value) => value === pattern;
    const whole = segment(pattern);
    return (value) => value.length === pattern.length && matchesAt(value, 0, whole);
  }
  const first = segment(parts[0] as string);
  const last = segment(parts[parts.length - 1] as string);
  const middle = parts.slice(1, -1).filter((p) => p !== '').map(segment);
  const minLength = parts.reduce((n, p) => n + p.length, 0);
  return (value) => {
    if (value.length < minLength) return false;
    const end = value.length - last.text.length;
    if (!matchesAt(value, 0, first) || !matchesAt(value, end, last)) return false;
    let pos = first.text.length;
    for (const seg of middle) {
      const at = find(value, seg, pos, end);
      if (at === -1) return false;
      pos = at + seg.text.length;
    }
    return true;
  };
}

/**
 * Compiles one IAM wildcard pattern.
 * @param ignoreCase compare case-insensitively (IAM action names); otherwise exact (resources, `StringLike`).
 */
export function compileWildcard(pattern: string, ignoreCase = false): Matcher {
  if (!ignoreCase) return compileCaseSensitive(pattern);
  const match = compileCaseSensitive(pattern.toLowerCase());
  return match === matchAll ? matchAll : (value) => match(value.toLowerCase());
}

/**
 * Compiles a list of patterns into one matcher that is true when any pattern matches. Literal patterns are
 * looked up in a set; a lone `*` short-circuits to a constant.
 * @param ignoreCase see {@link compileWildcard}.
 */
export function compileWildcardSet(patterns: readonly string[], ignoreCase = false): Matcher {
  const fold = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  if (patterns.includes('*')) return matchAll;
  const literals = new Set<string>();
  const globs: Matcher[] = [];
  for (const p of patterns) {
    if (p.includes('*') || p.includes('?')) globs.push(compileCaseSensitive(fold(p)));
    else literals.add(fold(p));
  }
  const anyGlob = (v: string) => {
    for (const g of globs) if (g(v)) return true;
    return false;
  };
  if (globs.length === 0) return (value) => literals.has(fold(value));
  if (literals.size === 0) return (value) => anyGlob(fold(value));
  return (value) => {
    const v = fold(value);
    return literals.has(v) || anyGlob(v);
  };
}

/** True when the pattern contains `*` or `?`. */
export const hasWildcard = (pattern: string): boolean => pattern.includes('*') || pattern.includes('?');
