// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
// Not part of `npm test`. Needs a build (`npm run build`, done by `npm ci`).
import { benchHttpEncrypt } from './http-encrypt.js';
import { benchInProcess } from './in-process.js';
import { benchAuditAppend } from './audit-append.js';

console.log(`DataDefender benchmarks — node ${process.version}, ${new Date().toISOString()}`);
await benchInProcess();
await benchAuditAppend();
await benchHttpEncrypt();
