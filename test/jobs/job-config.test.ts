// The jobs' settings: lease lifetime and renewal, batch pause — defaults, environment, and the renewal bound.
import { expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';

it('defaults to a 30 s lease renewed every 10 s and no pause between batches; reads the environment', () => {
  expect(loadServerConfig({ dev: true }, {})).toMatchObject({ jobLeaseMs: 30_000, jobLeaseRenewMs: 10_000, jobBatchPauseMs: 0 });
  const env = { DATADEFENDER_JOB_LEASE_MS: '2000', DATADEFENDER_JOB_LEASE_RENEW_MS: '500', DATADEFENDER_JOB_BATCH_PAUSE_MS: '25' };
  expect(loadServerConfig({ dev: true }, env)).toMatchObject({ jobLeaseMs: 2000, jobLeaseRenewMs: 500, jobBatchPauseMs: 25 });
});

it('refuses a renewal interval longer than half the lease (a holder must get two tries before it expires)', () => {
  expect(() => loadServerConfig({ dev: true }, { DATADEFENDER_JOB_LEASE_MS: '2000', DATADEFENDER_JOB_LEASE_RENEW_MS: '1500' })).toThrow(/jobLeaseRenewMs/);
});
