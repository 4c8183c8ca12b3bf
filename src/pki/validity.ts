/**
 * Certificate validity periods.
 *
 * Invariants:
 * - notBefore is backdated by {@link CLOCK_SKEW_MS} so a client whose clock runs a little behind accepts a fresh
 *   certificate; the backdating is small enough that a 397-day server certificate stays within the 398-day
 *   maximum of the CA/Browser Forum Baseline Requirements §6.3.2.
 * - A certificate is "usable" only inside [notBefore, notAfter - renewal margin]; a certificate that is not yet
 *   valid (clock moved back) counts as unusable too.
 * - Dates in X.509 have whole-second precision; these helpers keep milliseconds and let the encoder drop them.
 */
import type { X509Certificate } from 'node:crypto';

/** How far notBefore is set before "now". */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** `now` minus the allowed clock skew: the notBefore of a certificate issued at `now`. */
export function backdated(now: Date): Date {
  return new Date(now.getTime() - CLOCK_SKEW_MS);
}

/** `date` plus whole days (of 86,400 seconds). */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** `date` plus calendar years (UTC). */
export function addYears(date: Date, years: number): Date {
  const result = new Date(date.getTime());
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}

/** The earlier of two dates. */
export function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/**
 * Whether `certificate` is valid at `now` and stays valid for at least `marginDays` more days.
 * An unparseable validity date counts as unusable.
 */
export function usableFor(certificate: X509Certificate, now: Date, marginDays: number): boolean {
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return false;
  return notBefore <= now.getTime() && notAfter > addDays(now, marginDays).getTime();
}
