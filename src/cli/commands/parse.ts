/** Argument parsers for the CLI; each throws a CliError naming the bad argument. */
import { CliError } from './io.js';

/** Collects repeatable `k=v` options (split on the first `=`). */
export function collectPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new CliError(`expected key=value, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

export function integer(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new CliError(`${name} must be a whole number, got "${value}"`);
    return Number(value);
  };
}
