/**
 * Cell values → RawCell. Formulas are never evaluated: the cached result is taken as it was saved by Excel/WPS,
 * and a formula without one becomes an error cell for validation to report.
 */
import type { RawCell } from './types.js';

/** A number written out in full, never in exponent form below 1e21 (an 18-digit ID stays 18 digits). */
export function numberText(n: number): string {
  return String(n);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function withFormula(c: RawCell, formula: boolean): RawCell {
  return formula ? { ...c, formula: true } : c;
}

const DAY_MS = 86_400_000;
/** 9999-12-31, the last day Excel can show. */
const LAST_SERIAL = 2_958_465;

function dateText(date: string, secs: number): string {
  if (secs === 0) return date;
  return `${date} ${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
}

/**
 * A date-formatted number as a date cell. Serial 1 is 1900-01-01; Excel's 1900 system also counts a 29 February
 * 1900 that never was (Lotus 1-2-3's leap-year bug, kept for compatibility), so serial 60 is that day and from
 * serial 61 (1900-03-01) on every serial is one more than the calendar count. In the 1904 system (old Mac Excel)
 * serial 0 is 1904-01-01, which is serial 1462 of the 1900 system. The time of day is rounded to the second.
 */
export function serialDateCell(serial: number, date1904: boolean, formula: boolean): RawCell {
  const totalSecs = Math.round(serial * 86_400) + (date1904 ? 1462 * 86_400 : 0);
  const day = Math.floor(totalSecs / 86_400);
  const secs = totalSecs - day * 86_400;
  if (!Number.isFinite(totalSecs) || day < 0 || day > LAST_SERIAL) return withFormula({ kind: 'error', text: '#INVALID-DATE' }, formula);
  // What Excel shows for the day that does not exist; an error, so that no certificate carries it.
  if (day === 60) return withFormula({ kind: 'error', text: dateText('1900-02-29', secs) }, formula);
  const d = new Date(Date.UTC(1899, 11, day < 60 ? 31 : 30) + day * DAY_MS);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  // Day 0 (Excel's "1900-01-00") carries a time of day only: show the time as Excel does.
  const text = day === 0 && secs > 0 ? dateText(date, secs).slice(11) : dateText(date, secs);
  return withFormula({ kind: 'date', text, date }, formula);
}

/** A `t="d"` cell: an ISO 8601 date or date-time, taken as written (no time-zone shift). */
export function isoDateCell(iso: string, formula: boolean): RawCell {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/.exec(iso.trim());
  if (!m) return withFormula({ kind: 'error', text: '#INVALID-DATE' }, formula);
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1);
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const check = new Date(t);
  if (check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return withFormula({ kind: 'error', text: '#INVALID-DATE' }, formula);
  }
  const date = `${y}-${mo}-${d}`;
  return withFormula({ kind: 'date', text: dateText(date, Number(h) * 3600 + Number(mi) * 60 + Number(s)), date }, formula);
}

/** What the user would read in the cell, for header and metadata lines. */
export function cellText(c: RawCell | undefined): string {
  return c ? c.text : '';
}

/** Blank: no cell, or only whitespace (including the ideographic space U+3000). */
export function isBlank(c: RawCell | undefined): boolean {
  return c === undefined || (c.kind === 'text' && c.text.trim() === '');
}
