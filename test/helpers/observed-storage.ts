import type { Storage } from '../../src/ports/storage.js';

/** The storage, with its getKey and getAlias calls counted; everything else passes through untouched. */
export function observed(storage: Storage) {
  const reads = { getKey: 0, getAlias: 0 };
  const proxy = new Proxy(storage, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'getKey' || property === 'getAlias') {
        return (...args: unknown[]) => {
          reads[property]++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { storage: proxy, reads };
}
