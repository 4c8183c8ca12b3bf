/**
 * PostgreSQL over verified TLS (sslmode=verify-full): the test turns on TLS in the local PostgreSQL
 * (127.0.0.1:5432) with a server certificate from the built-in CA (ALTER SYSTEM ssl, ssl_cert_file, ssl_key_file;
 * files owned by the postgres user) and, for a dedicated role only, requires it in pg_hba (`hostssl` trust,
 * `hostnossl` reject), so other tests' plain connections keep working. DataDefender's PostgreSQL storage then
 * connects with `?sslmode=verify-full&sslrootcert=<built-in CA>`; a plain connection, another CA and a host name
 * the certificate does not cover are refused. TLS stays on afterwards (nothing other tests rely on changes).
 */
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.js';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { context, coreFixture } from '../helpers/core-fixture.js';

const ROLE = 'dd_tls_test';
const PG_DIR = '/var/lib/postgresql/dd-tls';
const HBA_LINES = [
  `hostssl test ${ROLE} 127.0.0.1/32 trust   # datadefender test/tls/postgres-tls.test.ts`,
  `hostnossl test ${ROLE} 127.0.0.1/32 reject   # datadefender test/tls/postgres-tls.test.ts`,
];

async function superuser<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function sslOf(connectionString: string): Promise<{ ssl: boolean; version: string }> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query('select ssl, version from pg_stat_ssl where pid = pg_backend_pid()');
    return rows[0] as { ssl: boolean; version: string };
  } finally {
    await client.end();
  }
}

describe('PostgreSQL over verified TLS with a certificate from the built-in CA', () => {
  let dir: string;
  let caFile: string;
  let otherCaFile: string;
  let fx: Awaited<ReturnType<typeof coreFixture>>;
  const url = (host: string, params: string) => `postgres://${ROLE}@${host}:5432/test?${params}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-pgtls-'));
    fx = await coreFixture();
    fx.clock.advanceDays((Date.now() - fx.clock.now().getTime()) / 86_400_000);
    const ca = createCertificateAuthority({ storage: fx.storage, root: await openLocalRootOfTrust(join(dir, 'root.key')), run: fx.service.run, clock: fx.clock });
    const admin = context(['administrator']);
    await ca.init(admin, { kind: 'root', commonName: 'DataDefender Test CA' });
    const issued = await ca.issue(admin, { profile: 'server', hosts: ['127.0.0.1'] });
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, issued.chainPem);
    const other = await createRootCa({ commonName: 'DataDefender Test CA', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    otherCaFile = join(dir, 'other-ca.pem');
    await writeFile(otherCaFile, other.certPem);

    await mkdir(PG_DIR, { recursive: true, mode: 0o700 });
    await writeFile(join(PG_DIR, 'server.crt'), `${issued.certificatePem}${issued.chainPem}`, { mode: 0o644 });
    await writeFile(join(PG_DIR, 'server.key'), issued.privateKeyPem!, { mode: 0o600 });
    const { uid, gid } = await import('node:fs/promises').then((fs) => fs.stat('/var/lib/postgresql'));
    for (const f of [PG_DIR, join(PG_DIR, 'server.crt'), join(PG_DIR, 'server.key')]) await chown(f, uid, gid);
    await chmod(join(PG_DIR, 'server.key'), 0o600);

    await superuser(async (c) => {
      const hbaFile = (await c.query('show hba_file')).rows[0].hba_file as string;
      const hba = await readFile(hbaFile, 'utf8');
      if (!hba.includes(HBA_LINES[0]!)) await writeFile(hbaFile, `${HBA_LINES.join('\n')}\n${hba}`);
      const exists = await c.query('select 1 from pg_roles where rolname = $1', [ROLE]);
      if (exists.rowCount === 0) await c.query(`create role ${ROLE} login`);
      await c.query(`grant all on database test to ${ROLE}`);
      await c.query(`alter system set ssl_cert_file = '${PG_DIR}/server.crt'`);
      await c.query(`alter system set ssl_key_file = '${PG_DIR}/server.key'`);
      await c.query(`alter system set ssl_min_protocol_version = 'TLSv1.2'`);
      await c.query('alter system set ssl = on');
      await c.query('select pg_reload_conf()');
    });
    // The reload is asynchronous; wait until a verified TLS connection works (or fail below with the reason).
    for (let i = 0; i < 50; i++) {
      const ready = await sslOf(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`)).then(() => true, () => false);
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    await superuser((c) => c.query(`drop schema if exists ${ROLE} cascade`)).catch(() => undefined);
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('DataDefender storage connects with verify-full and TLS 1.3', async () => {
    const storage = await openPostgresStorage({ connectionString: url('127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`), schema: ROLE });
    try {
      expect(storage.kind).toBe('postgres');
      expect(await storage.listCertificateAuthorities()).toEqual([]);
    } finally {
      await storage.close();
    }
    expect(await sslOf(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`))).toEqual({ ssl: true, version: 'TLSv1.3' });
  });

  it('refuses a plain connection for the role (pg_hba hostnossl reject)', async () => {
    await expect(sslOf(url('127.0.0.1', 'sslmode=disable'))).rejects.toThrow(/pg_hba\.conf rejects connection|no encryption/);
  });

  it('refuses a server certificate from another CA', async () => {
    await expect(sslOf(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${otherCaFile}`))).rejects.toThrow(/certificate|signature/i);
  });

  it('refuses a host name the certificate does not cover (verify-full checks the name)', async () => {
    await expect(sslOf(url('localhost', `sslmode=verify-full&sslrootcert=${caFile}`))).rejects.toThrow(/Hostname|altnames|does not match|ECONNREFUSED/i);
  });
});
