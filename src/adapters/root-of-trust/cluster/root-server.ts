// The primary's side: serves the workers' root-of-trust requests from the one sealable root it holds, so a node has
// one seal, one unseal attempt and one root key however many workers serve requests.
// Invariants: every request gets exactly one reply; errors travel as their code and client-safe message only (never
// a stack); the root keys rotate-root added are served too (wrap and unwrap name the key; a worker may ask for a new
// one); every status change — unseal progress, unsealed, sealed, reset, a root key added — reaches every worker
// before the reply of the request that caused it, so a worker never serves after a seal it was told of; unwrapped
// bytes are zeroed in the primary once encoded.
import { SecretBytes } from '../../../crypto/index.js';
import { toDataDefenderError } from '../../../errors/index.js';
import type { RootOfTrust } from '../../../ports/root-of-trust.js';
import type { LocalSealedRoot } from '../local-sealed/index.js';
import { type RootChannel, type RootOperation, type RootRequest, type RootStatusMessage, isRootRequest } from './root-messages.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const bytesOf = (arg: unknown) => Buffer.from(String(arg), 'base64');

type Handler = (root: LocalSealedRoot, args: unknown[]) => Promise<unknown>;

/** Root key `n` of the seal (rotate-root adds keys 2, 3, ...), or the root itself (key 1) when none is named. */
const rootKey = (root: LocalSealedRoot, n: unknown): RootOfTrust => (n === undefined || n === null ? root : root.rootKeyView(Number(n)));

const HANDLERS: Record<RootOperation, Handler> = {
  wrap: async (root, [plaintext, aad, n]) => {
    const secret = SecretBytes.adopt(bytesOf(plaintext));
    try {
      return b64(await rootKey(root, n).wrap(secret, bytesOf(aad)));
    } finally {
      secret.destroy();
    }
  },
  unwrap: async (root, [wrapped, aad, n]) => {
    const secret = await rootKey(root, n).unwrap(bytesOf(wrapped), bytesOf(aad));
    try {
      return secret.reveal().toString('base64');
    } finally {
      secret.destroy();
    }
  },
  submitShare: (root, [share, nonce]) => root.submitShare(String(share), nonce === undefined || nonce === null ? undefined : String(nonce)),
  resetUnseal: async (root) => root.resetUnseal(),
  seal: async (root) => root.seal(),
  rekey: (root, [shares, options]) => root.rekey((shares as unknown[]).map(String), options as { shares: number; threshold: number }),
  addRootKey: (root) => root.addRootKey(),
};

/** Serves `root` to worker channels; returns `connect`, called once per worker as it starts. */
export function createRootServer(root: LocalSealedRoot) {
  const channels = new Set<RootChannel>();
  const statusMessage = (): RootStatusMessage => ({ dd: 'root-status', status: root.status(), sealId: root.sealId, rootKeys: [...root.rootKeys] });
  let lastStatus = JSON.stringify(statusMessage());

  const broadcastIfChanged = () => {
    const message = statusMessage();
    const text = JSON.stringify(message);
    if (text === lastStatus) return;
    lastStatus = text;
    for (const channel of channels) channel.send(message);
  };

  const serve = async (channel: RootChannel, request: RootRequest) => {
    const handler = Object.hasOwn(HANDLERS, request.op) ? HANDLERS[request.op] : undefined;
    try {
      if (!handler) throw new Error(`unknown root operation ${String(request.op)}`);
      const value = await handler(root, request.args);
      broadcastIfChanged();
      channel.send({ dd: 'root-reply', id: request.id, ok: true, value: value ?? null });
    } catch (err) {
      broadcastIfChanged();
      const failure = toDataDefenderError(err);
      channel.send({ dd: 'root-reply', id: request.id, ok: false, code: failure.code, message: failure.message });
    }
  };

  return {
    connect(channel: RootChannel): () => void {
      channels.add(channel);
      channel.send(statusMessage());
      channel.onMessage((message) => {
        if (isRootRequest(message)) void serve(channel, message);
      });
      return () => channels.delete(channel);
    },
  };
}
