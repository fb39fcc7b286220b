/**
 * The end of a batch: its summary from the records, then the rejects workbook, the tables, receipts and filing bundle
 * (bundle/), and the bundle's export recorded in the registry.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type BatchOutputs, writeBatchOutputs } from '../bundle/index.js';
import type { Context } from '../core/context.js';
import type { Problem } from '../core/errors.js';
import type { BatchSummary, IssuedCertificate, SkippedRow } from '../core/summary.js';
import type { Registry } from '../registry/index.js';
import { type RosterSummary, writeRejectsWorkbook } from '../validate/index.js';
import type { BatchPlace, BatchPlan } from './plan.js';

/** A run's clock: the moments its stages ended, for the summary's timings. */
export class StageClock {
  private readonly t0 = performance.now();
  private readonly marks = new Map<string, number>();
  constructor(private readonly now: Date) {}
  mark(stage: 'validated' | 'template' | 'certificates'): void {
    this.marks.set(stage, performance.now());
  }
  /** When the run started and "now" on the run's clock (ctx.now plus the time since the start). */
  get startedAt(): string {
    return this.now.toISOString();
  }
  get nowIso(): string {
    return new Date(this.now.getTime() + (performance.now() - this.t0)).toISOString();
  }
  get elapsedMs(): number {
    return Math.round(performance.now() - this.t0);
  }
  timings(): BatchSummary['timings'] {
    const at = (s: string) => this.marks.get(s) ?? performance.now();
    return { validateMs: Math.round(at('validated') - this.t0), templateMs: Math.round(at('template') - at('validated')), certificatesMs: Math.round(at('certificates') - at('template')) };
  }
}

/** The rows that were read but not issued because of their result (不合格/缺考/舞弊, seed 004). */
export function notPassed(rs: RosterSummary): SkippedRow[] {
  return rs.skippedRows.map((s) => ({
    rowNo: s.rowNo, reason: 'result', result: s.result, occupation: s.occupation, ...(s.level ? { level: s.level } : {}),
    message: `认定结果 ${s.result}: counted, no certificate (seed 004)`,
  }));
}

export interface BatchRecords {
  readonly issued: readonly IssuedCertificate[];
  readonly problems: readonly Problem[];
  readonly skipped: readonly SkippedRow[];
}

export function summarise(plan: BatchPlan, place: BatchPlace, rs: RosterSummary, records: BatchRecords, clock: StageClock): BatchSummary {
  const byRow = <T extends { rowNo: number }>(xs: readonly T[]) => [...xs].sort((a, b) => a.rowNo - b.rowNo);
  return {
    batchId: place.batchId, profileId: plan.identity.profile.id, roster: plan.roster, startedAt: clock.startedAt, finishedAt: clock.nowIso,
    rowsRead: rs.rowsRead, issued: byRow(records.issued), rejected: byRow([...rs.problems, ...records.problems]),
    skipped: byRow([...notPassed(rs), ...records.skipped]), fonts: plan.identity.fonts.report(), warnings: [], timings: clock.timings(),
    ...(Object.keys(rs.header.meta ?? {}).length ? { rosterMeta: rs.header.meta } : {}),
  };
}

/** Writes the rejects workbook and the bundle from the batch's records; `known`: digests of files already hashed. */
export async function writeOutputs(ctx: Context, plan: BatchPlan, place: BatchPlace, registry: Registry, summary: BatchSummary, rs: RosterSummary, known: ReadonlyMap<string, string>): Promise<BatchOutputs> {
  const { profile, fonts, signer } = plan.identity;
  await writeRejectsWorkbook(join(place.dir, 'rejects.xlsx'), summary.rejected, { notes: rs.notes });
  const sample = plan.filingMaterial && summary.issued[0] ? [{ bytes: readFileSync(summary.issued[0].file) }] : undefined;
  const outputs = await writeBatchOutputs(summary, profile, {
    dir: place.dir, fonts, now: ctx.now, knownDigests: known,
    signer: { privateKey: signer.key, certificatePem: signer.certificate.toString(), chainPem: signer.chain.slice(1).map((der) => new X509Certificate(der).toString()) },
    ...(sample ? { sampleCertificates: sample } : {}),
  });
  if (outputs.archive && outputs.archiveSha256) {
    await registry.recordExport({ file: outputs.archive, sha256: outputs.archiveSha256, what: 'filing bundle', numbers: summary.issued.map((c) => c.number) }, ctx.now, ctx.operator);
  }
  return outputs;
}
