// The `local-sealed` root of trust: the RootOfTrust contract once unsealed, then init, share handling (progress,
// nonces, duplicates, shares of other seals, mistyped and wrong shares), seal and unseal again, rekey, and what
// the seal file does and does not hold.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combine } from 'shamir-secret-sharing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSealedRoot, openSealedRoot, type LocalSealedRoot } from '../../src/adapters/root-of-trust/local-sealed/index.js';
import { parseSealFile, sealAad } from '../../src/adapters/root-of-trust/local-sealed/seal-file.js';
import { encodeShare, parseShare } from '../../src/adapters/root-of-trust/local-sealed/share-format.js';
import { SecretBytes, unwrapKey } from '../../src/crypto/index.js';
import { rootOfTrustContract } from './root-of-trust-contract.js';

const aad = (s: string) => Buffer.from(s, 'utf8');
let dir: string;
let counter = 0;
const newFile = () => join(dir, `seal-${++counter}.json`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-root-sealed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown> | (() => unknown)): Promise<{ code: string; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

/** Submits `shares` in order, each after the first with the attempt's nonce. */
async function unseal(root: LocalSealedRoot, shares: readonly string[]) {
  let status = root.status();
  for (const share of shares) status = await root.submitShare(share, status.nonce ?? undefined);
  return status;
}

async function fresh(shares: number, threshold: number) {
  const file = newFile();
  const issued = await initSealedRoot(file, { shares, threshold });
  return { file, shares: issued, root: await openSealedRoot(file) };
}

/** Every k-subset of [0, n). */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k), ...subsets(n - 1, k - 1).map((s) => [...s, n - 1])];
}

/** A share of the right format (valid checksum) whose y bytes are altered. */
function tampered(share: string, sealId: string): string {
  const parsed = parseShare(share);
  parsed.bytes[0]! ^= 0x01;
  return encodeShare(sealId, parsed.generation, parsed.bytes);
}

rootOfTrustContract('local-sealed (unsealed)', async () => {
  const { root, shares } = await fresh(5, 3);
  const status = await unseal(root, [shares[4]!, shares[0]!, shares[2]!]);
  expect(status.sealed).toBe(false);
  return { root, close: async () => root.seal() };
});

describe('local-sealed root of trust: init', () => {
  it('refuses nonsense share options and writes nothing', async () => {
    const bad = [
      { shares: 0, threshold: 0 },
      { shares: 256, threshold: 2 },
      { shares: 3, threshold: 4 },
      { shares: 3, threshold: 0 },
      { shares: 3, threshold: 1 },
      { shares: 2.5, threshold: 2 },
      { shares: 3, threshold: Number.NaN },
      { shares: '3', threshold: 2 },
    ];
    for (const options of bad) {
      const file = newFile();
      expect(await failure(initSealedRoot(file, options as never))).toMatchObject({ code: 'ERR_VALIDATION' });
      expect(await failure(stat(file))).toMatchObject({ code: 'ENOENT' });
    }
    expect(await failure(initSealedRoot('', { shares: 3, threshold: 2 }))).toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('writes a 0600 seal file describing the seal and returns N distinct shares naming it', async () => {
    const file = newFile();
    const before = Date.now();
    const shares = await initSealedRoot(file, { shares: 5, threshold: 3 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const seal = parseSealFile(await readFile(file, 'utf8'), file);
    expect(seal).toMatchObject({ format: 'datadefender-local-sealed', version: 1, generation: 1, threshold: 3, shares: 5, rekeyedAt: null });
    expect(Date.parse(seal.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(shares).toHaveLength(5);
    expect(new Set(shares).size).toBe(5);
    const prefix = seal.id.replace(/-/g, '').slice(0, 8);
    for (const share of shares) expect(share).toMatch(new RegExp(`^dds1\\.${prefix}\\.1\\.[A-Za-z0-9_-]{50}$`));
    const root = await openSealedRoot(file);
    expect(root.kind).toBe('local-sealed');
    expect(root.sealId).toBe(seal.id);
    expect(root.status()).toEqual({ sealed: true, threshold: 3, shares: 5, progress: 0, nonce: null });
  });

  it('refuses to overwrite an existing seal file', async () => {
    const file = newFile();
    await initSealedRoot(file, { shares: 3, threshold: 2 });
    const before = await readFile(file);
    expect(await failure(initSealedRoot(file, { shares: 3, threshold: 2 }))).toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect((await readFile(file)).equals(before)).toBe(true);
    const other = newFile();
    await writeFile(other, 'not a seal');
    expect(await failure(initSealedRoot(other, { shares: 1, threshold: 1 }))).toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect(await readFile(other, 'utf8')).toBe('not a seal');
  });

  it('never writes the root key or the unseal key into the seal file', async () => {
    const { file, shares, root } = await fresh(3, 2);
    const fileBytes = await readFile(file);
    const seal = parseSealFile(fileBytes.toString('utf8'), file);
    // Reconstruct both keys from the outside, with the library and crypto/ directly.
    const unsealKey = Buffer.from(await combine(shares.slice(0, 2).map((s) => new Uint8Array(parseShare(s).bytes))));
    const rootKey = unwrapKey(SecretBytes.copyOf(unsealKey), Buffer.from(seal.sealedRoot, 'base64'), sealAad(seal)).reveal();
    expect(rootKey).toHaveLength(32);
    // It is the root key in use: material the adapter wraps unwraps under it.
    await unseal(root, shares.slice(1));
    const material = randomBytes(32);
    const wrapped = await root.wrap(SecretBytes.copyOf(material), aad('k/1'));
    expect(unwrapKey(SecretBytes.copyOf(rootKey), wrapped, aad('k/1')).reveal().equals(material)).toBe(true);
    for (const key of [unsealKey, rootKey]) {
      for (const form of [key, Buffer.from(key.toString('hex')), Buffer.from(key.toString('base64')), Buffer.from(key.toString('base64url')), key.subarray(0, 12)]) {
        expect(fileBytes.includes(form)).toBe(false);
      }
    }
  });

  it('supports 1 of 1', async () => {
    const { shares, root } = await fresh(1, 1);
    expect(shares).toHaveLength(1);
    expect(root.status()).toMatchObject({ sealed: true, threshold: 1, shares: 1 });
    expect(await root.submitShare(shares[0]!)).toEqual({ sealed: false, threshold: 1, shares: 1, progress: 0, nonce: null });
    const wrapped = await root.wrap(SecretBytes.copyOf(Buffer.from('one')), aad('a'));
    expect((await root.unwrap(wrapped, aad('a'))).reveal().toString()).toBe('one');
    root.seal();
    const other = await fresh(1, 1);
    expect(await failure(root.submitShare(other.shares[0]!))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(await failure(root.submitShare(tampered(shares[0]!, root.sealId)))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(root.status().sealed).toBe(true);
  });

  it('supports up to 255 shares', async () => {
    const { shares, root } = await fresh(255, 3);
    expect(shares).toHaveLength(255);
    expect((await unseal(root, [shares[254]!, shares[100]!, shares[7]!])).sealed).toBe(false);
  });
});

describe('local-sealed root of trust: unseal', () => {
  it('is sealed until threshold shares are in, then unsealed', async () => {
    const { shares, root } = await fresh(5, 3);
    expect(await failure(root.wrap(SecretBytes.copyOf(randomBytes(32)), aad('x')))).toMatchObject({
      code: 'ERR_SEALED',
      message: 'DataDefender is sealed; unseal it with operator unseal.',
    });
    expect(await failure(root.unwrap(randomBytes(61), aad('x')))).toMatchObject({ code: 'ERR_SEALED' });
    const first = await root.submitShare(shares[0]!);
    expect(first).toMatchObject({ sealed: true, progress: 1 });
    expect(first.nonce).toMatch(/^[0-9a-f-]{36}$/);
    const second = await root.submitShare(`  ${shares[1]!}\n`, first.nonce!);
    expect(second).toEqual({ sealed: true, threshold: 3, shares: 5, progress: 2, nonce: first.nonce });
    expect(await failure(root.wrap(SecretBytes.copyOf(randomBytes(32)), aad('x')))).toMatchObject({ code: 'ERR_SEALED' });
    expect(await root.submitShare(shares[2]!, first.nonce!)).toEqual({ sealed: false, threshold: 3, shares: 5, progress: 0, nonce: null });
    expect(await failure(root.submitShare(shares[3]!))).toMatchObject({ code: 'ERR_CONFLICT', message: 'DataDefender is already unsealed.' });
  });

  it('unseals with any M of N shares, in any order', async () => {
    const { shares, root } = await fresh(5, 3);
    const material = randomBytes(48);
    let wrapped: Uint8Array | undefined;
    for (const subset of subsets(5, 3)) {
      for (const order of [subset, [...subset].reverse()]) {
        expect((await unseal(root, order.map((i) => shares[i]!))).sealed).toBe(false);
        wrapped ??= await root.wrap(SecretBytes.copyOf(material), aad('any'));
        expect((await root.unwrap(wrapped, aad('any'))).reveal().equals(material)).toBe(true);
        root.seal();
      }
    }
  });

  it('refuses malformed and mistyped shares and shares of another seal without changing the attempt', async () => {
    const { shares, root } = await fresh(5, 3);
    const other = await fresh(5, 3);
    const { nonce } = await root.submitShare(shares[0]!);
    const mistyped = shares[1]!.slice(0, -3) + (shares[1]!.at(-3) === 'A' ? 'B' : 'A') + shares[1]!.slice(-2);
    const bad = ['', 'hello', shares[1]!.slice(0, -1), `${shares[1]!}x`, shares[1]!.replace('dds1', 'dds2'), mistyped, 'dds1.abcdefgh.1.' + 'A'.repeat(50)];
    for (const share of bad) {
      expect(await failure(root.submitShare(share, nonce!))).toMatchObject({ code: 'ERR_VALIDATION' });
    }
    const foreign = await failure(root.submitShare(other.shares[1]!, nonce!));
    expect(foreign).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(foreign.message).toContain('another seal');
    // A share of the same format and checksum under another seal's id is refused too.
    expect(await failure(root.submitShare(encodeShare(other.root.sealId, 1, parseShare(shares[1]!).bytes), nonce!))).toMatchObject({ code: 'ERR_VALIDATION' });
    const newer = await failure(root.submitShare(encodeShare(root.sealId, 2, parseShare(shares[1]!).bytes), nonce!));
    expect(newer).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(newer.message).toContain('share set 2');
    expect(root.status()).toMatchObject({ sealed: true, progress: 1, nonce });
    for (const m of [foreign.message]) for (const s of shares) expect(m).not.toContain(s.split('.')[3]!.slice(0, 8));
    expect((await unseal(root, shares.slice(1, 3))).sealed).toBe(false);
  });

  it('resets the attempt when the shares do not unseal, without naming the wrong one', async () => {
    const { shares, root } = await fresh(5, 3);
    const wrong = tampered(shares[2]!, root.sealId);
    let status = await root.submitShare(shares[0]!);
    status = await root.submitShare(wrong, status.nonce!);
    expect(status).toMatchObject({ sealed: true, progress: 2 });
    const err = await failure(root.submitShare(shares[1]!, status.nonce!));
    expect(err.code).toBe('ERR_VALIDATION');
    expect(err.message).toMatch(/do not unseal.*reset/);
    for (const s of [...shares, wrong]) expect(err.message).not.toContain(s.split('.')[3]!.slice(0, 8));
    expect(root.status()).toEqual({ sealed: true, threshold: 3, shares: 5, progress: 0, nonce: null });
    // The old nonce is dead; a new attempt with good shares unseals.
    expect(await failure(root.submitShare(shares[3]!, status.nonce!))).toMatchObject({ code: 'ERR_CONFLICT' });
    // A share with another share's x coordinate but different y also fails the unseal (not a duplicate of any in).
    const sameX = tampered(shares[4]!, root.sealId);
    status = await root.submitShare(sameX);
    status = await root.submitShare(shares[0]!, status.nonce!);
    expect(await failure(root.submitShare(shares[1]!, status.nonce!))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect((await unseal(root, [shares[3]!, shares[4]!, shares[0]!])).sealed).toBe(false);
  });

  it('refuses a share already submitted in the attempt', async () => {
    const { shares, root } = await fresh(5, 3);
    const { nonce } = await root.submitShare(shares[0]!);
    expect(await failure(root.submitShare(shares[0]!, nonce!))).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await failure(root.submitShare(` ${shares[0]!} `, nonce!))).toMatchObject({ code: 'ERR_CONFLICT' });
    // Same x coordinate, other y: refused as a share already in as well.
    expect(await failure(root.submitShare(tampered(shares[0]!, root.sealId), nonce!))).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(root.status()).toMatchObject({ sealed: true, progress: 1, nonce });
    await root.submitShare(shares[1]!, nonce!);
    expect((await root.submitShare(shares[2]!, nonce!)).sealed).toBe(false);
  });

  it('requires the attempt’s nonce after the first share', async () => {
    const { shares, root } = await fresh(5, 3);
    expect(await failure(root.submitShare(shares[0]!, 'no-attempt-yet'))).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(root.status()).toMatchObject({ progress: 0, nonce: null });
    const { nonce } = await root.submitShare(shares[0]!);
    expect(await failure(root.submitShare(shares[1]!))).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await failure(root.submitShare(shares[1]!, 'wrong-nonce'))).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await failure(root.submitShare(shares[1]!, 42 as never))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(root.status()).toMatchObject({ progress: 1, nonce });
  });

  it('resets: progress 0, and the next attempt gets a new nonce', async () => {
    const { shares, root } = await fresh(5, 3);
    let status = await root.submitShare(shares[0]!);
    status = await root.submitShare(shares[1]!, status.nonce!);
    const old = status.nonce!;
    expect(root.resetUnseal()).toEqual({ sealed: true, threshold: 3, shares: 5, progress: 0, nonce: null });
    expect(await failure(root.submitShare(shares[2]!, old))).toMatchObject({ code: 'ERR_CONFLICT' });
    status = await root.submitShare(shares[2]!);
    expect(status.progress).toBe(1);
    expect(status.nonce).not.toBe(old);
    status = await root.submitShare(shares[0]!, status.nonce!);
    expect((await root.submitShare(shares[1]!, status.nonce!)).sealed).toBe(false);
    // Resetting while unsealed changes nothing.
    expect(root.resetUnseal()).toMatchObject({ sealed: false, progress: 0 });
  });

  it('seals at once; material wrapped before sealing unwraps after unsealing again', async () => {
    const { shares, root } = await fresh(3, 2);
    await unseal(root, shares.slice(0, 2));
    const material = randomBytes(32);
    const wrapped = await root.wrap(SecretBytes.copyOf(material), aad('before'));
    root.seal();
    expect(root.status()).toEqual({ sealed: true, threshold: 2, shares: 3, progress: 0, nonce: null });
    expect(await failure(root.wrap(SecretBytes.copyOf(material), aad('x')))).toMatchObject({ code: 'ERR_SEALED', message: 'DataDefender is sealed; unseal it with operator unseal.' });
    expect(await failure(root.unwrap(wrapped, aad('before')))).toMatchObject({ code: 'ERR_SEALED' });
    root.seal(); // sealing a sealed root is harmless
    await unseal(root, shares.slice(1, 3));
    expect((await root.unwrap(wrapped, aad('before'))).reveal().equals(material)).toBe(true);
    // Sealing ends an attempt under way.
    root.seal();
    const { nonce } = await root.submitShare(shares[0]!);
    root.seal();
    expect(root.status()).toMatchObject({ progress: 0, nonce: null });
    expect(await failure(root.submitShare(shares[1]!, nonce!))).toMatchObject({ code: 'ERR_CONFLICT' });
  });

  it('a seal while the last shares are combined wins: nothing is unsealed', async () => {
    const { shares, root } = await fresh(3, 2);
    const { nonce } = await root.submitShare(shares[0]!);
    const completing = root.submitShare(shares[1]!, nonce!);
    root.seal();
    expect(await failure(completing)).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(root.status().sealed).toBe(true);
    expect(await failure(root.wrap(SecretBytes.copyOf(randomBytes(32)), aad('x')))).toMatchObject({ code: 'ERR_SEALED' });
  });

  it('opens only seal files: missing, malformed and edited ones are refused', async () => {
    expect(await failure(openSealedRoot(join(dir, 'missing.json')))).toMatchObject({ code: 'ERR_NOT_FOUND' });
    const { file, shares } = await fresh(3, 2);
    const text = await readFile(file, 'utf8');
    const edits: Array<(v: Record<string, unknown>) => void> = [
      (v) => (v.version = 2),
      (v) => (v.format = 'other'),
      (v) => (v.id = 'not-a-uuid'),
      (v) => (v.threshold = 4),
      (v) => (v.threshold = 1),
      (v) => (v.sealedRoot = Buffer.alloc(60).toString('base64')),
      (v) => (v.extra = true),
      (v) => (v.createdAt = 'yesterday'),
      (v) => (v.generation = 0),
    ];
    for (const edit of edits) {
      const v = JSON.parse(text) as Record<string, unknown>;
      edit(v);
      const bad = newFile();
      await writeFile(bad, JSON.stringify(v));
      expect(await failure(openSealedRoot(bad))).toMatchObject({ code: 'ERR_VALIDATION' });
    }
    const garbage = newFile();
    await writeFile(garbage, '{not json');
    expect(await failure(openSealedRoot(garbage))).toMatchObject({ code: 'ERR_VALIDATION' });
    // A header edited consistently (3 shares, threshold 2 -> 3 shares, threshold 3) fails the GCM tag at unseal.
    const v = JSON.parse(text) as Record<string, unknown>;
    v.threshold = 3;
    const edited = newFile();
    await writeFile(edited, JSON.stringify(v));
    const root = await openSealedRoot(edited);
    expect(await failure(unseal(root, shares))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(root.status().sealed).toBe(true);
  });
});

describe('local-sealed root of trust: rekey', () => {
  it('issues new shares for the same root key; the old ones stop working', async () => {
    const { file, shares: old, root } = await fresh(5, 3);
    const before = parseSealFile(await readFile(file, 'utf8'), file);
    await unseal(root, old.slice(0, 3));
    const material = randomBytes(64);
    const wrapped = await root.wrap(SecretBytes.copyOf(material), aad('kept'));

    const fresh3 = await root.rekey([old[4]!, old[1]!, old[3]!], { shares: 3, threshold: 2 });
    expect(fresh3).toHaveLength(3);
    expect(root.status()).toEqual({ sealed: false, threshold: 2, shares: 3, progress: 0, nonce: null });
    expect((await root.unwrap(wrapped, aad('kept'))).reveal().equals(material)).toBe(true);
    for (const s of fresh3) expect(s).toMatch(/^dds1\.[0-9a-f]{8}\.2\./);

    const after = parseSealFile(await readFile(file, 'utf8'), file);
    expect(after).toMatchObject({ id: before.id, generation: 2, threshold: 2, shares: 3, createdAt: before.createdAt });
    expect(after.sealedRoot).not.toBe(before.sealedRoot);
    expect(after.rekeyedAt).not.toBeNull();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    root.seal();
    const refused = await failure(root.submitShare(old[0]!));
    expect(refused).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(refused.message).toContain('rekey replaced');
    expect((await unseal(root, [fresh3[2]!, fresh3[0]!])).sealed).toBe(false);
    expect((await root.unwrap(wrapped, aad('kept'))).reveal().equals(material)).toBe(true);

    // A new process opening the file: only the new shares unseal it.
    const reopened = await openSealedRoot(file);
    expect(reopened.status()).toMatchObject({ sealed: true, threshold: 2, shares: 3, progress: 0 });
    expect(await failure(reopened.submitShare(old[2]!))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect((await unseal(reopened, fresh3.slice(1))).sealed).toBe(false);
    expect((await reopened.unwrap(wrapped, aad('kept'))).reveal().equals(material)).toBe(true);
    // Old shares with the generation edited to the current one (a valid checksum) do not unseal either.
    reopened.seal();
    const forged = old.slice(0, 2).map((s) => encodeShare(reopened.sealId, 2, parseShare(s).bytes));
    expect(await failure(unseal(reopened, forged))).toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('works while sealed and leaves the root sealed; ends an unseal attempt under way', async () => {
    const { shares, root } = await fresh(3, 2);
    await root.submitShare(shares[0]!);
    const next = await root.rekey(shares.slice(1), { shares: 1, threshold: 1 });
    expect(root.status()).toEqual({ sealed: true, threshold: 1, shares: 1, progress: 0, nonce: null });
    expect(await failure(root.wrap(SecretBytes.copyOf(randomBytes(32)), aad('x')))).toMatchObject({ code: 'ERR_SEALED' });
    expect((await root.submitShare(next[0]!)).sealed).toBe(false);
    // Rekey again from 1 of 1.
    const again = await root.rekey(next, { shares: 4, threshold: 2 });
    expect(again).toHaveLength(4);
    root.seal();
    expect((await unseal(root, [again[3]!, again[1]!])).sealed).toBe(false);
  });

  it('refuses too few, duplicate, foreign and wrong current shares and bad options, changing nothing', async () => {
    const { file, shares, root } = await fresh(5, 3);
    const other = await fresh(5, 3);
    const text = await readFile(file, 'utf8');
    const cases: Array<[readonly string[], { shares: number; threshold: number }]> = [
      [shares.slice(0, 2), { shares: 3, threshold: 2 }],
      [[shares[0]!, shares[0]!, shares[1]!], { shares: 3, threshold: 2 }],
      [[shares[0]!, shares[1]!, other.shares[2]!], { shares: 3, threshold: 2 }],
      [[shares[0]!, shares[1]!, tampered(shares[2]!, root.sealId)], { shares: 3, threshold: 2 }],
      [[shares[0]!, shares[1]!, 'garbage'], { shares: 3, threshold: 2 }],
      [shares.slice(0, 3), { shares: 3, threshold: 1 }],
      [shares.slice(0, 3), { shares: 300, threshold: 2 }],
      ['dds1' as never, { shares: 3, threshold: 2 }],
    ];
    for (const [current, options] of cases) {
      expect(await failure(root.rekey(current, options))).toMatchObject({ code: 'ERR_VALIDATION' });
    }
    expect(await readFile(file, 'utf8')).toBe(text);
    expect((await unseal(root, shares.slice(2))).sealed).toBe(false);
    // More than threshold current shares are accepted.
    expect(await root.rekey(shares, { shares: 2, threshold: 2 })).toHaveLength(2);
  });

  it('refuses a second rekey under way and a seal file changed behind its back', async () => {
    const { file, shares, root } = await fresh(3, 2);
    const first = root.rekey(shares.slice(0, 2), { shares: 3, threshold: 2 });
    expect(await failure(root.rekey(shares.slice(1), { shares: 3, threshold: 2 }))).toMatchObject({ code: 'ERR_CONFLICT' });
    const next = await first;

    const elsewhere = await openSealedRoot(file);
    await elsewhere.rekey(next.slice(0, 2), { shares: 2, threshold: 2 });
    const changed = await readFile(file, 'utf8');
    expect(await failure(root.rekey(next.slice(0, 2), { shares: 3, threshold: 2 }))).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await readFile(file, 'utf8')).toBe(changed);
  });
});
