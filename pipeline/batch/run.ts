/**
 * `skillcert run`: the nightly batch, in the order of its stages.
 *
 *   plan (options, profile, identity) → ingest + validate → number → render + stamp + sign (worker threads) → bundle
 *
 * Exactly once: numbers come from the registry in roster order (issue.ts). A batch is named by its roster's and
 * profile's content, so running the same roster again resumes the same batch folder: certificates already issued
 * are kept, numbered-but-unsigned ones are rendered again, nothing is numbered twice. Files are written under a
 * temporary name and renamed, so a killed run never leaves a half-written file. With a PostgreSQL registry the
 * batch may be shared by several machines (queued.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BatchOutputs } from '../bundle/index.js';
import type { Context } from '../core/context.js';
import { removeStaleTemporaries } from '../core/files.js';
import type { BatchSummary } from '../core/summary.js';
import { openRegistry, type Registry } from '../registry/index.js';
import { type RosterSummary, type RosterValidation, validateRoster } from '../validate/index.js';
import { startEngines } from './engines.js';
import { StageClock, summarise, writeOutputs } from './finish.js';
import { issueCertificates, PHOTO_WINDOW } from './issue.js';
import { lockBatch } from './lock.js';
import { PhotoQueue } from './photos.js';
import { placeBatch, planBatch, type RunOptions } from './plan.js';
import { QueuedBatch } from './queued.js';
import { removeStaleSpools, spoolFile } from './spool.js';
import { publishStatusLists } from '../status/index.js';

export { batchIdFor, noProgress, type Progress, type RunOptions } from './plan.js';
export { validateOnly, type ValidateOnlyResult } from './validate-only.js';

export interface RunResult {
  readonly batchId: string;
  readonly dir: string;
  readonly registry: string;
  /** The batch's records: with a queued batch, gathered from every machine's work. */
  readonly summary: BatchSummary;
  /** The tables, receipts and bundle; undefined when another machine of a queued batch wrote them (`bundledBy`). */
  readonly outputs?: BatchOutputs;
  readonly roster: RosterSummary;
  /** Queued batches: the chunks this machine worked through (its share of `summary`, which is the whole batch's). */
  readonly chunks?: number;
  /** Queued batches: who wrote the bundle, when it was not this machine. */
  readonly bundledBy?: string;
}

export async function runBatch(ctx: Context, opts: RunOptions): Promise<RunResult> {
  const clock = new StageClock(ctx.now);
  const plan = planBatch(ctx, opts);
  const { profile, fonts } = plan.identity;
  // Chromium prints the template and the workers start while the roster is validated.
  const engines = startEngines(plan, ctx.now);
  const closing: (() => unknown)[] = [() => engines.close()];
  try {
    // 1. ingest + validate: an unreadable roster fails here, before anything but the spool of accepted rows (in the
    // output folder, with the batch's other personal data; removed once read) is written.
    mkdirSync(plan.out, { recursive: true });
    removeStaleSpools(plan.out);
    const validation: RosterValidation = await validateRoster(plan.roster, profile, {
      uncovered: (text, role) => fonts.uncovered(text, role), now: ctx.now, spool: spoolFile(plan.out),
      ...(plan.issueDate ? { issueDate: plan.issueDate } : {}), ...(plan.sheet !== undefined ? { sheet: plan.sheet } : {}),
    });
    closing.push(() => validation.discard());
    const rs = validation.summary;
    const place = placeBatch(plan, rs.sha256);
    clock.mark('validated');

    // 2. the batch claimed: one run per batch (a lock beside it), or this machine's share of a queued batch.
    let queued: QueuedBatch | undefined;
    let photos: PhotoQueue | undefined;
    if (plan.queued) {
      queued = await QueuedBatch.open(plan, place, rs.accepted);
      closing.push(() => queued!.close());
    } else {
      closing.push(lockBatch(plan.out, place.batchId, ctx.now));
      // The first photos are prepared while Chromium finishes: like it, they write nothing.
      photos = new PhotoQueue(validation.accepted(), plan.photoDir, PHOTO_WINDOW);
      closing.push(() => photos!.stop());
    }

    // 3. the template and the workers, then the registry: a broken profile or identity stops the run before the registry is touched.
    const pool = await engines.ready();
    clock.mark('template');
    mkdirSync(place.certDir, { recursive: true });
    // What a killed run left half-written in the batch folder goes. (A queued batch's other machines may be writing
    // theirs: the bundle's writer removes them, once all are done.)
    if (!queued) removeStaleTemporaries(place.dir);
    ctx.log.info('batch', { batchId: place.batchId, rows: rs.rowsRead, accepted: rs.accepted, rejectedRows: rs.rejectedRows });
    if (!plan.queued) mkdirSync(dirname(plan.registry), { recursive: true });
    const registry: Registry = await openRegistry(plan.registry, { operator: ctx.operator, now: ctx.now });
    closing.push(() => registry.close());

    // 4. number in roster order, render + sign in parallel, record each signed file.
    const work = { registry, pool, profile, batchId: place.batchId, certDir: place.certDir };
    plan.progress.start(rs.accepted);
    const shared = await queued?.issue(ctx, plan, work, validation);
    const records = shared ?? (await issueCertificates(ctx, work, photos!, { finished: (done) => plan.progress.tick(done) }));
    plan.progress.stop();
    await engines.close();
    clock.mark('certificates');
    const summary = summarise(plan, place, rs, records, clock);
    const result = { batchId: place.batchId, dir: place.dir, registry: plan.registry, summary, roster: rs, ...(shared ? { chunks: shared.chunks } : {}) };
    if (shared?.claim.done) {
      // Another machine (or an earlier run) wrote the bundle from the same records: leave it as written.
      ctx.log.info('batch done', { batchId: place.batchId, bundledBy: shared.claim.by ?? '', ms: clock.elapsedMs });
      return { ...result, bundledBy: shared.claim.by ?? 'another machine' };
    }
    // No machine writes certificates of a queued batch any more: what killed ones left half-written goes.
    if (queued) removeStaleTemporaries(place.dir);

    // 5. the rejects workbook and the bundle, from the batch's records.
    const outputs = await writeOutputs(ctx, plan, place, registry, summary, rs, records.signed);
    await publishStatusLists(registry, { orgCode: plan.identity.profile.orgCode, signer: plan.identity.signer, now: ctx.now, out: plan.out });
    await queued?.bundled();
    ctx.log.info('batch done', { batchId: place.batchId, issued: summary.issued.length, rejected: summary.rejected.length, skipped: summary.skipped.length, ms: clock.elapsedMs });
    return { ...result, outputs };
  } finally {
    for (const close of closing.reverse()) await close();
  }
}
