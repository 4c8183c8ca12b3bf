/**
 * Authenticates AWS-API requests by SigV4 (identity/sigv4.ts) against DataDefender's access keys.
 * Invariants:
 * - unknown, inactive or malformed access key ids, keys of disabled principals and any session token (none are
 *   issued) fail as `unknown-credential` (AWS UnrecognizedClientException); every signature problem fails as
 *   `bad-signature` (InvalidSignatureException);
 * - a secret access key is unwrapped by the root of trust only to derive the day's signing key, then destroyed;
 *   derived signing keys are cached per (key id, day, region) and zeroed on eviction;
 * - the access-key record is re-read at least every `cacheMs`, so deactivation, deletion and a disabled principal
 *   take effect within it, whatever the signing-key cache holds.
 */
import { deriveSigV4SigningKey, type SecretBytes } from '../crypto/index.js';
import { UnauthenticatedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { Storage } from '../ports/storage.js';
import type { Caller } from '../policy/authorize.js';
import { createLruCache } from '../core/lru-cache.js';
import { accessKeyAad } from './credentials.js';
import { checkSignature, prepareVerification, type SignedRequest } from './sigv4.js';

export type SigV4Authenticator = (request: SignedRequest) => Promise<Caller>;

const SIGNING_KEY_TTL_MS = 15 * 60_000;
const UNRECOGNIZED = 'The security token included in the request is invalid.';

interface KnownKey {
  caller: Caller;
  secretWrapped: Uint8Array;
}

export function createSigV4Authenticator(deps: {
  storage: Storage;
  root: RootOfTrust;
  clock: Clock;
  region: string;
  service?: string;
  cacheMs?: number;
}): SigV4Authenticator {
  const { storage, root, clock, region, service = 'kms', cacheMs = 1000 } = deps;
  const records = createLruCache<KnownKey>({ maxEntries: 10_000, ttlMs: cacheMs });
  const signingKeys = createLruCache<SecretBytes>({
    maxEntries: 10_000,
    ttlMs: SIGNING_KEY_TTL_MS,
    onEvict: (key) => key.destroy(),
  });
  const unrecognized = () => new UnauthenticatedError(UNRECOGNIZED, 'unknown-credential');

  const lookup = async (accessKeyId: string): Promise<KnownKey> => {
    const hit = records.get(accessKeyId);
    if (hit) return hit;
    const record = await storage.getAccessKey(accessKeyId);
    if (!record || record.status !== 'Active') throw unrecognized();
    const principal = await storage.getPrincipal(record.principalId);
    if (!principal || principal.disabled) throw unrecognized();
    const known = {
      caller: { principalId: principal.id, arn: principal.arn, roles: principal.roles, credential: `access-key:${record.id}` },
      secretWrapped: record.secretWrapped,
    };
    records.set(accessKeyId, known);
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
    return known.caller;
  };
}
