// The pkcs11 root of trust against SoftHSM2: the RootOfTrust contract, opening errors, the root key's creation and
// attributes, persistence across instances, and outages the same adapter object recovers from.
// SoftHSM2 is required: these tests fail (never skip) without it.
import { rootKeyTemplate } from '../../src/adapters/root-of-trust/pkcs11/create-root-key.js';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs11RootKey, openPkcs11RootOfTrust, type Pkcs11RootOfTrust } from '../../src/adapters/root-of-trust/pkcs11/index.js';
import { SecretBytes } from '../../src/crypto/index.js';
import { DependencyError, InvalidCiphertextError, ValidationError } from '../../src/errors/index.js';
import { assertSoftHsmInstalled, startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';
import { rootOfTrustContract } from './root-of-trust-contract.js';

const KEY = 'datadefender-root';
const aad = (s: string) => Buffer.from(s, 'utf8');
const secret = (n = 32) => SecretBytes.copyOf(randomBytes(n));

let hsm: SoftHsm;
const tokens: Record<string, SoftHsmToken> = {};
const TOKEN_NAMES = ['contract', 'open', 'dupes', 'weak', 'create', 'persist', 'other', 'outage', 'sessions', 'pin'] as const;
type TokenName = (typeof TOKEN_NAMES)[number];

const optionsFor = (name: TokenName, extra: Partial<Parameters<typeof openPkcs11RootOfTrust>[0]> = {}) => ({
  modulePath: hsm.module,
  tokenLabel: tokens[name]!.label,
  pin: tokens[name]!.pin,
  keyLabel: KEY,
  ...extra,
});

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Every token is created before anything opens the module: a running module sees new tokens only when it is
// initialized again.
beforeAll(async () => {
  hsm = await startSoftHsm();
  for (const name of TOKEN_NAMES) tokens[name] = await hsm.createToken(`dd-${name}`, `pin-${name}`);
  for (const name of TOKEN_NAMES) {
    if (name === 'create' || name === 'weak') continue;
    await createPkcs11RootKey(optionsFor(name));
  }
});

afterAll(async () => {
  await hsm?.close();
});

it('has SoftHSM2 installed (apt-get install softhsm2)', () => {
  expect(assertSoftHsmInstalled).not.toThrow();
});

rootOfTrustContract('pkcs11 (SoftHSM2)', async () => {
  const root = await openPkcs11RootOfTrust(optionsFor('contract'));
  return { root, close: () => root.close() };
});

describe('pkcs11 root of trust: opening', () => {
  it('opens by token label or by slot id, says it is pkcs11 and healthy, and does not show its PIN', async () => {
    const byLabel = await openPkcs11RootOfTrust(optionsFor('open'));
    const bySlot = await openPkcs11RootOfTrust({ ...optionsFor('open'), tokenLabel: undefined, slot: tokens.open!.slotId });
    try {
      expect(byLabel.kind).toBe('pkcs11');
      expect(await byLabel.health()).toBe('ok');
      const wrapped = await byLabel.wrap(secret(), aad('k/1'));
      expect((await bySlot.unwrap(wrapped, aad('k/1'))).length).toBe(32);
      const shown = `${inspect(byLabel, { depth: 5, showHidden: true })} ${JSON.stringify(byLabel)}`;
      expect(shown).not.toContain(tokens.open!.pin);
    } finally {
      await byLabel.close();
      await bySlot.close();
    }
  });

  it('takes the PIN as SecretBytes and leaves the caller’s copy alone', async () => {
    const pin = SecretBytes.copyOf(Buffer.from(tokens.open!.pin));
    const root = await openPkcs11RootOfTrust({ ...optionsFor('open'), pin });
    await root.close();
    expect(pin.reveal().toString()).toBe(tokens.open!.pin);
  });

  it('refuses a wrong PIN with DependencyError naming the cause, not the PIN', async () => {
    const err = await openPkcs11RootOfTrust({ ...optionsFor('open'), pin: 'wrong-pin-9876' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The HSM refused the login: CKR_PIN_INCORRECT.' });
    expect(inspect(err)).not.toContain('wrong-pin-9876');
  });

  it('names an unknown token label, slot or key label', async () => {
    await expect(openPkcs11RootOfTrust({ ...optionsFor('open'), tokenLabel: 'no-such-token' })).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The HSM is unavailable: no token labelled "no-such-token" is present.',
    });
    await expect(openPkcs11RootOfTrust({ ...optionsFor('open'), tokenLabel: undefined, slot: 424242 })).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The HSM is unavailable: no token is present in slot 424242.',
    });
    await expect(openPkcs11RootOfTrust({ ...optionsFor('open'), keyLabel: 'no-such-key' })).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The HSM is unavailable: the token holds no AES key labelled "no-such-key".',
    });
  });

  it('names a module that cannot be loaded', async () => {
    await expect(openPkcs11RootOfTrust({ ...optionsFor('open'), modulePath: '/nonexistent/libpkcs11.so' })).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The PKCS#11 module /nonexistent/libpkcs11.so cannot be loaded.',
    });
  });

  it('refuses invalid options with ValidationError', async () => {
    const base = optionsFor('open');
    for (const bad of [
      { ...base, slot: tokens.open!.slotId }, // both
      { ...base, tokenLabel: undefined }, // neither
      { ...base, keyLabel: '' },
      { ...base, pin: '' },
      { ...base, sessions: 0 },
      { ...base, sessions: 1.5 },
      { ...base, modulePath: '' },
      { ...base, tokenLabel: 'x'.repeat(33) },
      { ...base, reconnect: { minDelayMs: 100, maxDelayMs: 10 } },
    ]) {
      await expect(openPkcs11RootOfTrust(bad)).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it('refuses a key label that names two keys', async () => {
    await withRawSession(hsm, tokens.dupes!, async (api, session) => {
      const template = rootKeyTemplate(KEY);
      api.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, template);
    });
    const err = await openPkcs11RootOfTrust(optionsFor('dupes')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe(`More than one AES key on the token is labelled "${KEY}"; the root key label must name exactly one key.`);
  });

  it('refuses a key that is extractable, not sensitive or too short', async () => {
    await withRawSession(hsm, tokens.weak!, (api, session) => {
      api.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 16 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_LABEL, value: KEY },
      ]);
    });
    await expect(openPkcs11RootOfTrust(optionsFor('weak'))).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
      message: `The AES key labelled "${KEY}" cannot be the root key: it is not 256 bits long, is not sensitive, is extractable.`,
    });
  });

  it('refuses empty key material with ValidationError and garbage with InvalidCiphertextError before the HSM', async () => {
    const root = await openPkcs11RootOfTrust(optionsFor('open'));
    try {
      await expect(root.wrap(SecretBytes.copyOf(Buffer.alloc(0)), aad('x'))).rejects.toBeInstanceOf(ValidationError);
      const wrapped = Buffer.from(await root.wrap(secret(), aad('x')));
      const otherVersion = Buffer.from(wrapped);
      otherVersion[0] = 0x02;
      await expect(root.unwrap(otherVersion, aad('x'))).rejects.toBeInstanceOf(InvalidCiphertextError);
      await expect(root.unwrap(wrapped.subarray(0, 1 + 12 + 16), aad('x'))).rejects.toBeInstanceOf(InvalidCiphertextError);
      // The format: version byte, 12-byte IV, ciphertext as long as the material, 16-byte tag.
      expect(wrapped[0]).toBe(0x01);
      expect(wrapped.length).toBe(1 + 12 + 32 + 16);
      expect(await root.health()).toBe('ok'); // refused ciphertext does not count against the HSM
    } finally {
      await root.close();
    }
  });

  it('serves more concurrent operations than it has sessions', async () => {
    const root = await openPkcs11RootOfTrust(optionsFor('open', { sessions: 2 }));
    try {
      const inputs = Array.from({ length: 40 }, (_, i) => ({ material: randomBytes(32), aad: aad(`c/${i}`) }));
      const wrapped = await Promise.all(inputs.map((x) => root.wrap(SecretBytes.copyOf(x.material), x.aad)));
      const bad = Buffer.from(wrapped[0]!);
      bad[bad.length - 1]! ^= 1;
      const results = await Promise.allSettled([...wrapped.map((w, i) => root.unwrap(w, inputs[i]!.aad)), root.unwrap(bad, inputs[0]!.aad)]);
      results.slice(0, -1).forEach((r, i) => {
        expect(r.status).toBe('fulfilled');
        expect((r as PromiseFulfilledResult<SecretBytes>).value.reveal().equals(inputs[i]!.material)).toBe(true);
      });
      expect(results.at(-1)).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INVALID_CIPHERTEXT' } });
    } finally {
      await root.close();
    }
  });

  it('refuses operations after close with DependencyError', async () => {
    const root = await openPkcs11RootOfTrust(optionsFor('open'));
    await root.close();
    await root.close(); // idempotent
    await expect(root.wrap(secret(), aad('x'))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
    expect(await root.health()).toBe('unavailable');
  });
});

describe('createPkcs11RootKey', () => {
  it('creates a sensitive, non-extractable AES-256 token key for encrypt and decrypt only', async () => {
    await createPkcs11RootKey({ modulePath: hsm.module, tokenLabel: tokens.create!.label, pin: tokens.create!.pin, keyLabel: KEY });
    await withRawSession(hsm, tokens.create!, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: KEY }]);
      const found = api.C_FindObjects(session, 10);
      api.C_FindObjectsFinal(session);
      expect(found).toHaveLength(1);
      const key = found[0]!;
      const attrs = [
        ['CKA_CLASS', pkcs11js.CKA_CLASS],
        ['CKA_KEY_TYPE', pkcs11js.CKA_KEY_TYPE],
        ['CKA_VALUE_LEN', pkcs11js.CKA_VALUE_LEN],
        ['CKA_TOKEN', pkcs11js.CKA_TOKEN],
        ['CKA_PRIVATE', pkcs11js.CKA_PRIVATE],
        ['CKA_SENSITIVE', pkcs11js.CKA_SENSITIVE],
        ['CKA_ALWAYS_SENSITIVE', pkcs11js.CKA_ALWAYS_SENSITIVE],
        ['CKA_EXTRACTABLE', pkcs11js.CKA_EXTRACTABLE],
        ['CKA_NEVER_EXTRACTABLE', pkcs11js.CKA_NEVER_EXTRACTABLE],
        ['CKA_ENCRYPT', pkcs11js.CKA_ENCRYPT],
        ['CKA_DECRYPT', pkcs11js.CKA_DECRYPT],
        ['CKA_WRAP', pkcs11js.CKA_WRAP],
        ['CKA_UNWRAP', pkcs11js.CKA_UNWRAP],
        ['CKA_SIGN', pkcs11js.CKA_SIGN],
        ['CKA_DERIVE', pkcs11js.CKA_DERIVE],
      ] as const;
      const values = api.C_GetAttributeValue(session, key, attrs.map(([, type]) => ({ type })));
      const got = Object.fromEntries(values.map((v, i) => [attrs[i]![0], v.value!.readUIntLE(0, Math.min(6, v.value!.length))]));
      expect(got).toEqual({
        CKA_CLASS: pkcs11js.CKO_SECRET_KEY,
        CKA_KEY_TYPE: pkcs11js.CKK_AES,
        CKA_VALUE_LEN: 32,
        CKA_TOKEN: 1,
        CKA_PRIVATE: 1,
        CKA_SENSITIVE: 1,
        CKA_ALWAYS_SENSITIVE: 1,
        CKA_EXTRACTABLE: 0,
        CKA_NEVER_EXTRACTABLE: 1,
        CKA_ENCRYPT: 1,
        CKA_DECRYPT: 1,
        CKA_WRAP: 0,
        CKA_UNWRAP: 0,
        CKA_SIGN: 0,
        CKA_DERIVE: 0,
      });
      // The key value never leaves the token.
      expect(() => api.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }])).toThrow('CKR_ATTRIBUTE_SENSITIVE');
    });
    const root = await openPkcs11RootOfTrust(optionsFor('create'));
    try {
      const wrapped = await root.wrap(secret(), aad('created'));
      expect((await root.unwrap(wrapped, aad('created'))).length).toBe(32);
    } finally {
      await root.close();
    }
  });

  it('refuses to create a second key with the same label', async () => {
    await expect(
      createPkcs11RootKey({ modulePath: hsm.module, tokenLabel: tokens.create!.label, pin: tokens.create!.pin, keyLabel: KEY }),
    ).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    const count = await withRawSession(hsm, tokens.create!, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: KEY }]);
      const found = api.C_FindObjects(session, 10);
      api.C_FindObjectsFinal(session);
      return found.length;
    });
    expect(count).toBe(1);
  });

  it('refuses a wrong PIN and an unknown token with DependencyError', async () => {
    const options = { modulePath: hsm.module, tokenLabel: tokens.create!.label, pin: 'nope-nope', keyLabel: 'another' };
    await expect(createPkcs11RootKey(options)).rejects.toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The HSM refused the login: CKR_PIN_INCORRECT.' });
    await expect(createPkcs11RootKey({ ...options, tokenLabel: 'absent' })).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
  });
});

describe('pkcs11 root of trust: persistence', () => {
  it('unwraps in a new instance what an earlier instance wrapped, and only on the same token', async () => {
    const material = randomBytes(64);
    const first = await openPkcs11RootOfTrust(optionsFor('persist'));
    const wrapped = await first.wrap(SecretBytes.copyOf(material), aad('key/p/v1'));
    await first.close();

    const second = await openPkcs11RootOfTrust(optionsFor('persist'));
    const other = await openPkcs11RootOfTrust(optionsFor('other'));
    try {
      expect((await second.unwrap(wrapped, aad('key/p/v1'))).reveal().equals(material)).toBe(true);
      await expect(other.unwrap(wrapped, aad('key/p/v1'))).rejects.toBeInstanceOf(InvalidCiphertextError);
    } finally {
      await other.close();
      await second.close();
    }
  });

  it('lets two instances share a token in one process; closing one leaves the other logged in', async () => {
    const a = await openPkcs11RootOfTrust(optionsFor('persist'));
    const b = await openPkcs11RootOfTrust(optionsFor('persist'));
    const wrapped = await a.wrap(secret(), aad('shared'));
    await a.close();
    try {
      expect((await b.unwrap(wrapped, aad('shared'))).length).toBe(32);
      expect(await b.health()).toBe('ok');
    } finally {
      await b.close();
    }
  });
});

describe('pkcs11 root of trust: outages and recovery without reopening', () => {
  let root: Pkcs11RootOfTrust | undefined;
  afterAll(async () => {
    await root?.close();
  });

  // What really makes SoftHSM2 fail: moving the token's directory out of the token directory. The running module
  // then answers CKR_OBJECT_HANDLE_INVALID for the key and CKR_GENERAL_ERROR for the token, and keeps doing so after
  // the directory is back (the objects stay invalid) until the module is finalized and initialized again — which
  // is what the adapter's reconnection does.
  it('fails closed while the token is gone, and the same object works again once it is back', async () => {
    root = await openPkcs11RootOfTrust(optionsFor('outage', { reconnect: { minDelayMs: 20, maxDelayMs: 100 } }));
    const material = randomBytes(32);
    const before = await root.wrap(SecretBytes.copyOf(material), aad('key/o/v1'));

    await tokens.outage!.takeOffline();
    const failed = await root.wrap(secret(), aad('during')).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DependencyError);
    expect((failed as Error).message).toBe('The HSM is unavailable: CKR_OBJECT_HANDLE_INVALID.');
    // Material wrapped before the outage is not declared invalid: the HSM is unavailable, not the ciphertext.
    await expect(root.unwrap(before, aad('key/o/v1'))).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The HSM is unavailable: no token labelled "dd-outage" is present.',
    });
    // Many callers at once: all fail fast, none hangs.
    const burst = await Promise.allSettled(Array.from({ length: 16 }, () => root!.wrap(secret(), aad('burst'))));
    for (const r of burst) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ERR_DEPENDENCY' } });
    expect(await root.health()).toBe('unavailable');

    await tokens.outage!.bringOnline();
    await until(async () => (await root!.health()) === 'ok', 5_000);
    expect((await root.unwrap(before, aad('key/o/v1'))).reveal().equals(material)).toBe(true);
    const after = await root.wrap(SecretBytes.copyOf(material), aad('key/o/v2'));
    expect((await root.unwrap(after, aad('key/o/v2'))).reveal().equals(material)).toBe(true);
  });

  // Sessions invalidated under the adapter: a second handle on the same module closes every session of the token
  // (C_CloseAllSessions), which also ends the login.
  it('reconnects after its sessions are closed under it', async () => {
    const sessions = await openPkcs11RootOfTrust(optionsFor('sessions'));
    try {
      const before = await sessions.wrap(SecretBytes.copyOf(Buffer.alloc(32, 7)), aad('s'));
      await withRawSession(hsm, tokens.sessions!, (api, _session, slot) => api.C_CloseAllSessions(slot));
      await expect(sessions.wrap(secret(), aad('s'))).rejects.toMatchObject({
        code: 'ERR_DEPENDENCY',
        message: 'The HSM is unavailable: CKR_SESSION_HANDLE_INVALID.',
      });
      // The first reconnection is immediate.
      expect((await sessions.unwrap(before, aad('s'))).reveal().equals(Buffer.alloc(32, 7))).toBe(true);
      await withRawSession(hsm, tokens.sessions!, (api, _session, slot) => api.C_CloseAllSessions(slot));
      expect(await sessions.health()).toBe('unavailable');
      expect(await sessions.health()).toBe('ok');
    } finally {
      await sessions.close();
    }
  });

  it('does not retry a PIN the token refuses at reconnection (it could lock the user), and says so', async () => {
    const pinned = await openPkcs11RootOfTrust(optionsFor('pin', { reconnect: { minDelayMs: 0, maxDelayMs: 0 } }));
    const token = tokens.pin!;
    try {
      await withRawSession(hsm, token, (api, session, slot) => {
        api.C_SetPIN(session, token.pin, 'changed-pin');
        api.C_CloseAllSessions(slot);
      });
      await expect(pinned.wrap(secret(), aad('p'))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
      const refused = await pinned.wrap(secret(), aad('p')).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'ERR_DEPENDENCY' });
      expect((refused as Error).message).toMatch(/^The HSM refused the login: CKR_PIN_INCORRECT; the same PIN is not retried/);
      expect(await pinned.health()).toBe('unavailable');
    } finally {
      await pinned.close();
      await withRawSession(hsm, { ...token, pin: 'changed-pin' }, (api, session) => api.C_SetPIN(session, 'changed-pin', token.pin));
    }
  });

  it('after a refused PIN, reads it again: the same PIN is never tried again, a corrected one is, and it serves again', async () => {
    const token = tokens.pin!;
    let current = token.pin;
    const reads: string[] = [];
    const pinned = await openPkcs11RootOfTrust(
      optionsFor('pin', {
        reconnect: { minDelayMs: 0, maxDelayMs: 0 },
        rereadPin: async () => {
          reads.push(current);
          return current;
        },
      }),
    );
    try {
      const before = await pinned.wrap(secret(), aad('r'));
      await withRawSession(hsm, token, (api, session, slot) => {
        api.C_SetPIN(session, token.pin, 'rotated-pin');
        api.C_CloseAllSessions(slot);
      });
      await expect(pinned.wrap(secret(), aad('r'))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
      const refused = await pinned.wrap(secret(), aad('r')).catch((e: unknown) => e);
      expect((refused as Error).message).toMatch(/^The HSM refused the login: CKR_PIN_INCORRECT; the same PIN is not retried/);
      // The file still holds the refused PIN: it is read, compared, and not sent to the HSM again.
      const readsBefore = reads.length;
      await expect(pinned.unwrap(before, aad('r'))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY', message: (refused as Error).message });
      expect(reads.length).toBe(readsBefore + 1);

      current = 'rotated-pin';
      const opened = await pinned.unwrap(before, aad('r'));
      expect(opened.length).toBe(32);
      opened.destroy();
      expect(await pinned.health()).toBe('ok');
    } finally {
      await pinned.close();
      await withRawSession(hsm, { ...token, pin: 'rotated-pin' }, (api, session) => api.C_SetPIN(session, 'rotated-pin', token.pin));
    }
  });
});
