// The public face of the local-sealed root of trust.
export { initSealedRoot } from './init-sealed-root.js';
export { isLocalSealedRoot, openSealedRoot, SEALED_MESSAGE, type LocalSealedRoot } from './local-sealed-root.js';
export type { ShareOptions } from './share-options.js';
