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

const TOKEN = /^Bearer (ddt_[A-Za-z0-9_-]{43})$/;

export type BearerAuthenticator = (authorization: string | undefined) => Promise<Caller>;

export function createBearerAuthenticator(deps: { storage: Storage; clock: Clock; cacheMs?: number }): BearerAuthenticator {
  const { storage, clock, cacheMs = 1000 } = deps;
  const cache = createLruCache<{ caller: Caller; expiresAt: Date | null }>({ maxEntries: 10_000, ttlMs: cacheMs });
  const refuse = () => new UnauthenticatedError('A valid bearer token is required.');
  return async (authorization) => {
    const match = authorization === undefined ? null : TOKEN.exec(authorization);
    if (!match) throw refuse();
    const presented = match[1]!;
    const hit = cache.get(presented);
    if (hit && (hit.expiresAt === null || hit.expiresAt > clock.now())) return hit.caller;
    const token = await storage.getToken(hashToken(presented));
    if (!token || (token.expiresAt !== null && token.expiresAt <= clock.now())) throw refuse();
    const principal = await storage.getPrincipal(token.principalId);
    if (!principal || principal.disabled) throw refuse();
    const caller = { principalId: principal.id, arn: principal.arn, roles: principal.roles, credential: `token:${token.accessor}` };
    cache.set(presented, { caller, expiresAt: token.expiresAt });
    return caller;
  };
}
