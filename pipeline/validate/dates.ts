/**
 * 发证日期: stored as YYYY-MM-DD (seed 002, 数据修改信息表 说明 5). Accepted: an Excel date cell, an
 * Excel serial number, 2026-11-20, 2026/11/20, 2026.11.20, 2026年11月20日, 20261120 — all year first,
 * so none is ambiguous. Day-first or month-first forms (20/11/2026, 11/20/2026) are refused: reading
 * them would be a guess.
 */
import type { RawCell } from '../ingest/types.js';
import type { RowIssues } from './issues.js';
import { trimAll } from './text.js';

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function isRealDate(y: number, m: number, d: number): boolean {
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d) || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** Excel serial day → YYYY-MM-DD (1900 date system unless date1904). Serials start 1900-01-01 = 1. */
export function excelSerialToDate(serial: number, date1904 = false): string | undefined {
  if (!Number.isFinite(serial) || serial < 1 || serial >= 2958466) return undefined;
  const days = Math.floor(serial) + (date1904 ? 1462 : 0);
  // 25569 = 1970-01-01; Excel's 1900 system counts a 29 Feb 1900 that never was, harmless after March 1900.
  const d = new Date((days - 25569) * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** The date in China (UTC+8, no daylight saving) at an instant: "today" for an issuing office. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

const FORMS: readonly RegExp[] = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})$/,
  /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/,
  /^(\d{4})\.(\d{1,2})\.(\d{1,2})$/,
  /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/,
  /^(\d{4})(\d{2})(\d{2})$/,
];
/** A time of day after the date, as CSV exports of date cells carry ("2026-11-20 00:00:00"). */
const TIME = /(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$/;

export interface DateContext {
  readonly issues: RowIssues;
  readonly field: string;
  readonly date1904: boolean;
}

/** Parses a date cell to YYYY-MM-DD; reports a note when the form changed and a problem when unreadable. */
export function validateDate(cell: RawCell, ctx: DateContext): string | undefined {
  const { issues, field } = ctx;
  const row = issues.rowNo;
  if (cell.kind === 'date') {
    if (cell.text !== cell.date) issues.note(field, cell.text, cell.date, 'time of day dropped from the date');
    return cell.date;
  }
  if (cell.kind === 'number') {
    const v = cell.value;
    if (Number.isInteger(v) && v >= 19000101 && v <= 29991231) return fromText(String(v), cell.text, ctx);
    const d = excelSerialToDate(v, ctx.date1904);
    if (d === undefined) {
      issues.problem(field, 'date.format', `${field} ${cell.text} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-20, in row ${row}`, cell.text);
      return undefined;
    }
    issues.note(field, cell.text, d, 'Excel serial day number read as a date');
    return d;
  }
  if (cell.kind === 'error') {
    issues.problem(field, 'cell.error', `${field} shows ${cell.text}; type the date as YYYY-MM-DD in row ${row}`, cell.text);
    return undefined;
  }
  return fromText(cell.text, cell.text, ctx);
}

function fromText(text: string, shown: string, ctx: DateContext): string | undefined {
  const { issues, field } = ctx;
  const row = issues.rowNo;
  const s = trimAll(text.normalize('NFKC')).replace(/\s+/g, ' ');
  const dateOnly = s.replace(TIME, '');
  for (const form of FORMS) {
    const m = form.exec(dateOnly);
    if (!m) continue;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!isRealDate(y, mo, d)) {
      issues.problem(field, 'date.invalid', `${field} ${trimAll(shown)} is not a real date; fix it in row ${row}`, shown);
      return undefined;
    }
    const out = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
    if (out !== shown) {
      const change = out === trimAll(shown) ? 'removed spaces at the start or end' : dateOnly !== s ? 'date written as YYYY-MM-DD, time of day dropped' : 'date written as YYYY-MM-DD';
      issues.note(field, shown, out, change);
    }
    return out;
  }
  issues.problem(field, 'date.format', `${field} "${trimAll(shown)}" is not a date in a form that can be read safely; write it as YYYY-MM-DD, e.g. 2026-11-20, in row ${row}`, shown);
  return undefined;
}
