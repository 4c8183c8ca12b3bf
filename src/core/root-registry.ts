/**
 * The registry of root generations, authenticated: which roots of trust exist, which one wraps new material, and
 * the recovery key escrows go to.
 *
 * Storage is untrusted, so the registry carries its own proof: a 256-bit registry key, wrapped by every live
 * generation's root (AAD binds generation, kind and descriptor), and an HMAC-SHA256 under that key over the
 * canonical registry (revision, every generation's number, kind, descriptor, state and times, the recovery key).
 * Trust is anchored outside storage: the ring unwraps the registry key only with the root of trust the server's
 * configuration opens (see RootBackends.anchors), then checks the MAC over everything else. So an edited registry —
 * a new generation pointing at an attacker's upstream key, another active generation, a swapped recovery key — is
 * refused, and wraps cannot be redirected. Retiring generations drops their wrapped registry key and replaces the
 * registry key, so a retired (e.g. compromised) root can no longer vouch for the registry.
 * Not covered: rolling the whole registry back to an older authentic revision (it only ever names our own roots).
 */
import { constantTimeEqual, hmac, sha256, type SecretBytes } from '../crypto/index.js';
import type { RootDescriptor, RootGenerationRecord, RootRecoveryRecord, RootRegistryRecord } from '../ports/root-ring-storage.js';

const LABEL = 'datadefender/root-registry/v1';

/** JSON with object keys sorted (descriptors are flat objects of strings and numbers). */
export function canonicalDescriptor(d: RootDescriptor): string {
  return JSON.stringify(Object.fromEntries(Object.keys(d).sort().map((k) => [k, d[k]])));
}

/** AAD of a generation's wrapped registry key. */
export function registryKeyAad(g: Pick<RootGenerationRecord, 'generation' | 'kind' | 'descriptor'>): Buffer {
  return Buffer.from(`${LABEL}/registry-key/${g.generation}/${g.kind}/${canonicalDescriptor(g.descriptor)}`, 'utf8');
}

/** AAD of the ring-wrapped escrow authentication key: binds the recovery public key. */
export function recoveryAuthAad(publicKey: Uint8Array): Buffer {
  return Buffer.from(`${LABEL}/recovery-auth/${sha256(publicKey).toString('hex')}`, 'utf8');
}

/** The 8 bytes naming a recovery key in escrows (and 8 hex digits... in its shares: the first 4 bytes). */
export function recoveryKeyId(publicKey: Uint8Array): Buffer {
  return sha256(publicKey).subarray(0, 8);
}

function canonicalRecovery(r: RootRecoveryRecord | null): unknown {
  return r === null ? null : [Buffer.from(r.publicKey).toString('base64'), r.threshold, r.shares, r.createdAt.getTime()];
}

/** The bytes the registry MAC covers. */
export function canonicalRegistry(reg: Pick<RootRegistryRecord, 'revision' | 'generations' | 'recovery'>): Buffer {
  const generations = [...reg.generations]
    .sort((a, b) => a.generation - b.generation)
    .map((g) => [g.generation, g.kind, canonicalDescriptor(g.descriptor), g.state, g.registryKey !== null, g.createdAt.getTime(), g.updatedAt.getTime()]);
  return Buffer.from(JSON.stringify([LABEL, reg.revision, generations, canonicalRecovery(reg.recovery)]), 'utf8');
}

export function registryMac(key: SecretBytes, reg: Pick<RootRegistryRecord, 'revision' | 'generations' | 'recovery'>): Buffer {
  return hmac('sha256', key, canonicalRegistry(reg));
}

export function registryMacValid(key: SecretBytes, reg: RootRegistryRecord): boolean {
  return reg.mac !== null && constantTimeEqual(registryMac(key, reg), reg.mac);
}

/** The active generation (exactly one in a well-formed registry), or undefined. */
export function activeGeneration(reg: Pick<RootRegistryRecord, 'generations'>): RootGenerationRecord | undefined {
  const active = reg.generations.filter((g) => g.state === 'active');
  return active.length === 1 ? active[0] : undefined;
}

export function nextGenerationNumber(reg: { generations: ReadonlyArray<{ generation: number }> }): number {
  return reg.generations.reduce((max, g) => Math.max(max, g.generation), 0) + 1;
}
