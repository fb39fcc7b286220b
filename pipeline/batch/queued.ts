/**
 * A batch shared by the machines of one PostgreSQL registry (SPEC §9): each works through chunks of the accepted rows
 * claimed from the batch's job queue (queue.ts), and one of them writes the bundle from everyone's records.
 */
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import type { IssuedCertificate } from '../core/summary.js';
import type { CertificateRecord, Registry } from '../registry/index.js';
import type { RosterValidation } from '../validate/index.js';
import { issueCertificates, type IssueHooks, type IssueOutcome, type IssueWork, PHOTO_WINDOW } from './issue.js';
import { PhotoQueue } from './photos.js';
import type { BatchPlace, BatchPlan } from './plan.js';
import type { BatchQueue, BundleClaim, Chunk } from './queue.js';

/** The batch's records gathered from every machine's work, once every chunk is done. */
export interface QueuedOutcome extends IssueOutcome {
  readonly claim: BundleClaim;
  /** The chunks this machine worked through. */
  readonly chunks: number;
}

/** The batch's queue and the chunks this machine is working, which stop reading rows if the queue is lost. */
export class QueuedBatch {
  private readonly working = new Set<PhotoQueue>();

  private constructor(readonly queue: BatchQueue) {}

  static async open(plan: BatchPlan, place: BatchPlace, accepted: number): Promise<QueuedBatch> {
    const { BatchQueue } = await import('./queue.js');
    let batch: QueuedBatch | undefined;
    const queue = await BatchQueue.open(plan.registry, place.batchId, { accepted, chunkRows: plan.chunkRows, ...(plan.lease !== undefined ? { leaseSeconds: plan.lease } : {}), onLost: () => batch?.stop() });
    batch = new QueuedBatch(queue);
    return batch;
  }

  /**
   * Claims chunks until every chunk is done and this machine holds the bundle's lock, issuing each as a batch of its
   * own. The next chunk is claimed as soon as the current one's rows are all numbered and handed to the pool, so
   * that the workers never wait at a chunk's end; at most two chunks are in progress. Chunks may go back to the
   * queue while this machine waits for the bundle's lock (a machine started since retries the rows an earlier run
   * could not issue): they are claimed again.
   */
  async issue(ctx: Context, plan: BatchPlan, work: IssueWork, validation: RosterValidation): Promise<QueuedOutcome> {
    const { queue } = this;
    let done = 0;
    let chunks = 0;
    let failure: { error: unknown } | undefined;
    let claim: BundleClaim | undefined;
    const inProgress = new Set<Promise<void>>();
    while (!claim) {
      for (let chunk = await queue.claim(); chunk && !failure; chunk = await queue.claim()) {
        const rows = new PhotoQueue(validation.accepted({ from: chunk.first, count: chunk.rows }), plan.photoDir, PHOTO_WINDOW);
        this.working.add(rows);
        let dispatched!: () => void;
        const allDispatched = new Promise<void>((resolve) => (dispatched = resolve));
        const p = this.issueChunk(ctx, chunk, work, rows, { finished: () => plan.progress.tick(++done), dispatched }).then(
          () => void chunks++,
          (error: unknown) => void (failure ??= { error }),
        );
        inProgress.add(p);
        void p.finally(() => {
          inProgress.delete(p);
          this.working.delete(rows);
        });
        await allDispatched;
      }
      await Promise.all(inProgress);
      if (failure) throw failure.error;
      claim = await queue.claimBundle();
    }
    return { claim, chunks, ...(await this.gather(work.registry, validation, work.certDir)) };
  }

  /** The bundle is written. */
  bundled(): Promise<void> {
    return this.queue.bundled();
  }

  stop(): void {
    this.working.forEach((q) => q.stop());
  }

  async close(): Promise<void> {
    this.stop();
    await this.queue.close();
  }

  /** One claimed chunk issued, then marked done with its outcome — or, when that fails, released for another machine. */
  private async issueChunk(ctx: Context, chunk: Chunk, work: IssueWork, rows: PhotoQueue, hooks: IssueHooks): Promise<void> {
    try {
      const o = await issueCertificates(ctx, work, rows, hooks);
      await this.queue.complete(chunk, { problems: o.problems, skipped: o.skipped, existing: o.issued.filter((c) => c.origin === 'existing').map((c) => c.rowNo) });
    } catch (err) {
      await this.queue.release(chunk);
      throw err;
    }
  }

  /**
   * The batch's records from every machine: the accepted rows (the spool, in roster order) with their certificates
   * of this batch from the registry, and the rows each chunk could not issue; `signed` holds every machine's digests.
   */
  private async gather(registry: Registry, validation: RosterValidation, certDir: string): Promise<Omit<QueuedOutcome, 'claim' | 'chunks'>> {
    const outcomes = await this.queue.outcomes();
    const existing = new Set(outcomes.flatMap((o) => o.existing));
    const byRow = new Map<number, CertificateRecord>();
    for (const c of await registry.listBatch(this.queue.batchId)) if (c.status === 'issued') byRow.set(Number(c.printed.rowNo), c);
    const issued: IssuedCertificate[] = [];
    const signed = new Map<string, string>();
    for await (const row of validation.accepted({ from: 0, count: validation.summary.accepted })) {
      const c = byRow.get(row.rowNo);
      if (!c?.sha256) continue;
      issued.push({ ...row, number: c.number, stockSerial: c.stockSerial, file: join(certDir, `${c.number}.pdf`), sha256: c.sha256, origin: existing.has(row.rowNo) ? 'existing' : 'created' });
      signed.set(`certificates/${c.number}.pdf`, c.sha256);
    }
    return { issued, problems: outcomes.flatMap((o) => o.problems), skipped: outcomes.flatMap((o) => o.skipped), signed };
  }
}
