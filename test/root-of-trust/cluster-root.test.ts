// The local-sealed root held by a primary process and used by workers over IPC (server --workers N), tested with an
// in-memory channel pair: the root-of-trust contract, one unseal for every worker, errors arriving as the adapters'
// own classes, fail-closed before the first status, the root keys rotate-root adds, and a seal that reaches every
// worker.
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIpcRoot, type IpcRoot } from '../../src/adapters/root-of-trust/cluster/ipc-root.js';
import type { RootChannel } from '../../src/adapters/root-of-trust/cluster/root-messages.js';
import { createRootServer } from '../../src/adapters/root-of-trust/cluster/root-server.js';
import { initSealedRoot, openSealedRoot, type LocalSealedRoot } from '../../src/adapters/root-of-trust/local-sealed/index.js';
import { SecretBytes } from '../../src/crypto/index.js';
import { ConflictError, InvalidCiphertextError, NotFoundError, SealedError, ValidationError } from '../../src/errors/index.js';
import { rootOfTrustContract } from './root-of-trust-contract.js';

/** Two connected channel ends; messages cross through structured cloning, as they would over IPC (JSON). */
function channelPair(): [RootChannel, RootChannel] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, other: EventEmitter): RootChannel => ({
    send: (m) => void setImmediate(() => other.emit('message', JSON.parse(JSON.stringify(m)))),
    onMessage: (l) => void self.on('message', l),
  });
  return [end(a, b), end(b, a)];
}

const dirs: string[] = [];
async function sealedRoot(): Promise<{ root: LocalSealedRoot; shares: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'dd-cluster-root-'));
  dirs.push(dir);
  const shares = await initSealedRoot(join(dir, 'seal.json'), { shares: 3, threshold: 2 });
  return { root: await openSealedRoot(join(dir, 'seal.json')), shares };
}

function workers(root: LocalSealedRoot, n: number): IpcRoot[] {
  const server = createRootServer(root);
  return Array.from({ length: n }, () => {
    const [primarySide, workerSide] = channelPair();
    const ipc = connectIpcRoot(workerSide);
    server.connect(primarySide);
    return ipc;
  });
}

const settle = () => new Promise((r) => setTimeout(r, 20));

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

rootOfTrustContract('local-sealed served to a worker over IPC', async () => {
  const { root, shares } = await sealedRoot();
  const [ipc] = workers(root, 1);
  const first = await ipc!.submitShare(shares[0]!);
  await ipc!.submitShare(shares[2]!, first.nonce!);
  return { root: ipc!, close: async () => root.seal() };
});

describe('a sealable root shared by workers', () => {
  let root: LocalSealedRoot;
  let shares: string[];
  let a: IpcRoot;
  let b: IpcRoot;

  beforeAll(async () => {
    ({ root, shares } = await sealedRoot());
    [a, b] = workers(root, 2) as [IpcRoot, IpcRoot];
  });

  it('reads sealed before the primary has said anything, and refuses to wrap', async () => {
    const [, lonely] = channelPair();
    const ipc = connectIpcRoot(lonely);
    expect(ipc.status().sealed).toBe(true);
    await settle();
    expect(a.status()).toMatchObject({ sealed: true, threshold: 2, shares: 3, progress: 0 });
    await expect(a.wrap(SecretBytes.copyOf(Buffer.alloc(32, 1)), Buffer.from('k'))).rejects.toBeInstanceOf(SealedError);
  });

  it('takes the shares of one unseal attempt through different workers, with the adapters\' errors', async () => {
    const first = await a.submitShare(shares[0]!);
    expect(first.progress).toBe(1);
    expect(b.status()).toMatchObject({ progress: 1, nonce: first.nonce });
    await expect(b.submitShare(shares[0]!, first.nonce!)).rejects.toBeInstanceOf(ConflictError);
    await expect(b.submitShare('dds1.nonsense', first.nonce!)).rejects.toBeInstanceOf(ValidationError);
    await b.submitShare(shares[1]!, first.nonce!);
    expect(a.status().sealed).toBe(false);
    expect(b.status().sealed).toBe(false);
  });

  it('wraps in one worker what the other unwraps; a bad blob is InvalidCiphertextError', async () => {
    const wrapped = await a.wrap(SecretBytes.copyOf(Buffer.alloc(32, 7)), Buffer.from('key/1/v1'));
    expect((await b.unwrap(wrapped, Buffer.from('key/1/v1'))).reveal()).toEqual(Buffer.alloc(32, 7));
    await expect(b.unwrap(wrapped, Buffer.from('key/2/v1'))).rejects.toBeInstanceOf(InvalidCiphertextError);
  });

  it('serves the root keys rotate-root adds: one worker asks for key 2, every worker wraps and unwraps under it', async () => {
    expect([a.sealId, b.sealId]).toEqual([root.sealId, root.sealId]);
    expect(b.rootKeys).toEqual([1]);
    expect(await a.addRootKey()).toBe(2);
    await settle();
    expect(b.rootKeys).toEqual([1, 2]);
    const aad = Buffer.from('key/3/v1');
    const wrapped = await a.rootKeyView(2).wrap(SecretBytes.copyOf(Buffer.alloc(32, 9)), aad);
    expect((await b.rootKeyView(2).unwrap(wrapped, aad)).reveal()).toEqual(Buffer.alloc(32, 9));
    expect((await root.rootKeyView(2).unwrap(wrapped, aad)).reveal()).toEqual(Buffer.alloc(32, 9)); // the primary's key
    await expect(b.unwrap(wrapped, aad)).rejects.toBeInstanceOf(InvalidCiphertextError); // key 1 is another key
    await expect(b.rootKeyView(3).wrap(SecretBytes.copyOf(Buffer.alloc(32, 9)), aad)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a seal through one worker reaches every worker and calls their onSealed listeners', async () => {
    let forgotten = 0;
    b.onSealed(() => forgotten++);
    await a.seal();
    await settle();
    expect(root.status().sealed).toBe(true);
    expect(b.status().sealed).toBe(true);
    expect(forgotten).toBe(1);
  });
});
