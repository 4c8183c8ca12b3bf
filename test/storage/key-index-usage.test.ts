/**
 * Every lookup on the Encrypt path is an index lookup, on SQLite and PostgreSQL (issue #8 item 2: key lookup, alias
 * resolution and authorization stay O(log n) in the number of keys, aliases and grants). The SQL is captured from the
 * real adapter while the key service encrypts (by key id, by alias, through a grant, with cold caches) and while the
 * lookups the path can make are called (versions of a key, grants of a key for a grantee, aliases of a key); each
 * captured SELECT is then explained with its own parameters (and so are the authentication lookups every request
 * makes first: token by hash, access key by id, principal by id with its attached policies):
 * - SQLite: EXPLAIN QUERY PLAN shows a SEARCH through the primary key or an index for every table, never a SCAN;
 * - PostgreSQL: EXPLAIN (FORMAT JSON) shows, for every table, an index scan with an index condition (a search, not a
 *   full scan of an index). Every key has an alias and a grant (3,000 of each, analysed), so that the planner sees
 *   tables where a sequential scan is not the cheap choice it is over a handful of rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { makeGrant } from './storage-contract.js';
import { PG_URL, SCOPE, engineer, openPopulation, type Engine, type Population } from './key-population.js';

interface Captured {
  sql: string;
  params: unknown[];
}

const TABLES = ['keys', 'key_versions', 'aliases', 'grants', 'tokens', 'access_keys', 'principals', 'principal_policies'] as const;
const APP_ARN = `arn:aws:iam::${SCOPE.accountId}:role/payments`;

/** Records the SQL (and parameters) the storage adapter runs, by hooking the driver's entry point. */
function captureSql(engine: Engine): { stop(): Captured[] } {
  const seen: Captured[] = [];
  if (engine === 'sqlite') {
    const proto = Database.prototype as unknown as { prepare(sql: string): Database.Statement };
    const original = proto.prepare;
    proto.prepare = function (this: Database.Database, sql: string) {
      const statement = original.call(this, sql);
      for (const method of ['get', 'all', 'run'] as const) {
        const run = statement[method].bind(statement) as (...params: unknown[]) => unknown;
        (statement as unknown as Record<string, unknown>)[method] = (...params: unknown[]) => {
          seen.push({ sql, params });
          return run(...params);
        };
      }
      return statement;
    };
    return {
      stop: () => {
        proto.prepare = original;
        return seen;
      },
    };
  }
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    if (typeof args[0] === 'string') seen.push({ sql: args[0], params: (args[1] as unknown[] | undefined) ?? [] });
    return original.apply(this, args);
  };
  return {
    stop: () => {
      proto.query = original;
      return seen;
    },
  };
}

/** The captured SELECTs on the key tables, one per distinct SQL text. */
function keySelects(captured: Captured[]): Captured[] {
  const byText = new Map<string, Captured>();
  for (const c of captured) {
    if (!/^\s*select/i.test(c.sql) || !TABLES.some((t) => c.sql.includes(`"${t}"`))) continue;
    if (!byText.has(c.sql)) byText.set(c.sql, c);
  }
  return [...byText.values()];
}

/** The lookups the brief names, each matched by its SQL shape. */
const REQUIRED: Record<string, RegExp> = {
  'key by id': /from "keys" where "id" = /,
  'alias by name': /from "aliases" where "name" = /,
  'key version by key and version': /from "key_versions" where "key_id" = \S+ and "version" = /,
  'versions of a key': /from "key_versions" where "key_id" = \S+ order by "version"/,
  'grants of a key for a grantee': /from "grants" where "key_id" = \S+ and "grantee_principal" = /,
  'aliases of a key': /from "aliases" where "key_id" = /,
  // Authentication, before every request: the caller's token or access key, then the principal with its policies.
  'token by hash': /from "tokens" where "hash" = /,
  'access key by id': /from "access_keys" where "id" = /,
  'principal by id with its policies': /"principal_policies"\."principal_id" = "principals"\."id".* from "principals" where "principals"\."id" = /,
};

/**
 * An alias and a grant (to another principal) for every key, and as many principals with a token, an access key and
 * an attached policy each, in one statement per table: realistic table sizes (an empty or tiny table is scanned, which is cheaper).
 */
async function populateLookupTables(p: Population): Promise<void> {
  const sqlite = p.engine === 'sqlite';
  const grantId = sqlite ? `lower(hex(randomblob(32)))` : `md5(id) || md5(id || 'g')`;
  const tokenHash = sqlite ? `lower(hex(randomblob(32)))` : `md5(id) || md5(id || 't')`;
  const accessKeyId = sqlite ? `'DDAK' || upper(hex(randomblob(8)))` : `'DDAK' || upper(substr(md5(id || 'a'), 1, 16))`;
  const secret = sqlite ? `randomblob(60)` : `decode(md5(id) || md5(id || 's'), 'hex')`;
  const statements = [
    `insert into principals (id, name, kind, arn, roles, tags, disabled, created_at, updated_at)
     select id, 'p-' || id, 'user', 'arn:aws:iam::${SCOPE.accountId}:user/p-' || id, '[]', '{}', 0, 0, 0 from keys`,
    `insert into policies (name, description, document, created_at, updated_at) values ('attached', '', '{}', 0, 0)`,
    `insert into principal_policies (principal_id, policy_name) select id, 'attached' from principals`,
    `insert into tokens (hash, accessor, principal_id, created_at, expires_at) select ${tokenHash}, 'acc-' || id, id, 0, null from principals`,
    `insert into access_keys (id, principal_id, secret_wrapped, status, created_at, expires_at) select ${accessKeyId}, id, ${secret}, 'Active', 0, null from principals`,
    `insert into aliases (name, key_id, created_at, updated_at) select 'alias/k-' || id, id, 0, 0 from keys`,
    `insert into grants (id, key_id, name, grantee_principal, retiring_principal, operations, constraints, issued_by, created_at)
     select ${grantId}, id, null, 'arn:aws:iam::${SCOPE.accountId}:role/other', null, '["Decrypt"]', null, 'arn:aws:iam::${SCOPE.accountId}:user/admin', 0 from keys`,
  ];
  if (p.engine === 'sqlite') {
    const db = new Database(join(p.dir, 'datadefender.db'));
    try {
      for (const sql of statements) db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${p.schema}` });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
    await client.query('analyze');
  } finally {
    await client.end();
  }
}

async function exerciseEncryptPath(p: Population, ids: string[]): Promise<Captured[]> {
  const [byId, byAlias, byGrant] = ids as [string, string, string];
  await populateLookupTables(p);
  const now = new Date();
  await p.storage.createAlias({ name: 'alias/payments', keyId: byAlias, createdAt: now, updatedAt: now });
  await p.storage.createGrant(makeGrant(byGrant, { granteePrincipal: APP_ARN, operations: ['Encrypt'] }));
  const capture = captureSql(p.engine);
  try {
    const service = p.service();
    const plaintext = new Uint8Array(Buffer.from('4111 1111 1111 1111'));
    await service.crypto.encrypt(engineer(), { keyId: byId, plaintext });
    await service.crypto.encrypt(engineer(), { keyId: 'alias/payments', plaintext });
    // The application role allows nothing by policy: Encrypt is allowed only by the grant, so grants are read.
    const app = { ...engineer(), caller: { principalId: 'payments', arn: APP_ARN, roles: ['application'], credential: 'token:test' } };
    await service.crypto.encrypt(app, { keyId: byGrant, plaintext });
    await p.storage.listVersions(byId);
    await p.storage.listAliases({ keyId: byAlias, limit: 50 });
    await p.storage.getToken('0'.repeat(64));
    await p.storage.getAccessKey('DDAKNOTAREALKEY00000');
    await p.storage.getPrincipal('00000000-0000-4000-8000-000000000000');
  } catch (err) {
    capture.stop();
    throw err;
  }
  return keySelects(capture.stop());
}

function expectAllRequired(selects: Captured[]): void {
  for (const [what, shape] of Object.entries(REQUIRED)) {
    expect(selects.some((s) => shape.test(s.sql)), `${what}: no such query captured in\n${selects.map((s) => s.sql).join('\n')}`).toBe(true);
  }
}

describe('index usage on the Encrypt path: SQLite', () => {
  let p: Population;
  let selects: Captured[];
  beforeAll(async () => {
    p = await openPopulation('sqlite');
    selects = await exerciseEncryptPath(p, await p.seed(3000));
  });
  afterAll(async () => {
    await p?.close();
  });

  it('captures every lookup the brief names', () => {
    expectAllRequired(selects);
  });

  it('searches through the primary key or an index in every query, never scans', () => {
    const db = new Database(join(p.dir, 'datadefender.db'), { readonly: true });
    try {
      for (const { sql, params } of selects) {
        const plan = db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[];
        const details = plan.map((row) => row.detail);
        expect(details.length, sql).toBeGreaterThan(0);
        for (const detail of details) {
          expect(detail, `${sql}\n${details.join('\n')}`).not.toMatch(/^SCAN /);
          if (/^SEARCH /.test(detail)) expect(detail, sql).toMatch(/USING (INTEGER PRIMARY KEY|PRIMARY KEY|INDEX|COVERING INDEX) /);
        }
        const searched = details.filter((d) => /^SEARCH /.test(d)).map((d) => d.split(' ')[1]);
        expect(searched.length, `${sql}\n${details.join('\n')}`).toBeGreaterThan(0);
        expect(searched.every((t) => (TABLES as readonly string[]).includes(t!)), sql).toBe(true);
      }
    } finally {
      db.close();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

interface Scan {
  type: string;
  relation: string;
  index?: string;
  cond?: string;
}

/** The scans of a plan: one per relation read, with the index and index condition that read it. */
function scansOf(node: PlanNode, out: Scan[] = []): Scan[] {
  const children = node.Plans ?? [];
  if (node['Relation Name']) {
    // A bitmap heap scan reads its relation through its Bitmap Index Scan child, which holds the condition.
    const bitmap = node['Node Type'] === 'Bitmap Heap Scan' ? children.find((c) => c['Node Type'] === 'Bitmap Index Scan') : undefined;
    const source = bitmap ?? node;
    out.push({
      type: node['Node Type'],
      relation: node['Relation Name'],
      ...(source['Index Name'] ? { index: source['Index Name'] } : {}),
      ...(source['Index Cond'] ? { cond: source['Index Cond'] } : {}),
    });
  }
  for (const child of children) scansOf(child, out);
  return out;
}

const INDEX_SCANS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);

describe('index usage on the Encrypt path: PostgreSQL', () => {
  let p: Population;
  let selects: Captured[];
  let client: pg.Client;
  beforeAll(async () => {
    p = await openPopulation('postgres');
    selects = await exerciseEncryptPath(p, await p.seed(3000));
    client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${p.schema}` });
    await client.connect();
    await client.query('analyze');
  });
  afterAll(async () => {
    await client?.end();
    await p?.close();
  });

  it('captures every lookup the brief names', () => {
    expectAllRequired(selects);
  });

  it('searches an index with a condition in every query, never scans a table', async () => {
    for (const { sql, params } of selects) {
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (format json) ${sql}`, params);
      const scans = scansOf(rows[0]!['QUERY PLAN'][0].Plan);
      expect(scans.length, sql).toBeGreaterThan(0);
      for (const scan of scans) {
        expect(INDEX_SCANS.has(scan.type), `${sql}: ${JSON.stringify(scans)}`).toBe(true);
        expect(scan.cond, `${sql}: ${JSON.stringify(scans)}`).toMatch(/ = /);
        expect((TABLES as readonly string[]).includes(scan.relation), sql).toBe(true);
      }
    }
  });
});
