// The dev-mode `local` root of trust against the RootOfTrust contract.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { rootOfTrustContract } from './root-of-trust-contract.js';

rootOfTrustContract('local (dev key file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dd-root-local-'));
  return { root: await openLocalRootOfTrust(join(dir, 'root.key')), close: () => rm(dir, { recursive: true, force: true }) };
});
