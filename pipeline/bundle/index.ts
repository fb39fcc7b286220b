/**
 * The bundle stage (SPEC §7): from a finished batch, the tables, receipts, report, signed manifest and the
 * one archive of the filing bundle. `writeBatchOutputs` is what the orchestrator calls; the individual
 * writers are exported for commands that need one of them (e.g. the filing material alone).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BatchSummary, DeadlineWarning } from '../core/summary.js';
import type { FontSet } from '../fonts/index.js';
import type { Profile } from '../core/profile.js';
import { startArchive, writeArchive } from './archive.js';
import { deadlineWarnings } from './deadlines.js';
import type { ManifestSigner } from './jws.js';
import { listFiles, type Manifest, writeManifest } from './manifest.js';
import { CERTIFICATES_DIR, FILES, isCompetition, issueDates, jurisdiction } from './model.js';
import type { FilingMaterialOptions, SampleCertificate } from './pdf/filing-material.js';
import { writeApplicationForm, writeBatchReceipt, writeFilingMaterial, writeFilingReceipt, writeSignoffSheet } from './receipts.js';
import { type BatchReport, buildReport, writeReport } from './report.js';
import { type TableInput, writeCertificateData, writeCompetitionSummary, writeCountsTable, writeRoster, writeSichuanDeclaration } from './tables.js';

export interface BatchOutputOptions {
  /** The batch folder (output/<batch>): everything is written into it. */
  readonly dir: string;
  readonly fonts: FontSet;
  /** Signs manifest.json; without it the manifest is written unsigned (verifyBundle then reports it). */
  readonly signer?: ManifestSigner;
  /** The run's clock: form dates, the manifest's created time, the archive's entry times. */
  readonly now: Date;
  /** Sample certificate PDFs: when given, the filing material (附件3) is written too. */
  readonly sampleCertificates?: readonly SampleCertificate[];
  readonly filingMaterial?: FilingMaterialOptions;
  /** SHA-256 of files this run wrote, by path relative to `dir` (the certificates): the manifest does not read them again. */
  readonly knownDigests?: ReadonlyMap<string, string>;
  /** Where the archive goes (default: <dir>/filing-bundle-<batch id>.zip); false: no archive. */
  readonly archive?: string | false;
}

export interface BatchOutputs {
  /** Files written by this stage, relative to `dir` (forward slashes), the archive last when inside `dir`. */
  readonly files: readonly string[];
  /** Absolute path of the archive, when one was written. */
  readonly archive?: string;
  /** The archive's SHA-256, when one was written. */
  readonly archiveSha256?: string;
  readonly manifest: Manifest;
  readonly report: BatchReport;
  readonly warnings: readonly DeadlineWarning[];
  /** Milliseconds per step (tables, receipts, report, manifest, archive); the report holds the first two. */
  readonly timings: Readonly<Record<string, number>>;
}

/**
 * Certificates at most for which the archive starts beside the tables and receipts. yazl keeps every entry it has
 * written (~1 KB each, for the central directory): at 100,000 certificates that memory then stood beside the
 * receipts' and manifest's (peak 740 MB against 582 MB written after them); at 20,000 the peak stays 339 MB.
 */
const EARLY_ARCHIVE_MAX = 50_000;

export function archiveName(batchId: string): string {
  return `filing-bundle-${batchId.replace(/[^A-Za-z0-9._-]/g, '_')}.zip`;
}

/** Warnings of the batch plus the deadline warnings computed here, each once. */
function mergeWarnings(a: readonly DeadlineWarning[], b: readonly DeadlineWarning[]): DeadlineWarning[] {
  const seen = new Set<string>();
  return [...a, ...b].filter((w) => {
    const key = `${w.kind}/${w.due}/${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function writeBatchOutputs(summary: BatchSummary, profile: Profile, opts: BatchOutputOptions): Promise<BatchOutputs> {
  const t0 = performance.now();
  const { dir, fonts, now } = opts;
  const t: TableInput = { summary, profile, dir, now };
  const files: string[] = [];
  const rel = (abs: string) => relative(dir, abs).split(sep).join('/');
  const archive = opts.archive === false ? undefined : opts.archive ?? join(dir, archiveName(summary.batchId));
  const archiveRel = archive && !isAbsolute(relative(dir, archive)) && !relative(dir, archive).startsWith('..') ? rel(archive) : undefined;
  // The certificates, most of the archive, go into it on a thread of their own while the rest is written.
  const certDir = join(dir, CERTIFICATES_DIR);
  // (A batch issuing more than the bound lists no folder for it: the archive is written after the manifest.)
  const certificates = archive && summary.issued.length <= EARLY_ARCHIVE_MAX && existsSync(certDir)
    ? (await listFiles(certDir)).map((f) => `${CERTIFICATES_DIR}/${f}`).filter((f) => f !== archiveRel)
    : [];
  const early = archive && certificates.length && certificates.length <= EARLY_ARCHIVE_MAX ? startArchive(dir, certificates, archive, now) : undefined;
  try {
    const counts: Record<string, number> = {};
    for (const c of summary.issued) counts[c.issueDate] = (counts[c.issueDate] ?? 0) + 1;
    const warnings = mergeWarnings(summary.warnings, deadlineWarnings(issueDates(summary), profile, now, { counts }));

    files.push(rel(await writeCertificateData(t)), rel(await writeCountsTable(t)), rel(await writeRoster(t)));
    const competition = isCompetition(profile);
    const where = jurisdiction(profile);
    if (competition && where === 'beijing') files.push(rel(await writeCompetitionSummary(t)));
    if (competition && where === 'sichuan') files.push(rel(await writeSichuanDeclaration(t)));
    const tTables = performance.now();

    const r = { summary, profile, fonts, dir, now };
    files.push(await writeBatchReceipt(r), await writeSignoffSheet(r));
    // seed 000 四（一）: 备案回执, 取证汇总表, 取证申请表 (一式二份), 取证名册 go to the Beijing centre.
    if (competition && where === 'beijing') files.push(await writeFilingReceipt(r), await writeApplicationForm(r));
    if (opts.sampleCertificates?.length) files.push(await writeFilingMaterial(r, opts.sampleCertificates, opts.filingMaterial));
    const tReceipts = performance.now();

    const report = buildReport(summary, profile, {
      now, deadlines: warnings, outputs: [...files, FILES.reportJson, FILES.reportTxt],
      timings: { 'bundle.tables': tTables - t0, 'bundle.receipts': tReceipts - tTables },
    });
    files.push(...(await writeReport(dir, report)));
    const tReport = performance.now();

    const written = await writeManifest(dir, { batchId: summary.batchId, profileId: summary.profileId, created: now }, opts.signer, new Set(archiveRel ? [archiveRel] : []), opts.knownDigests);
    files.push(...written.files);
    const tManifest = performance.now();
    const entries = [...written.manifest.files.map((f) => f.path), ...written.files];
    const zipped = !archive ? undefined : early ? await early.finish(entries) : await writeArchive(dir, entries, archive, now);
    if (zipped && archiveRel) files.push(archiveRel);
    const ms = (a: number, b: number) => Math.round(b - a);
    // archive: what was left of it once the manifest was written (its certificates went in meanwhile).
    const timings = { tables: ms(t0, tTables), receipts: ms(tTables, tReceipts), report: ms(tReceipts, tReport), manifest: ms(tReport, tManifest), archive: ms(tManifest, performance.now()) };
    return { files, ...(zipped ? { archive: zipped.file, archiveSha256: zipped.sha256 } : {}), manifest: written.manifest, report, warnings, timings };
  } finally {
    await early?.close();
  }
}

export { safeCell, safeText, isDangerous, NEUTRALISER } from '../core/cells.js';
export { deadlineWarnings, addWorkingDays, addMonths, workingDay, holidayDataCovers, holidayDataLastYear, UPLOAD_WORKING_DAYS, REFUSAL_MONTHS } from './deadlines.js';
export { writeCertificateData, writeCountsTable, writeRoster, writeCompetitionSummary, writeSichuanDeclaration, UPLOAD_HEADER, COUNTS_HEADER, ROSTER_HEADER, SICHUAN_HEADER, COMPETITION_SUMMARY_HEADER } from './tables.js';
export { writeBatchReceipt, writeSignoffSheet, writeFilingReceipt, writeApplicationForm, writeFilingMaterial } from './receipts.js';
export { buildReport, reportText, writeReport, type BatchReport } from './report.js';
export { buildManifest, writeManifest, type Manifest, type ManifestEntry } from './manifest.js';
export { signDetached, verifyDetached, verifyChain, type ManifestSigner } from './jws.js';
export { writeArchive } from './archive.js';
export { countTable, batchTotals } from './counts.js';
export { FILES, receiptNumber, filingNumber, issuerName } from './model.js';
export type { SampleCertificate, FilingMaterialOptions } from './pdf/filing-material.js';
