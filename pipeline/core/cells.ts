/**
 * Spreadsheet safety (SPEC §3: "text that reaches a spreadsheet cell cannot become a formula").
 *
 * exceljs itself never turns a plain string into a formula (only `{ formula }` objects are written as
 * <f>), so the risk is downstream: a clerk presses F2+Enter in Excel or WPS, the sheet goes through CSV,
 * or an upload system re-parses the text. A value whose first character is = + - @ (or a tab / CR / LF,
 * which some importers strip before looking) is therefore prefixed with NEUTRALISER.
 *
 * Why not the usual ASCII apostrophe: in a file the apostrophe is a literal character, and readers that
 * take it for Excel's quote-prefix marker (LibreOffice CSV import, several import scripts) strip it again,
 * bringing the formula back. Why not a space: trimming is the first thing most importers do. Why not a
 * zero-width character: a reviewer could not see that the value was changed. U+2018 (‘) is visible, is
 * not whitespace, is left alone by NFKC normalisation and by trimming, and no spreadsheet treats it as
 * a quote prefix, a sign or a formula start. Full-width ＝＋－＠ are neutralised too: an input method may
 * turn them into their ASCII forms when the cell is retyped.
 */

/** The visible mark put in front of a dangerous value. */
export const NEUTRALISER = '\u2018';

// Leading blanks are looked through: "  =1+1" becomes a formula in any importer that trims first.
const DANGEROUS = /^[\t\r\n \u00a0\u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r\n]/;

/** What a cell of a workbook we write may hold: text (made safe), a finite number, or nothing. */
export type SafeCellValue = string | number | null;

/**
 * The value to put in a cell. Numbers stay numbers (they can never be formulas); everything else
 * becomes text, with a dangerous start neutralised. Objects (exceljs `{ formula }`, rich text) are
 * flattened to text on purpose: this module never writes a formula.
 */
export function safeCell(value: unknown): SafeCellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`Expected a finite number for a cell but received ${String(value)}`);
    return value;
  }
  const s = typeof value === 'string' ? value
    : value instanceof Date ? value.toISOString()
    : typeof value === 'object' ? JSON.stringify(value)
    : String(value);
  return isDangerous(s) ? NEUTRALISER + s : s;
}

/** Text-only variant for cells that must hold a string (ID numbers, codes, dates). */
export function safeText(value: unknown): string {
  const v = safeCell(value === null || value === undefined ? '' : typeof value === 'number' ? String(value) : value);
  return v === null ? '' : String(v);
}

export function isDangerous(s: string): boolean {
  return DANGEROUS.test(s);
}
