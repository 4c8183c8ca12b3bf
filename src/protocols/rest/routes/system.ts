import type { FastifyInstance } from 'fastify';
import type { DualControlSettings } from '../../../core/dual-control.js';
import type { KeyService } from '../../../core/key-service.js';
import type { RootOperations, RootStatus } from '../../../core/root-operations.js';
import { handle, operation } from '../rest-context.js';

export interface HealthReport {
  /** `sealed`: the root of trust is sealed; `degraded`: the audit trail or the root of trust cannot serve. */
  status: 'ok' | 'degraded' | 'sealed';
  version: string;
  storage: string;
  rootOfTrust: string;
  /** Whether the HSM or upstream KMS answers (always `ok` for the software roots). */
  root: 'ok' | 'unavailable';
  audit: 'ok' | 'unavailable';
  /** The certificate the listener serves (public anyway: every TLS client sees it) and when it is renewed. */
  certificate: { source: string; notAfter: string; renewAt: string | null };
  /** Whether this process holds the job lease and so runs the background jobs (jobs/leader-lease.ts). */
  jobLeader: boolean;
}

type KeyCacheStats = ReturnType<KeyService['materialCache']['stats']>;

/** The cache of unwrapped key versions: entries now and lookups since start (core/material-cache.ts), and their hit rate. */
export interface KeyCacheReport extends KeyCacheStats {
  /** hits / (hits + misses), from 0 to 1; null before the first lookup (no lookups is not a 0% hit rate). */
  hitRate: number | null;
}

/**
 * The body of `GET /v1/status` (the CLI's `datadefender status` reads this type): health, with `root` the seal state
 * and whether the HSM or upstream KMS answers (`available`, health's `root`).
 */
export interface StatusReport extends Omit<HealthReport, 'root'> {
  root: RootStatus & { available: boolean };
  keyCache: KeyCacheReport;
  /** The operations and approval lifetime only when dual control is on. */
  dualControl: Pick<DualControlSettings, 'enabled'> & Partial<Omit<DualControlSettings, 'enabled'>>;
}

/** The cache's counters and their hit rate. */
function keyCacheReport(stats: KeyCacheStats): KeyCacheReport {
  const lookups = stats.hits + stats.misses;
  return { ...stats, hitRate: lookups === 0 ? null : stats.hits / lookups };
}

/** Health (public), caller identity and status (the audit trail's routes are in audit.ts). */
export function systemRoutes(app: FastifyInstance, service: KeyService, root: RootOperations, health: () => Promise<HealthReport>): void {
  app.get('/v1/health', { config: { public: true } }, async (_request, reply) => {
    const report = await health();
    reply.code(report.status === 'ok' ? 200 : 503);
    return report;
  });

  app.get('/v1/whoami', operation('GetCallerIdentity'), handle(async (ctx) =>
    service.run(ctx, 'GetCallerIdentity', { readOnly: true, whileSealed: true }, async (op) => {
      await op.authorize(null);
      const { arn, roles, policies = [], tags = {}, credential } = ctx.caller;
      return { principal: { arn, roles, policies: policies.map((p) => p.name), tags, credential } };
    }),
  ));

  app.get('/v1/status', operation('GetStatus'), handle(async (ctx) =>
    service.run(ctx, 'GetStatus', { readOnly: true, whileSealed: true, action: 'datadefender:GetStatus' }, async (op): Promise<StatusReport> => {
      await op.authorize(null);
      const { enabled, operations, approvalTtlSeconds } = service.dualControl;
      const report = await health();
      return {
        ...report,
        root: { ...root.status(), available: report.root === 'ok' },
        keyCache: keyCacheReport(service.materialCache.stats()),
        dualControl: enabled ? { enabled, operations, approvalTtlSeconds } : { enabled },
      };
    }),
  ));
}
