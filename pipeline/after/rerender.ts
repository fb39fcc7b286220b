/**
 * After a correction (第十七条) or a reissue (第二十二条) the certificate is rendered and signed again under the same
 * number. This is the contract between the registry and whoever renders, in one place:
 *
 *   registry.correct / registry.reissue   → records the change and marks the certificate pendingRender
 *   renderAndSign(job)                    → the caller's render + stamp + sign (stages do not import each other)
 *   registry.recordDigest / markIssued    → the new PDF becomes current, the old one superseded, the change applied
 *
 * A crash anywhere in between leaves the change recorded and the certificate listed by registry.pendingRenders(),
 * with its old PDF still current; resumePending() (behind `skillcert correct --resume`, or at the start of a batch)
 * finishes every such certificate. `through: job.revision` keeps a change recorded while a PDF was rendering pending
 * for the next round instead of marking it carried by a PDF that does not show it.
 */
import type { Context } from '../core/context.js';
import { SkillcertError } from '../core/errors.js';
import type { CertificateRecord, CorrectionChange, PdfDigest, PendingRender, Registry, ReissueKind } from '../registry/index.js';
import { scrubIds } from '../core/privacy.js';

/** Renders and signs `job.printed` (with `job.reissue`'s 补发/换发日期, and the new photo when `job.photoChanged`). */
export type RenderAndSign = (job: PendingRender) => Promise<PdfDigest>;

type Clock = Pick<Context, 'now' | 'operator'>;

/** Renders, signs and records the PDF of one pending job. */
export async function finishPending(registry: Registry, job: PendingRender, renderAndSign: RenderAndSign, ctx: Clock): Promise<CertificateRecord> {
  const pdf = await renderAndSign(job);
  const options = { operator: ctx.operator, through: job.revision };
  return job.next === 'markIssued'
    ? registry.markIssued(job.number, pdf, ctx.now, options)
    : registry.recordDigest(job.number, pdf, ctx.now, job.reason, options);
}

/** correct → render → sign → recordDigest. If rendering fails the correction stays recorded and pending. */
export async function correctAndRerender(
  registry: Registry,
  number: string,
  change: CorrectionChange,
  reason: string,
  renderAndSign: RenderAndSign,
  ctx: Clock,
): Promise<CertificateRecord> {
  const job = await registry.correct(number, change, reason, ctx.now, ctx.operator);
  return finishPending(registry, job, renderAndSign, ctx);
}

/** reissue → render → sign → recordDigest (第二十二条: same number, printed data unchanged, 补发/换发日期 added). */
export async function reissueAndRerender(
  registry: Registry,
  number: string,
  kind: ReissueKind,
  renderAndSign: RenderAndSign,
  ctx: Clock,
  reason?: string,
): Promise<CertificateRecord> {
  const job = await registry.reissue(number, kind, ctx.now, ctx.operator, reason);
  return finishPending(registry, job, renderAndSign, ctx);
}

export interface ResumeReport {
  readonly done: readonly CertificateRecord[];
  /** Certificates that still wait, with why; they stay pending and the next resume tries again. */
  readonly failed: readonly { readonly number: string; readonly error: SkillcertError }[];
}

/**
 * Finishes every pending re-rendering. One failure never stops the others: all are tried, failures reported
 * together (the batch rule of SPEC §3).
 */
export async function resumePending(registry: Registry, renderAndSign: RenderAndSign, ctx: Clock): Promise<ResumeReport> {
  const done: CertificateRecord[] = [];
  const failed: { number: string; error: SkillcertError }[] = [];
  for (const job of await registry.pendingRenders()) {
    try {
      done.push(await finishPending(registry, job, renderAndSign, ctx));
    } catch (err) {
      const error =
        err instanceof SkillcertError
          ? err
          : new SkillcertError('E_RENDER', `re-rendering certificate ${job.number} failed: ${scrub((err as Error)?.message ?? String(err), job)}; fix the cause and run the resume again`, { number: job.number }, { cause: err });
      failed.push({ number: job.number, error });
    }
  }
  return { done, failed };
}

/** A renderer's message may quote the record; the ID number never reaches ours (第十九条). */
function scrub(message: string, job: PendingRender): string {
  return scrubIds(message, [job.certificate.idNo]);
}
