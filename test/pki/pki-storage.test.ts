/**
 * The PkiStorage queries (migration 0008) on both engines: CA generations, the certificate inventory, revocation at
 * most once, and filters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import type { CertificateAuthorityRecord, IssuedCertificateRecord } from '../../src/ports/pki-storage.js';
import type { Storage } from '../../src/ports/storage.js';

const t = (s: number) => new Date(1_800_000_000_000 + s * 1000);
const ca: CertificateAuthorityRecord = {
  id: 'ca-1', kind: 'root', state: 'active', commonName: 'Root', certPem: 'CERT', chainPem: '', csrPem: null,
  wrappedKey: new Uint8Array([1, 2, 3]), notAfter: t(1000), createdAt: t(0), updatedAt: t(0),
};
const cert = (serial: string, at: number): IssuedCertificateRecord => ({
  serial, caId: 'ca-1', profile: 'client', commonName: 'alice', subjectAltNames: ['dns:a.example'], principalId: null,
  fingerprint: `fp-${serial}`, notBefore: t(at), notAfter: t(at + 100), certPem: 'PEM', revokedAt: null, revocationReason: null, createdAt: t(at),
});

const engines: [string, () => Promise<{ storage: Storage; close: () => Promise<void> }>][] = [
  ['sqlite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dd-pki-store-'));
    const storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
    return { storage, close: async () => { await storage.close(); await rm(dir, { recursive: true, force: true }); } };
  }],
  ['postgres', async () => {
    const schema = `dd_pki_${process.pid}_${Date.now().toString(36)}`;
    const storage = await openPostgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema });
    return {
      storage,
      close: async () => {
        await storage.close();
        const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      },
    };
  }],
];

describe.each(engines)('PkiStorage on %s', (_name, open) => {
  let opened: Awaited<ReturnType<typeof open>>;
  afterAll(async () => opened?.close());

  it('stores CAs, certificates and revocations', async () => {
    opened = await open();
    const { storage } = opened;
    await storage.createCertificateAuthority(ca);
    await expect(storage.createCertificateAuthority(ca)).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect(await storage.listCertificateAuthorities()).toEqual([{ ...ca, wrappedKey: Buffer.from([1, 2, 3]) }]);
    expect(await storage.updateCertificateAuthority('ca-1', { state: 'retired', certPem: 'CERT2', chainPem: 'CHAIN', notAfter: null, updatedAt: t(5) })).toBe(true);
    expect(await storage.updateCertificateAuthority('nope', { state: 'retired', certPem: null, chainPem: '', notAfter: null, updatedAt: t(5) })).toBe(false);
    expect((await storage.listCertificateAuthorities())[0]).toMatchObject({ state: 'retired', certPem: 'CERT2', chainPem: 'CHAIN', notAfter: null });

    await storage.createIssuedCertificate(cert('0a', 1));
    await storage.createIssuedCertificate(cert('0b', 2));
    await expect(storage.createIssuedCertificate(cert('0a', 3))).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect(await storage.getIssuedCertificate('0a')).toEqual(cert('0a', 1));
    expect((await storage.listIssuedCertificates({ limit: 10 })).map((c) => c.serial)).toEqual(['0b', '0a']);
    expect(await storage.revokeIssuedCertificate('0a', t(9), 'keyCompromise')).toBe(true);
    expect(await storage.revokeIssuedCertificate('0a', t(10), 'superseded')).toBe(false);
    expect(await storage.getIssuedCertificate('0a')).toMatchObject({ revokedAt: t(9), revocationReason: 'keyCompromise' });
    expect((await storage.listIssuedCertificates({ limit: 10, caId: 'ca-1', revokedOnly: true })).map((c) => c.serial)).toEqual(['0a']);
    expect(await storage.listIssuedCertificates({ limit: 10, caId: 'other' })).toEqual([]);
    expect(() => storage.listIssuedCertificates({ limit: 0 })).toThrow();
  });
});
