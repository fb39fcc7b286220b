/**
 * Spreadsheet safety for the office forms (SPEC §3: text that reaches a spreadsheet cell cannot become a formula).
 *
 * The same rule as the bundle's workbooks, kept here until the shared helper is merged: a value whose first
 * character (after blanks, which importers trim) is = + - @, their full-width forms (an input method may turn them
 * into ASCII on retyping), or that starts with a tab / CR / LF, gets a visible U+2018 in front. Not an apostrophe:
 * readers that take it for Excel's quote prefix strip it and the formula comes back. Numbers stay numbers.
 */

export const NEUTRALISER = '\u2018';

const DANGEROUS = /^[\t\r\n \u00a0\u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r\n]/;

export type SafeCellValue = string | number | null;

export function safeCell(value: unknown): SafeCellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`Expected a finite number for a cell but received ${String(value)}`);
    return value;
  }
  const s = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return DANGEROUS.test(s) ? NEUTRALISER + s : s;
}
