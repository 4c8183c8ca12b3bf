/**
 * Storage safety across processes: the worker (cross-process-worker.ts) is bundled once with Vite and run by
 * plain node in child processes, so each child has its own driver, connection(s) and module state — exactly
 * like separate servers sharing one database.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/ports/storage.js';
import type { CrossProcessTarget, WorkerResult, WorkerSpec } from './cross-process-worker.js';
import { makeKey, makeVersion } from './storage-contract.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface CrossProcessDatabase {
  target: CrossProcessTarget;
  open(): Promise<Storage>;
  dispose(): Promise<void>;
}

/** Bundles the worker into a temp dir whose node_modules links to the repository's. */
async function bundleWorker(): Promise<{ script: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dd-storage-worker-'));
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await build({
    configFile: false,
    root: REPO,
    logLevel: 'silent',
    build: {
      ssr: join(REPO, 'test/storage/cross-process-worker.ts'),
      outDir: join(dir, 'out'),
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { format: 'es', entryFileNames: 'worker.mjs' } },
    },
  });
  return { script: join(dir, 'out', 'worker.mjs'), dir };
}

/** Starts every worker, waits until all are ready, releases them together and collects their results. */
async function runTogether(script: string, specs: WorkerSpec[]): Promise<WorkerResult[]> {
  const children = specs.map((spec) => {
    const child = spawn(process.execPath, [script, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { child, lines, exited };
  });
  try {
    const ready = await Promise.all(children.map(async (c) => (await c.lines.next()).value as string | undefined));
    expect(ready).toEqual(specs.map(() => 'ready'));
    for (const c of children) c.child.stdin!.write('go\n');
    const results = await Promise.all(children.map(async (c) => JSON.parse(String((await c.lines.next()).value)) as WorkerResult));
    await Promise.all(children.map((c) => c.exited));
    return results;
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill();
  }
}

export function crossProcessSuite(kind: Storage['kind'], newDatabase: () => Promise<CrossProcessDatabase>): void {
  describe(`${kind} storage across processes`, () => {
    let worker: { script: string; dir: string };

    beforeAll(async () => {
      worker = await bundleWorker();
    }, 120_000);
    afterAll(async () => {
      if (worker) await rm(worker.dir, { recursive: true, force: true });
    });

    // The race is narrow (SQLite refuses one of two simultaneous switches to WAL at once, without waiting), so the
    // test opens several fresh databases: before the fix, one round in about 20 failed.
    it('three processes opening a fresh database at once each migrate it safely, in each of 8 rounds', async () => {
      for (let round = 0; round < 8; round += 1) {
        const db = await newDatabase();
        try {
          const results = await runTogether(worker.script, [1, 2, 3].map(() => ({ mode: 'open' as const, target: db.target })));
          expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
          const storage = await db.open();
          const key = makeKey();
          await storage.createKey(key, makeVersion(key.id, 1));
          expect(await storage.getKey(key.id)).toEqual(key);
        } finally {
          await db.dispose();
        }
      }
    }, 60_000);

    it('of 20 rotations from the same expectedCurrent in two processes, exactly one wins', async () => {
      const db = await newDatabase();
      try {
        const storage = await db.open();
        const key = makeKey();
        await storage.createKey(key, makeVersion(key.id, 1));
        const results = await runTogether(worker.script, [1, 2].map(() => ({ mode: 'cas' as const, target: db.target, keyId: key.id, attempts: 10 })));
        expect(results.every((r) => r.ok)).toBe(true);
        expect(results.reduce((n, r) => n + r.wins!, 0)).toBe(1);
        expect((await storage.listVersions(key.id)).map((v) => v.version)).toEqual([1, 2]);
      } finally {
        await db.dispose();
      }
    });

    it('two processes rotating 10 times each with retry leave versions 1..21 without gaps', async () => {
      const db = await newDatabase();
      try {
        const storage = await db.open();
        const key = makeKey({ id: randomUUID() });
        await storage.createKey(key, makeVersion(key.id, 1, { wrapped: randomBytes(60) }));
        const results = await runTogether(worker.script, [1, 2].map(() => ({ mode: 'rotate' as const, target: db.target, keyId: key.id, rotations: 10 })));
        expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
        const added = results.flatMap((r) => r.added!).sort((a, b) => a - b);
        expect(added).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
        expect((await storage.listVersions(key.id)).map((v) => v.version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
        expect((await storage.getKey(key.id))!.currentVersion).toBe(21);
      } finally {
        await db.dispose();
      }
    });
  });
}
