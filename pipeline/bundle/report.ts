/**
 * The batch report (SPEC §7): report.json for machines and report.txt for people. Counts, rejects with
 * their reasons, skipped rows, which font served each role and whether it is a fallback (SPEC §5),
 * timings and the deadline warnings. No ID number appears in full (第十九条): values are masked and
 * messages scrubbed; certificates are named by their number only.
 */
import { basename, join } from 'node:path';
import type { BatchSummary, DeadlineWarning } from '../core/summary.js';
import type { Profile } from '../core/profile.js';
import { batchTotals, type BatchTotals, countTable } from './counts.js';
import { writeAtomic } from '../core/files.js';
import { FILES, levelText } from './model.js';
import { maskedProblem, scrubIds } from '../core/privacy.js';

export const REPORT_FORMAT = 'skillcert-batch-report/1';

export interface BatchReport {
  readonly format: typeof REPORT_FORMAT;
  readonly batchId: string;
  readonly profileId: string;
  readonly organisation: string;
  /** File name of the roster (not its path: the report travels in the bundle). */
  readonly roster: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly createdAt: string;
  readonly counts: BatchTotals;
  readonly byOccupationLevel: readonly { occupation: string; level: string; issued: number; notPassed: number; rejected: number; alreadyCertified: number; duplicate: number; total: number }[];
  readonly rejects: readonly { rowNo: number; field: string; value?: string; rule: string; message: string }[];
  readonly skipped: readonly { rowNo: number; reason: string; result?: string; occupation?: string; level?: number; number?: string; message: string }[];
  readonly fonts: readonly { role: string; reference: string; served: string; fallback: boolean; chain: readonly { file: string; postscriptName: string; fallback: boolean }[] }[];
  readonly timings: Readonly<Record<string, number>>;
  readonly deadlines: readonly DeadlineWarning[];
  /** The files of the batch folder written by the bundle stage. */
  readonly outputs: readonly string[];
}

export function buildReport(s: BatchSummary, profile: Profile, opts: { now: Date; deadlines: readonly DeadlineWarning[]; outputs: readonly string[]; timings?: Readonly<Record<string, number>> }): BatchReport {
  const table = countTable(s);
  return {
    format: REPORT_FORMAT,
    batchId: s.batchId,
    profileId: s.profileId,
    organisation: profile.name.zh,
    roster: basename(s.roster),
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    createdAt: opts.now.toISOString(),
    counts: batchTotals(s),
    byOccupationLevel: table.rows.map((r) => ({
      occupation: r.occupation,
      level: r.level === null ? '' : levelText(r.level),
      issued: r.counts[0]!,
      notPassed: r.counts[1]! + r.counts[2]! + r.counts[3]!,
      rejected: r.counts[4]!,
      alreadyCertified: r.counts[5]!,
      duplicate: r.counts[6]!,
      total: r.total,
    })),
    rejects: [...s.rejected].sort((a, b) => a.rowNo - b.rowNo).map(maskedProblem),
    skipped: [...s.skipped].sort((a, b) => a.rowNo - b.rowNo).map((k) => ({
      rowNo: k.rowNo, reason: k.reason,
      ...(k.result ? { result: k.result } : {}), ...(k.occupation ? { occupation: k.occupation } : {}),
      ...(k.level ? { level: k.level } : {}), ...(k.number ? { number: k.number } : {}),
      message: scrubIds(k.message),
    })),
    fonts: s.fonts.map((f) => ({
      role: f.role,
      reference: f.reference,
      served: f.faces[0]?.postscriptName ?? '',
      fallback: f.fallback,
      chain: f.faces.map((x) => ({ file: basename(x.file), postscriptName: x.postscriptName, fallback: x.fallback })),
    })),
    timings: { ...s.timings, ...(opts.timings ?? {}) },
    deadlines: opts.deadlines.map((d) => ({ ...d, message: scrubIds(d.message) })),
    outputs: [...opts.outputs],
  };
}

export function reportText(r: BatchReport): string {
  const c = r.counts;
  const lines: string[] = [
    `skillcert batch ${r.batchId} — ${r.organisation} (${r.profileId})`,
    `roster ${r.roster}, ${r.startedAt} → ${r.finishedAt}`,
    '',
    `rows read        ${c.rowsRead}`,
    `issued           ${c.issued} (new ${c.created}, already in the registry ${c.existing})`,
    `rejected rows    ${c.rejectedRows} (${c.problems} problem(s); see the rejects workbook)`,
    `not passed       不合格 ${c.notPassed.不合格}, 缺考 ${c.notPassed.缺考}, 舞弊 ${c.notPassed.舞弊}`,
    `already certified ${c.alreadyCertified}, duplicates in the roster ${c.duplicateInRoster}`,
    c.accounted === c.rowsRead ? `every row accounted for (${c.accounted})` : `WARNING: ${c.accounted} row(s) accounted for but ${c.rowsRead} read; check the roster`,
  ];
  if (r.rejects.length) {
    lines.push('', 'Rejected:');
    for (const p of r.rejects.slice(0, 50)) lines.push(`  row ${p.rowNo} ${p.field}${p.value ? ` "${p.value}"` : ''}: ${p.message}`);
    if (r.rejects.length > 50) lines.push(`  … ${r.rejects.length - 50} more in report.json and the rejects workbook`);
  }
  lines.push('', 'Fonts:');
  for (const f of r.fonts) lines.push(`  ${f.role.padEnd(9)} ${f.served}${f.fallback ? ` — FALLBACK for ${f.reference}: drop the licensed font into fonts/` : ''}`);
  if (r.deadlines.length) {
    lines.push('', 'Deadlines:');
    for (const d of r.deadlines) lines.push(`  [${d.kind}] ${d.due}: ${d.message}`);
  }
  const t = Object.entries(r.timings);
  if (t.length) lines.push('', `Timings (ms): ${t.map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export async function writeReport(dir: string, report: BatchReport): Promise<string[]> {
  await writeAtomic(join(dir, FILES.reportJson), `${JSON.stringify(report, null, 2)}\n`);
  await writeAtomic(join(dir, FILES.reportTxt), reportText(report));
  return [FILES.reportJson, FILES.reportTxt];
}
