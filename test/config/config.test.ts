import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DEFAULT_DUAL_CONTROL_OPERATIONS, loadServerConfig, rootOf } from '../../src/config/config.js';

describe('server configuration', () => {
  it('has secure defaults and is frozen', () => {
    const c = loadServerConfig({ dev: true }, {});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8443, region: 'us-east-1', defaultRotationPeriodDays: 180, metadataCacheMs: 1000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('runs one worker per core unless told otherwise', () => {
    expect(loadServerConfig({ dev: true }, {}).workers).toBe(availableParallelism());
    expect(loadServerConfig({ dev: true }, { DATADEFENDER_WORKERS: '1' }).workers).toBe(1);
  });

  it('takes flags over environment over defaults, and parses IPv6 listeners', () => {
    const env = { DATADEFENDER_LISTEN: '127.0.0.1:9000', DATADEFENDER_REGION: 'eu-west-1', DATADEFENDER_JOB_BATCH_SIZE: '10' };
    const c = loadServerConfig({ dev: true, listen: '[::1]:9443' }, env);
    expect(c).toMatchObject({ host: '::1', port: 9443, region: 'eu-west-1', jobBatchSize: 10 });
  });

  it('keeps the local root for dev mode, and lists every invalid setting', () => {
    expect(() => loadServerConfig({}, { DATADEFENDER_ROOT_OF_TRUST: 'local' })).toThrow(/dev mode only/);
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

  it('leaves dual control off by default and reads it from the environment', () => {
    expect(loadServerConfig({ dev: true }, {}).dualControl).toBe(false);
    const on = loadServerConfig({ dev: true }, { DATADEFENDER_DUAL_CONTROL: 'on', DATADEFENDER_DUAL_CONTROL_OPERATIONS: 'DisableKey, PutKeyPolicy', DATADEFENDER_APPROVAL_TTL_SECONDS: '600' });
    expect(on).toMatchObject({ dualControl: true, dualControlOperations: ['DisableKey', 'PutKeyPolicy'], approvalTtlSeconds: 600 });
    expect(loadServerConfig({ dev: true, dualControl: true }, {}).dualControlOperations).toEqual([...DEFAULT_DUAL_CONTROL_OPERATIONS]);
    expect(() => loadServerConfig({ dev: true }, { DATADEFENDER_DUAL_CONTROL: 'maybe' })).toThrow(/dualControl/);
    expect(() => loadServerConfig({ dev: true }, { DATADEFENDER_APPROVAL_TTL_SECONDS: '5' })).toThrow(/approvalTtlSeconds/);
    expect(() => loadServerConfig({ dev: true }, { DATADEFENDER_DUAL_CONTROL_OPERATIONS: 'Disable Key' })).toThrow(/dualControlOperations/);
  });

  it('accepts the production template: dual control on, an HSM root, workers, mutual TLS, verified database TLS', () => {
    const env = Object.fromEntries(
      readFileSync(new URL('../../config/production.env', import.meta.url), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const config = loadServerConfig({}, env);
    expect(config.dualControl).toBe(true);
    expect(config.dualControlOperations).toEqual([...DEFAULT_DUAL_CONTROL_OPERATIONS]);
    expect(config.databaseUrl).toMatch(/^postgres:.*sslmode=verify-full/);
    expect([rootOf(config), config.workers, config.tlsClientAuth]).toEqual(['pkcs11', 4, 'required']);
  });

  it('picks the root of trust: local in dev mode, local-sealed otherwise, and checks each adapter\'s settings', () => {
    expect(rootOf(loadServerConfig({ dev: true }, {}))).toBe('local');
    expect(rootOf(loadServerConfig({}, {}))).toBe('local-sealed');
    const pkcs11 = { DATADEFENDER_ROOT_OF_TRUST: 'pkcs11', DATADEFENDER_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so', DATADEFENDER_PKCS11_KEY_LABEL: 'root' };
    expect(() => loadServerConfig({}, pkcs11)).toThrow(/exactly one of pkcs11TokenLabel and pkcs11Slot/);
    expect(() => loadServerConfig({}, { ...pkcs11, DATADEFENDER_PKCS11_TOKEN_LABEL: 'dd' })).toThrow(/PIN from exactly one/);
    const ok = loadServerConfig({}, { ...pkcs11, DATADEFENDER_PKCS11_SLOT: '0', DATADEFENDER_PKCS11_PIN_ENV: 'HSM_PIN' });
    expect(ok).toMatchObject({ rootOfTrust: 'pkcs11', pkcs11Slot: 0, pkcs11PinEnv: 'HSM_PIN' });
    expect(() => loadServerConfig({}, { DATADEFENDER_ROOT_OF_TRUST: 'aws-kms' })).toThrow(/awsKmsKeyId/);
    expect(() => loadServerConfig({}, { DATADEFENDER_ROOT_OF_TRUST: 'aws-kms', DATADEFENDER_AWS_KMS_KEY_ID: 'alias/root', DATADEFENDER_AWS_KMS_ENDPOINT: 'http://kms' })).toThrow(/https/);
    expect(() => loadServerConfig({}, { DATADEFENDER_ROOT_OF_TRUST: 'vault' })).toThrow(/rootOfTrust/);
  });
});
