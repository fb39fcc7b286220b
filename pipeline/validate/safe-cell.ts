/**
 * Spreadsheet safety (SPEC §3): text that reaches a cell of a workbook we write can never become a
 * formula. A value starting with = + - @ (or a tab, CR or LF, which some programs strip before looking)
 * is prefixed with an apostrophe, the OWASP "CSV injection" defence; full-width ＝＋－＠ too, because an
 * input method may turn them into their ASCII forms on re-entry. Every workbook writer passes text
 * through this.
 */
const DANGEROUS = /^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;

export function safeCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return DANGEROUS.test(s) ? `'${s}` : s;
}
