/**
 * IP address ranges for the `IpAddress` / `NotIpAddress` condition operators (AWS IAM User Guide, "IP address
 * condition operators": IPv4 or IPv6 in CIDR notation, RFC 4632 / RFC 4291 §2.3; a bare address is a /32 or /128).
 * Invariants:
 * - parsed by hand (validated by node:net isIPv4/isIPv6 first) into 16-bit groups: an IPv4 address is two groups,
 *   an IPv6 address eight; families never match each other;
 * - an IPv4-mapped IPv6 request address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2, what a dual-stack Node socket
 *   reports for an IPv4 client) is matched as the IPv4 address it carries;
 * - host bits after the prefix in a policy range are ignored (`10.0.0.5/8` is `10.0.0.0/8`);
 * - a request value that is not an IP address matches no range; an IPv6 zone (`%eth0`) in a request is ignored.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One CIDR range, compiled. */
export interface IpRange {
  readonly family: 4 | 6;
  readonly groups: readonly number[];
  readonly prefix: number;
}

function ipv4Groups(text: string): number[] {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
}

function ipv6Groups(text: string): number[] {
  let tail: number[] = [];
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    tail = ipv4Groups(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const hex = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const gap = body.indexOf('::');
  let groups: number[];
  if (gap === -1) groups = hex(body);
  else {
    const head = hex(body.slice(0, gap));
    const rest = hex(body.slice(gap + 2));
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  if (tail.length > 0) groups.splice(6, 2, ...tail);
  return groups;
}

/** Parses an address to its family and groups, or undefined when it is not an IP address. */
export function parseIpAddress(text: string): { family: 4 | 6; groups: number[] } | undefined {
  if (isIPv4(text)) return { family: 4, groups: ipv4Groups(text) };
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(address)) return undefined;
  const groups = ipv6Groups(address);
  const mapped = groups[5] === 0xffff && groups.slice(0, 5).every((g) => g === 0);
  return mapped ? { family: 4, groups: groups.slice(6) } : { family: 6, groups };
}

/**
 * Parses a policy range: `a.b.c.d`, `a.b.c.d/n` (0–32), an IPv6 address, or `x::/n` (0–128). Policy ranges are
 * taken literally (an IPv4-mapped IPv6 range stays IPv6).
 * @returns undefined when the text is not a valid address or prefix.
 */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes('%') ? 6 : undefined;
  if (family === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return Object.freeze({ family, groups: Object.freeze(family === 4 ? ipv4Groups(address) : ipv6Groups(address)), prefix: Number(prefixText) });
}

/** True when the parsed address lies in the range (same family, equal first `prefix` bits). */
export function ipInRange(address: { family: 4 | 6; groups: readonly number[] }, range: IpRange): boolean {
  if (address.family !== range.family) return false;
  const whole = range.prefix >> 4;
  for (let i = 0; i < whole; i++) if (address.groups[i] !== range.groups[i]) return false;
  const bits = range.prefix & 15;
  if (bits === 0) return true;
  const mask = (0xffff << (16 - bits)) & 0xffff;
  return ((address.groups[whole] as number) & mask) === ((range.groups[whole] as number) & mask);
}
