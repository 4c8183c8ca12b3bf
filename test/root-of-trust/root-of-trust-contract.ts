// The contract every RootOfTrust adapter keeps (src/ports/root-of-trust.ts), run against each adapter by its own
// test file: round trips for every size of key material the core stores, the AAD binding, one error for every
// unwrap failure, fresh output per wrap, and concurrency.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBytes } from '../../src/crypto/index.js';
import type { RootOfTrust } from '../../src/ports/root-of-trust.js';

export interface OpenedRoot {
  root: RootOfTrust;
  close(): Promise<void>;
}

const aad = (s: string) => Buffer.from(s, 'utf8');

export function rootOfTrustContract(name: string, open: () => Promise<OpenedRoot>): void {
  describe(`RootOfTrust contract: ${name}`, () => {
    let opened: OpenedRoot;
    let root: RootOfTrust;

    beforeAll(async () => {
      opened = await open();
      root = opened.root;
    }, 60_000);
    afterAll(async () => {
      await opened?.close();
    });

    it('round-trips key material of every size the core stores, bound to its AAD', async () => {
      // 32 bytes: AES keys and secrets; 1024: data-key sizes; 2400: an RSA-4096 PKCS#8 key; 8192: headroom.
      for (const size of [1, 16, 32, 64, 1024, 2400, 8192]) {
        const material = randomBytes(size);
        const wrapped = await root.wrap(SecretBytes.copyOf(material), aad(`key/${size}/v1`));
        if (size >= 16) expect(Buffer.from(wrapped).includes(material.subarray(0, 16))).toBe(false);
        const unwrapped = await root.unwrap(wrapped, aad(`key/${size}/v1`));
        expect(Buffer.compare(unwrapped.reveal(), material)).toBe(0);
        unwrapped.destroy();
      }
    });

    it('never produces the same output twice for the same input', async () => {
      const material = SecretBytes.copyOf(randomBytes(32));
      const a = Buffer.from(await root.wrap(material, aad('same')));
      const b = Buffer.from(await root.wrap(material, aad('same')));
      expect(a.equals(b)).toBe(false);
    });

    it('refuses other AAD, a flipped bit anywhere, truncation and garbage with InvalidCiphertextError', async () => {
      const wrapped = Buffer.from(await root.wrap(SecretBytes.copyOf(randomBytes(32)), aad('key/a/v1')));
      const failures: Uint8Array[] = [wrapped.subarray(0, wrapped.length - 1), wrapped.subarray(0, 8), Buffer.alloc(0), randomBytes(wrapped.length)];
      for (const i of [0, 1, Math.floor(wrapped.length / 2), wrapped.length - 1]) {
        const flipped = Buffer.from(wrapped);
        flipped[i]! ^= 0x01;
        failures.push(flipped);
      }
      await expect(root.unwrap(wrapped, aad('key/a/v2'))).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
      await expect(root.unwrap(wrapped, aad(''))).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
      for (const bad of failures) await expect(root.unwrap(bad, aad('key/a/v1'))).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
    });

    it('serves many concurrent wraps and unwraps correctly', async () => {
      const inputs = Array.from({ length: 64 }, (_, i) => ({ material: randomBytes(32), aad: aad(`concurrent/${i}`) }));
      const wrapped = await Promise.all(inputs.map((x) => root.wrap(SecretBytes.copyOf(x.material), x.aad)));
      const unwrapped = await Promise.all(wrapped.map((w, i) => root.unwrap(w, inputs[i]!.aad)));
      unwrapped.forEach((u, i) => expect(Buffer.compare(u.reveal(), inputs[i]!.material)).toBe(0));
    });

    it('does not destroy or keep the caller’s plaintext', async () => {
      const material = SecretBytes.copyOf(randomBytes(32));
      const copy = Buffer.from(material.reveal());
      await root.wrap(material, aad('keep'));
      expect(Buffer.compare(material.reveal(), copy)).toBe(0);
    });

    it('names its kind', () => {
      expect(typeof root.kind).toBe('string');
      expect(root.kind.length).toBeGreaterThan(0);
    });
  });
}
