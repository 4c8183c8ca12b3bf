// Seeds a key population fast for benchmarks: `seedKeys({ dataDir, storage, count })` creates `count` keys in the
// data dir's SQLite database (storage 'sqlite') or in a PostgreSQL database (storage { postgresUrl, schema? }), through
// the storage adapter's bulk path (multi-row INSERTs, one transaction per batch) — not one API call per key.
// Each key is what CreateKey makes with no options (symmetric, Enabled, default key policy, so the dev server's
// data engineers may use it); its material is generated from the CSPRNG and wrapped by the data dir's root of trust
// (the dev `local` root, created if missing, through the root ring as the server does) with AAD binding key id and
// version, by the same core function as CreateKey. Start `datadefender server --dev --data-dir <dataDir>` (with
// `--database-url` for PostgreSQL) on the same data dir afterwards, or while it runs. No audit events are written.
// Needs a build (npm run build).
import { mkdir } from 'node:fs/promises';
import { ROOT } from './http-load.js';

const dist = (path) => import(new URL(`dist/${path}`, `file://${ROOT}`).href);

/** A uniform random sample of at most `size` items of a stream (reservoir sampling, Algorithm R). */
function reservoir(size) {
  const items = [];
  let seen = 0;
  return {
    items,
    add(item) {
      seen++;
      if (items.length < size) items.push(item);
      else {
        const j = Math.floor(Math.random() * seen);
        if (j < size) items[j] = item;
      }
    },
  };
}

/**
 * Creates `count` keys and returns `{ count, seconds, rate, sample, dataDir, storage }`: `sample` is a uniform random
 * sample of at most `sampleSize` (default 10,000) of the new key ids (pass `sampleSize: count` for all of them), `rate`
 * keys per second. `batchSize`: keys per transaction (default 10,000). `onProgress(created)` after each batch.
 */
export async function seedKeys({ dataDir, storage = 'sqlite', count, sampleSize = 10_000, batchSize, onProgress }) {
  const [{ loadServerConfig, dataPaths }, { openConfiguredRoot }, { createRootBackends }, { createRootRing }, { createKeyMaterial }, { createMaterialCache }, { seedKeys: seed }, { systemClock }, sqlite, postgres] =
    await Promise.all([
      dist('config/config.js'),
      dist('roots.js'),
      dist('root-backends.js'),
      dist('core/root-ring.js'),
      dist('core/key-material.js'),
      dist('core/material-cache.js'),
      dist('core/key-seeding.js'),
      dist('ports/clock.js'),
      dist('adapters/storage/sqlite/index.js'),
      dist('adapters/storage/postgres/index.js'),
    ]);
  const postgresUrl = storage === 'sqlite' ? undefined : storage.postgresUrl;
  const config = loadServerConfig({ dev: true, dataDir, ...(postgresUrl ? { databaseUrl: postgresUrl } : {}) }, storage === 'sqlite' || !storage.schema ? {} : { DATADEFENDER_DATABASE_SCHEMA: storage.schema });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const opened = await openConfiguredRoot(config);
  const store = postgresUrl
    ? await postgres.openPostgresStorage({ connectionString: postgresUrl, schema: config.databaseSchema })
    : await sqlite.openSqliteStorage({ file: dataPaths(config).sqliteFile });
  const backends = createRootBackends(config, { configured: opened });
  try {
    const root = createRootRing({ storage: store, backends, clock: systemClock, kind: opened.root.kind });
    const material = createKeyMaterial({ root, storage: store, cache: createMaterialCache({ maxEntries: 0, ttlMs: 0 }) });
    const sample = reservoir(sampleSize);
    let created = 0;
    const started = process.hrtime.bigint();
    await seed(
      { storage: store, material, clock: systemClock, defaultRotationPeriodDays: config.defaultRotationPeriodDays },
      {
        count,
        ...(batchSize ? { batchSize } : {}),
        description: 'seeded',
        onBatch(ids) {
          for (const id of ids) sample.add(id);
          created += ids.length;
          onProgress?.(created);
        },
      },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { count: created, seconds, rate: created / seconds, sample: sample.items, dataDir: config.dataDir, storage: postgresUrl ? 'postgres' : 'sqlite' };
  } finally {
    await store.close();
    await backends.close();
    await opened.close();
  }
}
