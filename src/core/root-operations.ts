/**
 * Root-of-trust operations: status, unseal (share by share), reset, seal (the emergency stop) and rekey.
 * Invariants: they run while sealed (everything else is refused then); unseal shares and new shares never reach the
 * audit trail or a log; sealing forgets every unwrapped key version held in memory at once; status and unseal need
 * no credentials (as an operator at a sealed server has none that work), seal and rekey need
 * `datadefender:SealRoot` / `datadefender:RekeyRoot` (administrators), and rekey is subject to dual control.
 */
import { UnsupportedError } from '../errors/index.js';
import type { RootOfTrust, SealableRoot, SealStatus } from '../ports/root-of-trust.js';
import type { RunOperation } from './audited-operation.js';
import type { RequestContext } from './request-context.js';

export interface RootStatus extends SealStatus {
  kind: string;
}

const UNSEALABLE: SealStatus = Object.freeze({ sealed: false, threshold: 0, shares: 0, progress: 0, nonce: null });

export function createRootOperations(deps: { run: RunOperation; root: RootOfTrust; sealable?: SealableRoot; forgetMaterial: () => void }) {
  const { run, root, sealable, forgetMaterial } = deps;
  const requireSealable = (): SealableRoot => {
    if (!sealable) throw new UnsupportedError(`The ${root.kind} root of trust cannot be sealed or unsealed by operators; it opens at start.`);
    return sealable;
  };
  const status = (): RootStatus => ({ kind: root.kind, ...(sealable ? sealable.status() : UNSEALABLE) });
  const publicOperation = <T>(ctx: RequestContext, name: string, perform: (root: SealableRoot) => Promise<T>) =>
    run(ctx, name, { readOnly: false, whileSealed: true, action: `datadefender:${name}` }, async (op) => {
      op.authorizedBy(null, 'public');
      const result = await perform(requireSealable());
      op.details.progress = requireSealable().status().progress;
      return result;
    });

  return {
    status,

    /** Submits one unseal share. @throws ValidationError, ConflictError, UnsupportedError */
    unseal: (ctx: RequestContext, share: string, nonce?: string): Promise<RootStatus> =>
      publicOperation(ctx, 'UnsealRoot', async (r) => {
        await r.submitShare(share, nonce);
        return status();
      }),

    resetUnseal: (ctx: RequestContext): Promise<RootStatus> =>
      publicOperation(ctx, 'ResetUnseal', async (r) => {
        await r.resetUnseal();
        return status();
      }),

    /** The emergency stop: seals at once and forgets all unwrapped material. */
    seal: (ctx: RequestContext): Promise<RootStatus> =>
      run(ctx, 'SealRoot', { readOnly: false, whileSealed: true, action: 'datadefender:SealRoot' }, async (op) => {
        await op.authorize(null);
        const r = requireSealable();
        await op.beforeChange();
        await r.seal();
        forgetMaterial();
        return status();
      }),

    /** New shares for the same root key (the current ones, `threshold` of them, are required). */
    rekey: (ctx: RequestContext, currentShares: readonly string[], options: { shares: number; threshold: number }): Promise<string[]> =>
      run(ctx, 'RekeyRoot', { readOnly: false, action: 'datadefender:RekeyRoot' }, async (op) => {
        Object.assign(op.details, { shares: options.shares, threshold: options.threshold });
        await op.authorize(null);
        const r = requireSealable();
        await op.beforeChange();
        return r.rekey(currentShares, options);
      }),
  };
}

export type RootOperations = ReturnType<typeof createRootOperations>;
