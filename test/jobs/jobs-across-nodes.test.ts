/**
 * Two server processes (two "nodes") on one PostgreSQL database compete for the job lease: exactly one leads, due
 * keys are rotated exactly once (one RotateKey attempt per key in the audit trail), and when the leader stops the
 * other takes over and runs the jobs. PostgreSQL must be reachable: when it is not, this fails; it never skips.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { restClient } from '../helpers/rest-client.js';

const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('jobs across two nodes on one PostgreSQL', () => {
  const schema = `dd_jobs_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  let dir: string;
  let nodes: DevServer[] = [];
  let client: pg.Client;
  const leaders = async () => Promise.all(nodes.map(async (n) => (await restClient(n.credentials)('GET', '/v1/health')).body.jobLeader as boolean));
  const attempts = async (keyIds: string[]) => {
    const { rows } = await client.query<{ resource: string; n: string }>(
      `select resource, count(*) as n from "${schema}".audit_events where event_name = 'RotateKey' and outcome = 'attempt' group by resource`,
    );
    return keyIds.map((id) => Number(rows.find((r) => r.resource.endsWith(id))?.n ?? 0));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-jobs-pg-'));
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const env = {
      DATADEFENDER_DATABASE_URL: PG_URL,
      DATADEFENDER_DATABASE_SCHEMA: schema,
      DATADEFENDER_JOB_INTERVAL_SECONDS: '1',
      DATADEFENDER_JOB_LEASE_MS: '2000',
      DATADEFENDER_JOB_LEASE_RENEW_MS: '500',
    };
    nodes = [await startDevServer(dir, { env }), await startDevServer(dir, { env })];
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await client?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client?.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('one node leads; due keys are rotated exactly once; the other node takes over when the leader stops', async () => {
    expect((await leaders()).sort()).toEqual([false, true]);
    const rest = restClient(nodes[0]!.credentials);
    const create = async () => (await rest('POST', '/v1/keys', {})).body.key.keyId as string;
    const first = await Promise.all(Array.from({ length: 6 }, create));
    await client.query(`update "${schema}".keys set next_rotation_at = $1 where id = any($2)`, [Date.now() - 1000, first]);
    await expect.poll(async () => attempts(first), { timeout: 10_000, interval: 250 }).toEqual(Array(6).fill(1));
    await new Promise((r) => setTimeout(r, 2_500)); // more passes on both nodes: nothing more happens
    expect(await attempts(first)).toEqual(Array(6).fill(1));
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from "${schema}".key_versions where key_id = any($1)`, [first]);
    expect(Number(rows[0]!.n)).toBe(12);

    const leader = (await leaders()).indexOf(true);
    const follower = nodes[1 - leader]!;
    const second = await Promise.all(Array.from({ length: 3 }, create));
    await nodes[leader]!.stop();
    nodes = [follower];
    // A clean stop releases the lease: the follower takes it at its next renewal attempt.
    await expect.poll(leaders, { timeout: 5_000, interval: 100 }).toEqual([true]);
    await client.query(`update "${schema}".keys set next_rotation_at = $1 where id = any($2)`, [Date.now() - 1000, second]);
    await expect.poll(async () => attempts(second), { timeout: 10_000, interval: 250 }).toEqual(Array(3).fill(1));
  });
});
