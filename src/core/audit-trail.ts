/** Reading the audit trail is itself an audited, authorized operation (CloudTrail's LookupEvents). */
import type { StoredAuditEvent } from '../ports/audit-sink.js';
import type { KeyContext } from './key-context.js';
import type { RequestContext } from './request-context.js';

export function createAuditTrail(kc: KeyContext) {
  return {
    read(ctx: RequestContext, options: { afterSequence: number; limit: number }): Promise<StoredAuditEvent[]> {
      return kc.run(ctx, 'LookupEvents', { readOnly: true, action: 'datadefender:LookupEvents' }, async (op) => {
        await op.authorize(null);
        return kc.storage.readAudit(options);
      });
    },
  };
}
