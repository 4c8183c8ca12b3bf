import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createKeyService } from '../../src/core/key-service.js';
import type { DualControlSettings } from '../../src/core/dual-control.js';
import type { RequestContext } from '../../src/core/request-context.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import type { AuditEvent } from '../../src/ports/audit-sink.js';
import type { Storage } from '../../src/ports/storage.js';

export const SCOPE = { region: 'us-east-1', accountId: '111122223333' };

export function manualClock(start = new Date('2026-01-01T00:00:00Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advanceDays: (days: number) => {
      now += days * 86_400_000;
    },
  };
}

export function context(roles: string[] = ['administrator', 'data-engineer'], name = 'alice'): RequestContext {
  return {
    requestId: `req-${Math.random().toString(16).slice(2)}`,
    source: 'test',
    caller: { principalId: name, arn: `arn:aws:iam::111122223333:user/${name}`, roles, credential: 'token:test' },
    sourceIp: '127.0.0.1',
    userAgent: 'vitest',
  };
}

/** Audit sink faults for fail-closed tests: `fail` rejects appends, `hang` never settles them. */
export function faultySink(storage: Storage) {
  const faults = { mode: 'ok' as 'ok' | 'fail' | 'hang' };
  const sink = {
    append: (events: readonly AuditEvent[]) =>
      faults.mode === 'fail'
        ? Promise.reject(new Error('disk full'))
        : faults.mode === 'hang'
          ? new Promise<void>(() => {})
          : storage.append(events),
    readAudit: storage.readAudit.bind(storage),
  };
  return { sink, faults };
}

/** A key service over real SQLite and the local root of trust in a temp dir, with a manual clock. */
export async function coreFixture(options: { auditTimeoutMs?: number; dualControl?: DualControlSettings } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'dd-core-'));
  const storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
  const root = await openLocalRootOfTrust(join(dir, 'root.key'));
  const clock = manualClock();
  const { sink, faults } = faultySink(storage);
  const audit = createAuditLog({ sink, timeoutMs: options.auditTimeoutMs ?? 1500 });
  const service = createKeyService({
    storage,
    root,
    audit,
    policies: createPolicyEngine(),
    clock,
    scope: SCOPE,
    settings: {
      defaultRotationPeriodDays: 180,
      keyCacheSize: 1000,
      keyCacheTtlSeconds: 300,
      metadataCacheMs: 1000,
      dualControl: options.dualControl ?? { enabled: false, operations: [], approvalTtlSeconds: 3600 },
    },
  });
  return {
    service,
    storage,
    root,
    clock,
    faults,
    audit,
    async close() {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
