// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
// `npm run bench -- authorization` (or in-process, audit-append, audit-chain, http-encrypt, http-encrypt-workers, pkcs11-wrap, root-encrypt, mtls, open-loop, jobs-at-scale) runs only the ones named.
// `npm run bench -- million-keys` runs the 1k-vs-1M keys benchmark (BENCH_MILLION_KEYS scales the million down).
// `npm run bench -- --seed-keys N [--data-dir DIR] [--database-url URL]` only seeds N keys into a data dir (and its
// SQLite file, or the PostgreSQL database) through the storage's bulk path, and prints where and how fast.
// Not part of `npm test`. Needs a build (`npm run build`, done by `npm ci`).
import { availableParallelism } from 'node:os';
import { benchHttpEncrypt } from './http-encrypt.js';
import { benchInProcess } from './in-process.js';
import { benchAuditAppend } from './audit-append.js';
import { benchAuditChain } from './audit-chain.js';
import { benchAuthorization } from './authorization.js';
import { benchPkcs11Wrap } from './pkcs11-wrap.js';
import { benchRootEncrypt } from './root-encrypt.js';
import { benchMtls } from './mtls.js';
import { benchOpenLoop } from './open-loop.js';
import { benchMillionKeys } from './million-keys.js';
import { seedKeys } from './seed-keys.js';
import { fmt } from './stats.js';
import { benchJobsAtScale } from './jobs-at-scale.js';

const BENCHMARKS = {
  'in-process': benchInProcess,
  'audit-append': benchAuditAppend,
  'audit-chain': benchAuditChain,
  'http-encrypt': () => benchHttpEncrypt(1),
  'http-encrypt-workers': () => benchHttpEncrypt(availableParallelism()),
  authorization: benchAuthorization,
  'pkcs11-wrap': benchPkcs11Wrap,
  'root-encrypt': benchRootEncrypt,
  mtls: benchMtls,
  'open-loop': benchOpenLoop,
  'million-keys': benchMillionKeys,
  'jobs-at-scale': benchJobsAtScale,
};

/** `--seed-keys N [--data-dir DIR] [--database-url URL]`: the options, or null when not seeding. */
function seedOptions(args) {
  const at = args.indexOf('--seed-keys');
  if (at === -1) return null;
  const value = (flag) => {
    const i = args.indexOf(flag);
    return i === -1 ? undefined : args[i + 1];
  };
  const count = Number(args[at + 1]);
  if (!Number.isSafeInteger(count) || count < 1) {
    console.error('usage: npm run bench -- --seed-keys N [--data-dir DIR] [--database-url postgres://...]');
    process.exit(2);
  }
  const url = value('--database-url');
  return { count, dataDir: value('--data-dir') ?? `./bench-keys-${count}`, storage: url ? { postgresUrl: url } : 'sqlite' };
}

const seeding = seedOptions(process.argv.slice(2));
if (seeding) {
  const step = Math.max(1, Math.floor(seeding.count / 10));
  let shown = 0;
  const onProgress = (n) => {
    if (n - shown < step && n !== seeding.count) return;
    console.log(`  ${fmt(n)} keys`);
    shown = n;
  };
  const r = await seedKeys({ ...seeding, sampleSize: 0, onProgress });
  const where = r.storage === 'sqlite' ? `${r.dataDir}/datadefender.db` : `PostgreSQL (root key in ${r.dataDir})`;
  console.log(`Seeded ${fmt(r.count)} keys into ${where} in ${r.seconds.toFixed(1)} s: ${fmt(r.rate)} keys/s.`);
  console.log(`Serve them: npx datadefender server --dev --data-dir ${r.dataDir}${r.storage === 'postgres' ? ' --database-url <URL>' : ''}`);
  process.exit(0);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !Object.hasOwn(BENCHMARKS, name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
console.log(`DataDefender benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, run] of Object.entries(BENCHMARKS)) if (wanted.length === 0 || wanted.includes(name)) await run();
