/**
 * rotate-root and migrate-root: move every wrapped blob to a new root generation while the server keeps serving.
 * rotate-root makes a new root key in the adapter of the active generation; migrate-root makes (or opens) a root in
 * another adapter from the configuration. Both add the new generation as active at once (new material is wrapped
 * under it from then on; old blobs still unwrap under their own generation), then re-wrap the rest in the
 * background (core/root-rewrap.ts), and retire the old generations only when a complete pass finds nothing left.
 *
 * Invariants:
 * - both run through `run(...)`: audited, authorized as `datadefender:RotateRoot` / `datadefender:MigrateRoot`
 *   (administrators), subject to dual control when configured; the attempt is recorded before the new root is made;
 * - one job at a time: running the same command again resumes the job under way (after a crash or a restart, from its
 *   saved cursor); a different one is refused with ConflictError until it is done; the job's completion is audited;
 * - requests keep using the ring throughout; progress (done/total) is readable at any time.
 */
import { ConflictError, ValidationError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { RootMigrationRecord, RootRingStorage } from '../ports/root-ring-storage.js';
import type { AccountScope } from './arn.js';
import type { RunOperation } from './audited-operation.js';
import { jobContext } from './job-context.js';
import type { RequestContext } from './request-context.js';
import { nextGenerationNumber } from './root-registry.js';
import type { RingView, RootBackends, RootCreateRequest, RootRing } from './root-ring.js';
import { defaultWrappedCollections, newRewrapJob, RewrapConflict, RewrapStopped, runRewrapJob, type WrappedCollection } from './root-rewrap.js';

export interface RootMigrationView {
  id: string;
  operation: RootMigrationRecord['operation'];
  state: 'running' | 'done' | 'stopped';
  targetGeneration: number;
  targetKind: string;
  fromGenerations: number[];
  done: number;
  total: number;
  skipped: number;
  lastError: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface RootMigrationStatus {
  ring: RingView;
  migration: RootMigrationView | null;
}

export interface RootMigrationStart extends RootMigrationStatus {
  resumed: boolean;
  /** migrate-root --to local-sealed: the new seal's unseal shares (shown once). */
  shares?: string[];
}

export interface RootMigrationDeps {
  run: RunOperation;
  storage: RootRingStorage;
  ring: RootRing;
  backends: RootBackends;
  clock: Clock;
  scope: AccountScope;
  /** Blobs per batch (default 100). */
  batchSize?: number;
  /** Wait before each verification pass so other servers pick up the new generation (default 6 s). */
  settleMs?: number;
  /** Extra tables of root-wrapped blobs (beyond key versions and access keys). */
  extraCollections?: readonly WrappedCollection[];
  /** Called after each saved batch; throwing interrupts the job (tests). */
  onBatch?: (job: RootMigrationRecord) => void | Promise<void>;
  /** Where a background failure is reported (the job also keeps it as lastError). */
  onError?: (err: unknown) => void;
}

/** A running job whose record was saved this recently is alive in some process (several settle waits and batches). */
const LIVENESS_MS = 30_000;

export function createRootMigrations(deps: RootMigrationDeps) {
  const { run, storage, ring, backends, clock, scope } = deps;
  const collections = [...defaultWrappedCollections(storage), ...(deps.extraCollections ?? [])];
  let running: { id: string; promise: Promise<void> } | null = null;
  let stopping = false;

  // Under `server --workers N` (or several nodes) the job runs in the process that took the request; another process
  // sees it running while it keeps saving its progress (after every batch; the longest pause is the settle wait).
  // A job that failed keeps its error until it runs again (work() clears it at once).
  const runningElsewhere = (job: RootMigrationRecord) =>
    job.state === 'running' && job.lastError === null && clock.now().getTime() - job.updatedAt.getTime() < LIVENESS_MS;
  const view = (job: RootMigrationRecord): RootMigrationView => ({
    id: job.id,
    operation: job.operation,
    state: job.state === 'done' ? 'done' : running?.id === job.id || runningElsewhere(job) ? 'running' : 'stopped',
    targetGeneration: job.targetGeneration,
    targetKind: job.targetKind,
    fromGenerations: job.fromGenerations,
    done: job.done,
    total: job.total,
    skipped: job.skipped,
    lastError: job.lastError,
    startedAt: job.startedAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  });

  const status = async (): Promise<RootMigrationStatus> => {
    const job = await storage.latestRootMigration();
    return { ring: await ring.view(), migration: job ? view(job) : null };
  };

  async function work(job: RootMigrationRecord): Promise<void> {
    let current = job;
    try {
      if (current.lastError !== null) {
        const resumed: RootMigrationRecord = { ...current, lastError: null, revision: current.revision + 1, updatedAt: clock.now() };
        if (await storage.updateRootMigration(resumed, current.revision)) current = resumed;
      }
      await ring.refresh();
      current = await runRewrapJob(current, {
        storage,
        clock,
        collections,
        batchSize: deps.batchSize ?? 100,
        settleMs: deps.settleMs ?? 6000,
        step: {
          current: (blob) => ring.isCurrent(blob),
          open: (blob, aad) => ring.unwrap(blob, aad),
          seal: (plaintext, aad) => ring.wrap(plaintext, aad),
        },
        ...(deps.onBatch
          ? {
              onBatch: async (j: RootMigrationRecord) => {
                current = j;
                await deps.onBatch!(j);
              },
            }
          : { onBatch: (j: RootMigrationRecord) => void (current = j) }),
        stopping: () => stopping,
      });
      await ring.rewrapRecoveryRecord();
      await ring.retire(current.fromGenerations);
      const now = clock.now();
      const finished: RootMigrationRecord = { ...current, state: 'done', revision: current.revision + 1, finishedAt: now, updatedAt: now, lastError: null };
      if (await storage.updateRootMigration(finished, current.revision)) current = finished;
      await run(jobContext(scope), 'CompleteRootMigration', { readOnly: false, whileSealed: false, action: 'datadefender:GetStatus' }, async (op) => {
        op.authorizedBy(null, 'system');
        Object.assign(op.details, { job: finished.id, operation: finished.operation, generation: finished.targetGeneration, kind: finished.targetKind, retired: finished.fromGenerations, total: finished.total });
      }).catch(() => undefined);
    } catch (err) {
      if (err instanceof RewrapConflict) return;
      const message = err instanceof RewrapStopped ? err.message : err instanceof Error && 'code' in err ? err.message : 'The re-wrap job failed; see the server log.';
      const latest = await storage.latestRootMigration().catch(() => undefined);
      if (latest && latest.id === current.id && latest.state === 'running') {
        await storage.updateRootMigration({ ...latest, revision: latest.revision + 1, lastError: message, updatedAt: clock.now() }, latest.revision).catch(() => false);
      }
      if (!(err instanceof RewrapStopped)) deps.onError?.(err);
    }
  }

  function launch(job: RootMigrationRecord): void {
    if (running?.id === job.id) return;
    const entry = {
      id: job.id,
      promise: work(job).finally(() => {
        if (running === entry) running = null;
      }),
    };
    running = entry;
  }

  /** Starts a new job or resumes the one under way; the re-wrap continues in the background. */
  async function start(
    ctx: RequestContext,
    name: 'RotateRoot' | 'MigrateRoot',
    operation: 'rotate' | 'migrate',
    request: Omit<RootCreateRequest, 'generation' | 'mode' | 'kind'> & { to?: string },
  ): Promise<RootMigrationStart> {
    return run(ctx, name, { readOnly: false, action: `datadefender:${name}` }, async (op) => {
      if (request.to !== undefined) op.details.to = request.to;
      await op.authorize(null);
      if (stopping) throw new ConflictError('The server is shutting down.');
      const latest = await storage.latestRootMigration();
      const reg = await ring.view();
      if (latest?.state === 'running') {
        const same = latest.operation === operation && (operation === 'rotate' || latest.targetKind === request.to);
        if (!same) {
          throw new ConflictError(
            `A ${latest.operation === 'rotate' ? 'rotate-root' : `migrate-root --to ${latest.targetKind}`} is under way (${latest.done}/${latest.total}); run it again to resume it, and start another only when it is done.`,
          );
        }
        op.details.job = latest.id;
        op.details.resumed = true;
        await op.beforeChange();
        launch(latest);
        return { ...(await status()), resumed: true };
      }
      const kind = operation === 'rotate' ? reg.active.kind : request.to!;
      if (operation === 'migrate' && kind === reg.active.kind) {
        throw new ValidationError(`The active root of trust already is ${kind}: use rotate-root for a new root key in the same adapter.`);
      }
      const generation = nextGenerationNumber(reg);
      Object.assign(op.details, { kind, generation });
      await op.beforeChange();
      const createRequest: RootCreateRequest = { kind, generation, mode: operation };
      if (request.awsKmsKeyId !== undefined) createRequest.awsKmsKeyId = request.awsKmsKeyId;
      if (request.createKey !== undefined) createRequest.createKey = request.createKey;
      if (request.shares !== undefined) createRequest.shares = request.shares;
      if (request.threshold !== undefined) createRequest.threshold = request.threshold;
      const created = await backends.create(createRequest);
      await ring.beginGeneration(kind, created, generation);
      const now = clock.now();
      const job = await newRewrapJob(storage, { operation, targetGeneration: generation, targetKind: kind, generations: reg.generations, now });
      await storage.createRootMigration(job);
      op.details.job = job.id;
      launch(job);
      return { ...(await status()), resumed: false, ...(created.shares ? { shares: created.shares } : {}) };
    });
  }

  return {
    /**
     * rotate-root: a new root key in the active generation's adapter (aws-kms: `awsKmsKeyId` names the new upstream key).
     * @throws AccessDeniedError, ApprovalRequiredError, ConflictError (another job under way), ValidationError, DependencyError
     */
    rotate: (ctx: RequestContext, options: { awsKmsKeyId?: string } = {}) => start(ctx, 'RotateRoot', 'rotate', options),

    /**
     * migrate-root --to <kind>: a root in another adapter, opened (or created: pkcs11 createKey; local-sealed a new
     * seal with `shares`/`threshold`) from the configuration.
     */
    migrate: (ctx: RequestContext, options: { to: string; createKey?: boolean; shares?: number; threshold?: number; awsKmsKeyId?: string }) => {
      if (typeof options?.to !== 'string' || options.to.length === 0) throw new ValidationError('migrate-root needs the root of trust to move to (--to).');
      return start(ctx, 'MigrateRoot', 'migrate', options);
    },

    /** The ring and the latest job. */
    progress: (ctx: RequestContext): Promise<RootMigrationStatus> =>
      run(ctx, 'GetRootMigration', { readOnly: true, action: 'datadefender:GetStatus' }, async (op) => {
        await op.authorize(null);
        return status();
      }),

    /** Resolves when the background job of this process (if any) has stopped. */
    settled: async (): Promise<void> => {
      while (running) await running.promise;
    },

    /** Stops the background job after its current batch (shutdown); rerunning the command resumes it. */
    close: async (): Promise<void> => {
      stopping = true;
      while (running) await running.promise;
    },
  };
}

export type RootMigrations = ReturnType<typeof createRootMigrations>;
