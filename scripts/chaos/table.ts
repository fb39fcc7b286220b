/** The one table the chaos harness prints, and the notes below it. */
import { type ScenarioResult, verdictOf } from './scenarios.js';

const HEADER = ['scenario', 'runs', 'kills', 'duplicates', 'unrecorded gaps', 'broken PDFs', 'orphan/temporary files', 'surviving processes', 'crashes (stack traces)', 'hangs', 'verdict'];

export function table(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.name, r.runs, r.kills, r.findings.duplicates, r.findings.unrecordedGaps, r.findings.brokenPdfs, r.findings.orphans, r.survivors, r.crashes, r.hangs,
    verdictOf(r),
  ].map(String));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(HEADER), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Per scenario: why it failed or was skipped, then what happened. */
export function notes(results: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`${r.name} (${r.seconds.toFixed(0)} s) — ${verdictOf(r)}${r.skipped ? `: ${r.skipped}` : ''}`);
    for (const f of [...r.failures, ...r.findings.details]) out.push(`  FAIL ${f}`);
    for (const n of r.notes) out.push(`  note ${n}`);
  }
  return out.join('\n');
}
