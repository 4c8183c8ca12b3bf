/**
 * Authenticates native-API requests by bearer token.
 * Invariants: the token is looked up by its hash only; unknown, expired or malformed tokens and disabled
 * principals all fail with the same UnauthenticatedError text, so the answer reveals nothing; a successful
 * lookup is remembered in memory for at most `cacheMs` (revocation and disabling show within it), never past
 * expiry. The in-memory cache is keyed by the token itself (as the request already holds it) so a cache hit
 * costs no hashing; only hashes ever reach storage.
 */
import { UnauthenticatedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { Storage } from '../ports/storage.js';
import type { Caller } from '../policy/authorize.js';
import { createLruCache } from '../core/lru-cache.js';
import { hashToken } from './credentials.js';
import type { CallerDirectory } from './caller-directory.js';

const TOKEN = /^Bearer (ddt_[A-Za-z0-9_-]{43})$/;

export type BearerAuthenticator = (authorization: string | undefined) => Promise<Caller>;

export function createBearerAuthenticator(deps: { storage: Storage; callers: CallerDirectory; clock: Clock; cacheMs?: number }): BearerAuthenticator {
  const { storage, callers, clock, cacheMs = 1000 } = deps;
  const cache = createLruCache<{ principalId: string; credential: string; expiresAt: Date | null }>({ maxEntries: 10_000, ttlMs: cacheMs });
  const refuse = () => new UnauthenticatedError('A valid bearer token is required.');
  return async (authorization) => {
    const match = authorization === undefined ? null : TOKEN.exec(authorization);
    if (!match) throw refuse();
    const presented = match[1]!;
    let known = cache.get(presented);
    if (!known) {
      const token = await storage.getToken(hashToken(presented));
      if (!token) throw refuse();
      known = { principalId: token.principalId, credential: `token:${token.accessor}`, expiresAt: token.expiresAt };
      cache.set(presented, known);
    }
    if (known.expiresAt !== null && known.expiresAt <= clock.now()) throw refuse();
    const caller = await callers(known.principalId, known.credential);
    if (!caller) throw refuse();
    return caller;
  };
}
