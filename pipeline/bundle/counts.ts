/**
 * The batch's counts, computed once and read by the summary table, the batch receipt and the report, so
 * the three always agree. Every roster row lands in exactly one column: issued (合格), not passed
 * (不合格 / 缺考 / 舞弊, seed 004 第二十五条), rejected for bad data, already certified, or a duplicate
 * inside the roster.
 */
import type { BatchSummary } from '../core/summary.js';
import { rejectedRows } from './model.js';

export const COUNT_COLUMNS = ['合格（发证）', '不合格', '缺考', '舞弊', '数据有误（退回）', '已持证', '名册内重复'] as const;
export type CountColumn = (typeof COUNT_COLUMNS)[number];

export interface CountRow {
  readonly occupation: string;
  /** null: the row was rejected before its level could be read. */
  readonly level: number | null;
  readonly counts: readonly number[];
  readonly total: number;
}

export interface CountTable {
  readonly rows: readonly CountRow[];
  readonly totals: readonly number[];
  readonly grand: number;
}

/** Rejected rows carry no occupation or level (a Problem names only row and field), so they share one line. */
export const UNCLASSIFIED = '（数据有误，见退回表）';
export const UNKNOWN = '（未注明）';

export function countTable(s: BatchSummary): CountTable {
  const map = new Map<string, { occupation: string; level: number | null; counts: number[] }>();
  const bump = (occupation: string, level: number | null, col: CountColumn) => {
    const key = JSON.stringify([occupation, level]);
    const row = map.get(key) ?? { occupation, level, counts: COUNT_COLUMNS.map(() => 0) };
    row.counts[COUNT_COLUMNS.indexOf(col)]!++;
    map.set(key, row);
  };
  for (const c of s.issued) bump(c.occupation, c.level, '合格（发证）');
  for (const k of s.skipped) {
    const col: CountColumn =
      k.reason === 'already-certified' ? '已持证' : k.reason === 'duplicate-in-roster' ? '名册内重复' : k.result === '不合格' || k.result === '缺考' || k.result === '舞弊' ? k.result : '不合格';
    bump(k.occupation ?? UNKNOWN, k.level ?? null, col);
  }
  for (let i = 0; i < rejectedRows(s).length; i++) bump(UNCLASSIFIED, null, '数据有误（退回）');
  const rows = [...map.values()]
    .sort((a, b) => rank(a.occupation) - rank(b.occupation) || a.occupation.localeCompare(b.occupation, 'zh') || (a.level ?? 9) - (b.level ?? 9))
    .map((r) => ({ ...r, total: r.counts.reduce((x, y) => x + y, 0) }));
  const totals = COUNT_COLUMNS.map((_, i) => rows.reduce((t, r) => t + r.counts[i]!, 0));
  return { rows, totals, grand: totals.reduce((x, y) => x + y, 0) };
}

const rank = (occupation: string): number => (occupation === UNCLASSIFIED ? 2 : occupation === UNKNOWN ? 1 : 0);

export interface BatchTotals {
  readonly rowsRead: number;
  readonly issued: number;
  readonly created: number;
  readonly existing: number;
  readonly rejectedRows: number;
  readonly problems: number;
  readonly notPassed: { readonly 不合格: number; readonly 缺考: number; readonly 舞弊: number };
  readonly alreadyCertified: number;
  readonly duplicateInRoster: number;
  readonly skipped: number;
  /** issued + rejected rows + skipped: equals rowsRead when every row is accounted for. */
  readonly accounted: number;
}

export function batchTotals(s: BatchSummary): BatchTotals {
  const t = countTable(s).totals;
  const at = (c: CountColumn) => t[COUNT_COLUMNS.indexOf(c)]!;
  const created = s.issued.filter((c) => c.origin === 'created').length;
  const rejected = rejectedRows(s).length;
  return {
    rowsRead: s.rowsRead,
    issued: s.issued.length,
    created,
    existing: s.issued.length - created,
    rejectedRows: rejected,
    problems: s.rejected.length,
    notPassed: { 不合格: at('不合格'), 缺考: at('缺考'), 舞弊: at('舞弊') },
    alreadyCertified: at('已持证'),
    duplicateInRoster: at('名册内重复'),
    skipped: s.skipped.length,
    accounted: s.issued.length + rejected + s.skipped.length,
  };
}
