/**
 * Typed readings of condition values, for policy values (at parse time) and request values (at evaluation).
 * AWS IAM User Guide, "Condition operators": numeric operators take integers or decimals; date operators take
 * "a W3C implementation of the ISO 8601 date formats" or epoch (UNIX) time; Bool takes true/false.
 * Invariants:
 * - nothing here throws: an unreadable value reads as undefined (policy values: the parser turns that into
 *   MalformedPolicyError; request values: the comparison is false);
 * - dates read as epoch milliseconds. An ISO date-time without a zone is UTC (never the host's local time, which
 *   `Date.parse` would pick); impossible dates such as 2024-02-30 are rejected, not rolled over;
 * - numbers read only from decimal notation (`Number('0x10')`, `Number('')` and `Number(' 1 ')` are refused);
 * - Bool accepts true/false in any case.
 */
import type { ContextScalar } from './request-context.js';

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH_SECONDS = /^-?\d+(?:\.\d+)?$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A decimal number from a number or a numeric string. */
export function readNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function readIsoDate(text: string): number | undefined {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const field = (i: number) => (m[i] === undefined ? 0 : Number(m[i]));
  const [y, mo, d, h, mi, s] = [field(1), field(2) - 1, field(3), field(4), field(5), field(6)];
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const zone = m[8];
  let offset = 0;
  if (zone !== undefined && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(-2));
    if (zh > 23 || zm > 59) return undefined;
    offset = (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm) * 60_000;
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, millis);
  const exact =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return exact ? date.getTime() - offset : undefined;
}

/** Epoch milliseconds from a Date, epoch seconds (number or numeric string) or an ISO 8601 string. */
export function readDate(value: unknown): number | undefined {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  return EPOCH_SECONDS.test(value) ? Number(value) * 1000 : readIsoDate(value);
}

/** A boolean from a boolean or `true`/`false` in any case. */
export function readBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** The string form of a request value for the String and Arn operators (a Date reads as ISO 8601). */
export function readString(value: ContextScalar): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  return String(value);
}
