/**
 * The trail as export lines read straight from an AuditChainStore (checkpoints first, then archive records, then each
 * chain in sequence order, page by page): what an in-process verification, an archive or a benchmark reads. The REST client reads the
 * same lines through the API (cli/client/audit-commands.ts).
 * Invariant: lines are produced as stored, nothing recomputed, so the verifier judges exactly what storage holds.
 */
import type { AuditArchiveStore, AuditChainStore } from '../ports/audit-chain-store.js';
import type { AuditPublicKey } from './audit-keys.js';
import { EXPORT_FORMAT, EXPORT_FORMAT_V2, archiveLine, checkpointLine, eventLine, type ExportLine } from './export-format.js';

export async function* storedTrail(store: AuditChainStore & Pick<AuditArchiveStore, 'listArchiveRecords'>, options: { publicKeys?: readonly AuditPublicKey[]; pageSize?: number; now?: Date } = {}): AsyncGenerator<ExportLine> {
  const pageSize = options.pageSize ?? 5000;
  const archives = await store.listArchiveRecords();
  yield {
    type: 'header',
    format: archives.length > 0 ? EXPORT_FORMAT_V2 : EXPORT_FORMAT,
    exportedAt: (options.now ?? new Date()).toISOString(),
    publicKeys: (options.publicKeys ?? []).map(({ id, algorithm, publicKey }) => ({ id, algorithm, publicKey })),
  };
  for (const cp of await store.listCheckpoints()) yield checkpointLine(cp);
  for (const record of archives) yield archiveLine(record);
  for (const chain of await store.listChains()) {
    let after = 0;
    for (;;) {
      const page = await store.readChain(chain.chainId, { afterSequence: after, limit: pageSize });
      for (const e of page) yield eventLine(e);
      if (page.length < pageSize) break;
      after = page[page.length - 1]!.sequence;
    }
  }
}
