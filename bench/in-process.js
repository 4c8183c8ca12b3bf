// In-process key-service Encrypt (1 KiB, audited to SQLite, material cached) against raw node:crypto
// AES-256-GCM of the same 1 KiB, in interleaved rounds.
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalRootOfTrust } from '../dist/adapters/root-of-trust/local/local-root-of-trust.js';
import { openSqliteStorage } from '../dist/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../dist/audit/audit-log.js';
import { createKeyService } from '../dist/core/key-service.js';
import { createPolicyEngine } from '../dist/policy/policy-engine.js';
import { systemClock } from '../dist/ports/clock.js';
import { fmt, median, printTable } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const CONCURRENCY = 64;

const ctx = {
  requestId: 'bench',
  source: 'bench',
  caller: { principalId: 'bench', arn: 'arn:aws:iam::111122223333:user/bench', roles: ['administrator', 'data-engineer'], credential: 'bench' },
  sourceIp: null,
  userAgent: null,
};

async function timeOps(fn) {
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < OPS) {
      next++;
      await fn();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return OPS / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function benchInProcess() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-core-'));
  const storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
  try {
    const root = await openLocalRootOfTrust(join(dir, 'root.key'));
    const audit = createAuditLog({ sink: storage });
    const service = createKeyService({
      storage, root, audit, policies: createPolicyEngine(), clock: systemClock,
      scope: { region: 'us-east-1', accountId: '111122223333' },
      settings: {
        defaultRotationPeriodDays: 180, keyCacheSize: 1000, keyCacheTtlSeconds: 300, metadataCacheMs: 1000,
        dualControl: { enabled: false, operations: [], approvalTtlSeconds: 3600 },
      },
    });
    const key = await service.keys.create(ctx, {});
    const plaintext = randomBytes(1024);
    const rawKey = randomBytes(32);
    const raw = async () => {
      const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12));
      c.setAAD(Buffer.from('tenant=bench'));
      Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    };
    const encrypt = () => service.crypto.encrypt(ctx, { keyId: key.id, plaintext, encryptionContext: { tenant: 'bench' } });
    const results = { raw: [], service: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.raw.push(await timeOps(raw));
      results.service.push(await timeOps(encrypt));
    }
    const rawOps = median(results.raw);
    const serviceOps = median(results.service);
    printTable(`In-process encrypt of 1 KiB, ${OPS} ops x ${ROUNDS} interleaved rounds, ${CONCURRENCY} concurrent`, [
      ['target', 'ops/s', 'us/op'],
      ['raw node:crypto AES-256-GCM (baseline)', fmt(rawOps), fmt(1e6 / rawOps, 1)],
      ['key service encrypt (audited, SQLite)', fmt(serviceOps), fmt(1e6 / serviceOps, 1)],
    ]);
    console.log(`  ratio service / raw: ${(serviceOps / rawOps).toFixed(3)}x`);
    return { rawOps, serviceOps, ratio: serviceOps / rawOps };
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}
