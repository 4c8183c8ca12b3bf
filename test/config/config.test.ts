import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';

describe('server configuration', () => {
  it('has secure defaults and is frozen', () => {
    const c = loadServerConfig({ dev: true }, {});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8443, region: 'us-east-1', defaultRotationPeriodDays: 180, metadataCacheMs: 1000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes flags over environment over defaults, and parses IPv6 listeners', () => {
    const env = { DATADEFENDER_LISTEN: '127.0.0.1:9000', DATADEFENDER_REGION: 'eu-west-1', DATADEFENDER_JOB_BATCH_SIZE: '10' };
    const c = loadServerConfig({ dev: true, listen: '[::1]:9443' }, env);
    expect(c).toMatchObject({ host: '::1', port: 9443, region: 'eu-west-1', jobBatchSize: 10 });
  });

  it('refuses to start without dev mode, and lists every invalid setting', () => {
    expect(() => loadServerConfig({}, {})).toThrow(/only dev mode/);
    let message = '';
    try {
      loadServerConfig({ dev: true, listen: 'nowhere' }, { DATADEFENDER_ACCOUNT_ID: '12', DATADEFENDER_DEFAULT_ROTATION_DAYS: '30', DATADEFENDER_TLS_CERT_FILE: '/x' });
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ code: 'ERR_VALIDATION' });
    }
    expect(message).toContain('listen');
    expect(message).toContain('accountId');
    expect(message).toContain('defaultRotationPeriodDays');
    expect(message).toContain('tlsCertFile');
    expect(() => loadServerConfig({ dev: true, listen: '127.0.0.1:70000' }, {})).toThrow(/port out of range/);
  });
});
