// The primary's side: serves the workers' root-of-trust requests from the one sealable root it holds, so a node has
// one seal, one unseal attempt and one root key however many workers serve requests.
// Invariants: every request gets exactly one reply; errors travel as their code and client-safe message only (never
// a stack); every status change — unseal progress, unsealed, sealed, reset — reaches every worker before the reply
// of the request that caused it, so a worker never serves after a seal it was told of; unwrapped bytes are zeroed in
// the primary once encoded.
import { SecretBytes } from '../../../crypto/index.js';
import { toDataDefenderError } from '../../../errors/index.js';
import type { SealableRoot } from '../../../ports/root-of-trust.js';
import { type RootChannel, type RootOperation, type RootRequest, isRootRequest } from './root-messages.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const bytesOf = (arg: unknown) => Buffer.from(String(arg), 'base64');

type Handler = (root: SealableRoot, args: unknown[]) => Promise<unknown>;

const HANDLERS: Record<RootOperation, Handler> = {
  wrap: async (root, [plaintext, aad]) => {
    const secret = SecretBytes.adopt(bytesOf(plaintext));
    try {
      return b64(await root.wrap(secret, bytesOf(aad)));
    } finally {
      secret.destroy();
    }
  },
  unwrap: async (root, [wrapped, aad]) => {
    const secret = await root.unwrap(bytesOf(wrapped), bytesOf(aad));
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
};

/** Serves `root` to worker channels; returns `connect`, called once per worker as it starts. */
export function createRootServer(root: SealableRoot) {
  const channels = new Set<RootChannel>();
  let lastStatus = JSON.stringify(root.status());

  const broadcastIfChanged = () => {
    const status = root.status();
    const text = JSON.stringify(status);
    if (text === lastStatus) return;
    lastStatus = text;
    for (const channel of channels) channel.send({ dd: 'root-status', status });
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
      channel.send({ dd: 'root-status', status: root.status() });
      channel.onMessage((message) => {
        if (isRootRequest(message)) void serve(channel, message);
      });
      return () => channels.delete(channel);
    },
  };
}
