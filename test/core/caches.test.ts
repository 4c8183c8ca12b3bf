import { describe, expect, it } from 'vitest';
import { createLruCache } from '../../src/core/lru-cache.js';
import { createMaterialCache } from '../../src/core/material-cache.js';
import { SecretBytes } from '../../src/crypto/index.js';

describe('LRU cache', () => {
  it('bounds entries, evicts the least recently used, expires by TTL and reports every eviction once', () => {
    let now = 0;
    const evicted: number[] = [];
    const cache = createLruCache<number>({ maxEntries: 2, ttlMs: 2100, now: () => now, onEvict: (v) => evicted.push(v) });
    cache.set('a', 1);
    cache.set('b', 2);
    now = 2000;
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(evicted).toEqual([2]);
    now = 4000;
    expect(cache.get('a')).toBeUndefined();
    expect(evicted).toEqual([2, 1]);
    cache.set('c', 4);
    expect(evicted).toEqual([2, 1, 3]);
    cache.set('x/1', 5);
    cache.clear();
    expect(cache.get('x/1')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(evicted).toEqual([2, 1, 3, 4, 5]);
  });

  it('stores nothing when disabled', () => {
    const cache = createLruCache<number>({ maxEntries: 0, ttlMs: 100 });
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('material cache', () => {
  it('zeroes secrets it evicts', () => {
    const cache = createMaterialCache({ maxEntries: 1, ttlMs: 1000 });
    const first = SecretBytes.copyOf(Buffer.alloc(32, 1));
    cache.set('k', 1, first);
    cache.set('k', 2, SecretBytes.copyOf(Buffer.alloc(32, 2)));
    expect(first.reveal().every((b) => b === 0)).toBe(true);
    expect(cache.get('k', 2)?.reveal()[0]).toBe(2);
    cache.evictKey('k');
    expect(cache.get('k', 2)).toBeUndefined();
  });
});
