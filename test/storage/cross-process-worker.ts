/**
 * A child process for cross-process storage tests (bundled by cross-process.ts, run with plain node).
 * argv[2] is a JSON WorkerSpec. The worker prints `ready`, waits for `go` on stdin, does its job,
 * prints one JSON result line and exits.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import type { Storage } from '../../src/ports/storage.js';

export type CrossProcessTarget = { engine: 'sqlite'; file: string } | { engine: 'postgres'; connectionString: string; schema: string };

export type WorkerSpec =
  | { mode: 'open'; target: CrossProcessTarget }
  | { mode: 'rotate'; target: CrossProcessTarget; keyId: string; rotations: number }
  | { mode: 'cas'; target: CrossProcessTarget; keyId: string; attempts: number };

export interface WorkerResult {
  ok: boolean;
  added?: number[];
  wins?: number;
  error?: string;
}

const open = (target: CrossProcessTarget): Promise<Storage> =>
  target.engine === 'sqlite'
    ? openSqliteStorage({ file: target.file })
    : openPostgresStorage({ connectionString: target.connectionString, schema: target.schema, poolSize: 5 });

const version = (keyId: string, v: number) => ({
  keyId,
  version: v,
  materialId: randomBytes(32).toString('hex'),
  wrapped: randomBytes(60),
  createdAt: new Date(),
  rotationType: 'ON_DEMAND' as const,
});

async function main(): Promise<WorkerResult> {
  const spec = JSON.parse(process.argv[2]!) as WorkerSpec;
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const go = async () => {
    process.stdout.write('ready\n');
    await lines.next();
  };

  if (spec.mode === 'open') {
    await go();
    const storage = await open(spec.target);
    await storage.close();
    return { ok: true };
  }

  const storage = await open(spec.target);
  try {
    await go();
    if (spec.mode === 'cas') {
      const results = await Promise.all(Array.from({ length: spec.attempts }, () => storage.addVersion(version(spec.keyId, 2), 1, null)));
      return { ok: true, wins: results.filter(Boolean).length };
    }
    const added: number[] = [];
    while (added.length < spec.rotations) {
      const key = await storage.getKey(spec.keyId);
      if (!key) throw new Error('key vanished');
      if (await storage.addVersion(version(spec.keyId, key.currentVersion + 1), key.currentVersion, null)) added.push(key.currentVersion + 1);
    }
    return { ok: true, added };
  } finally {
    await storage.close();
  }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    const e = err as Error & { code?: string; cause?: unknown };
    process.stdout.write(`${JSON.stringify({ ok: false, error: `${e.code ?? ''} ${e.message} (cause: ${String(e.cause)})` })}\n`);
    process.exit(1);
  },
);
