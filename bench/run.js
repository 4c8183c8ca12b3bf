// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
// `npm run bench -- authorization` (or in-process, audit-append, audit-chain, http-encrypt, http-encrypt-workers, pkcs11-wrap, root-encrypt, mtls, open-loop) runs only the ones named.
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
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !Object.hasOwn(BENCHMARKS, name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
console.log(`DataDefender benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, run] of Object.entries(BENCHMARKS)) if (wanted.length === 0 || wanted.includes(name)) await run();
