/**
 * Authenticates AWS-API requests by SigV4 (identity/sigv4.ts) against DataDefender's access keys.
 * Invariants:
 * - unknown, inactive or malformed access key ids, keys of disabled principals and any session token (none are
 *   issued) fail as `unknown-credential` (AWS UnrecognizedClientException); every signature problem fails as
 *   `bad-signature` (InvalidSignatureException);
 * - a secret access key is unwrapped by the root of trust only to derive the day's signing key, then destroyed;
 *   derived signing keys are cached per (key id, day, region) and zeroed on eviction;
 * - the access-key record and the principal are re-read at least every `cacheMs`, so deactivation, deletion and a
 *   disabled principal take effect within it, whatever the signing-key cache holds; an expired key fails at once.
 */
import { deriveSigV4SigningKey, type SecretBytes } from '../crypto/index.js';
import { UnauthenticatedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { Storage } from '../ports/storage.js';
import type { Caller } from '../policy/authorize.js';
import { createLruCache } from '../core/lru-cache.js';
import type { CallerDirectory } from './caller-directory.js';
import { accessKeyAad } from './credentials.js';
import { checkSignature, prepareVerification, type SignedRequest } from './sigv4.js';

export type SigV4Authenticator = (request: SignedRequest) => Promise<Caller>;

const SIGNING_KEY_TTL_MS = 15 * 60_000;
const UNRECOGNIZED = 'The security token included in the request is invalid.';

interface KnownKey {
  principalId: string;
  secretWrapped: Uint8Array;
  expiresAt: Date | null;
}

export function createSigV4Authenticator(deps: {
  storage: Storage;
  callers: CallerDirectory;
  root: RootOfTrust;
  clock: Clock;
  region: string;
  service?: string;
  cacheMs?: number;
}): SigV4Authenticator {
  const { storage, callers, root, clock, region, service = 'kms', cacheMs = 1000 } = deps;
  const records = createLruCache<KnownKey>({ maxEntries: 10_000, ttlMs: cacheMs });
  const signingKeys = createLruCache<SecretBytes>({
    maxEntries: 10_000,
    ttlMs: SIGNING_KEY_TTL_MS,
    onEvict: (key) => key.destroy(),
  });
  const unrecognized = () => new UnauthenticatedError(UNRECOGNIZED, 'unknown-credential');

  const lookup = async (accessKeyId: string): Promise<KnownKey> => {
    let known = records.get(accessKeyId);
    if (!known) {
      const record = await storage.getAccessKey(accessKeyId);
      if (!record || record.status !== 'Active') throw unrecognized();
      known = { principalId: record.principalId, secretWrapped: record.secretWrapped, expiresAt: record.expiresAt };
      records.set(accessKeyId, known);
    }
    if (known.expiresAt !== null && known.expiresAt <= clock.now()) throw unrecognized();
    return known;
  };

  return async (request) => {
    const plan = prepareVerification(request, { region, service, now: clock.now() });
    if (request.headers['x-amz-security-token'] !== undefined) throw unrecognized();
    const { accessKeyId, date } = plan.authorization;
    const known = await lookup(accessKeyId);
    const cacheKey = `${accessKeyId}\n${date}\n${region}`;
    let signingKey = signingKeys.get(cacheKey);
    if (!signingKey) {
      const secret = await root.unwrap(known.secretWrapped, accessKeyAad(accessKeyId));
      try {
        signingKey = deriveSigV4SigningKey(secret, date, region, service);
      } finally {
        secret.destroy();
      }
      signingKeys.set(cacheKey, signingKey);
    }
    checkSignature(plan, signingKey);
    const caller = await callers(known.principalId, `access-key:${accessKeyId}`);
    if (!caller) throw unrecognized();
    return caller;
  };
}
