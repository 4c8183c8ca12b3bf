/**
 * Turns an authenticated principal id into the Caller that authorization sees: ARN, roles, attached policies
 * (with their documents) and tags.
 * Invariants: a missing or disabled principal yields undefined (every authenticator then refuses with its own
 * fixed text); what is read is remembered for at most `cacheMs`, so disabling a principal, changing its roles or
 * policies or editing an attached policy takes effect within it.
 */
import type { Storage } from '../ports/storage.js';
import type { Caller } from '../policy/authorize.js';
import { createLruCache } from '../core/lru-cache.js';

export type CallerDirectory = (principalId: string, credential: string) => Promise<Caller | undefined>;

export function createCallerDirectory(deps: { storage: Storage; cacheMs?: number; maxEntries?: number }): CallerDirectory {
  const { storage, cacheMs = 1000, maxEntries = 10_000 } = deps;
  const cache = createLruCache<Omit<Caller, 'credential'> | null>({ maxEntries, ttlMs: cacheMs });

  const load = async (principalId: string): Promise<Omit<Caller, 'credential'> | null> => {
    const principal = await storage.getPrincipal(principalId);
    if (!principal || principal.disabled) return null;
    const documents = await Promise.all(principal.policies.map((name) => storage.getPolicy(name)));
    return Object.freeze({
      principalId: principal.id,
      arn: principal.arn,
      roles: Object.freeze([...principal.roles]),
      policies: Object.freeze(documents.flatMap((p) => (p ? [Object.freeze({ name: p.name, document: p.document })] : []))),
      tags: Object.freeze({ ...principal.tags }),
    });
  };

  return async (principalId, credential) => {
    let base = cache.get(principalId);
    if (base === undefined) {
      base = await load(principalId);
      cache.set(principalId, base);
    }
    return base === null ? undefined : { ...base, credential };
  };
}
