/**
 * Renews the server's certificate at two thirds of its lifetime and hands the new one to the listener.
 *
 * Invariants:
 * - Renewal is due at issuedAt + 2/3 × (notAfter − issuedAt): a third of the lifetime is left to retry in (a sealed
 *   root, an unreachable database), every `retryMs` until it succeeds.
 * - A certificate is applied only after it was issued and recorded; a failed issue or apply leaves the current
 *   certificate serving. Timers never keep the process alive (unref) and `stop` cancels them.
 * - Long waits are cut into steps of at most an hour, so a clock change is noticed.
 */

export interface RenewableCertificate {
  serial: string;
  issuedAt: Date;
  notAfter: Date;
}

export interface RenewalDeps<C extends RenewableCertificate> {
  now: () => Date;
  issue: () => Promise<C>;
  apply: (certificate: C) => Promise<void>;
  onError: (err: unknown) => void;
  retryMs?: number;
}

/** When a certificate issued at `issuedAt` and expiring at `notAfter` should be renewed. */
export function renewalTime(c: Pick<RenewableCertificate, 'issuedAt' | 'notAfter'>): Date {
  const issued = c.issuedAt.getTime();
  return new Date(issued + ((c.notAfter.getTime() - issued) * 2) / 3);
}

const HOUR_MS = 60 * 60 * 1000;

export function startServerCertificateRenewal<C extends RenewableCertificate>(deps: RenewalDeps<C>, initial: C) {
  const retryMs = deps.retryMs ?? 30_000;
  let current: C = initial;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(tick, Math.max(0, Math.min(delayMs, HOUR_MS)));
    timer.unref();
  };

  const tick = () => {
    const due = renewalTime(current).getTime() - deps.now().getTime();
    if (due > 0) return schedule(due);
    running = (async () => {
      try {
        const next = await deps.issue();
        await deps.apply(next);
        current = next;
        schedule(renewalTime(current).getTime() - deps.now().getTime());
      } catch (err) {
        deps.onError(err);
        schedule(retryMs);
      }
    })();
  };

  schedule(renewalTime(current).getTime() - deps.now().getTime());
  return {
    current: () => current,
    renewAt: () => renewalTime(current),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
