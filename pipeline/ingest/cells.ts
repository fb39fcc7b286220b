/**
 * exceljs cell values → RawCell. Formulas are never evaluated: the cached result is taken as it was
 * saved by Excel/WPS, and a formula without one becomes an error cell for validation to report.
 */
import { FORMULA_WITHOUT_RESULT, type RawCell } from './types.js';

/** A number written out in full, never in exponent form below 1e21 (an 18-digit ID stays 18 digits). */
export function numberText(n: number): string {
  return String(n);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** exceljs turns date cells into JS Dates at UTC midnight (plus the time of day, if any). */
function dateCell(d: Date, formula: boolean): RawCell {
  if (Number.isNaN(d.getTime())) return withFormula({ kind: 'error', text: '#INVALID-DATE' }, formula);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const secs = d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  const text = secs === 0 ? date : `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withFormula({ kind: 'date', text, date }, formula);
}

function withFormula(c: RawCell, formula: boolean): RawCell {
  return formula ? { ...c, formula: true } : c;
}

/** An exceljs cell value as a RawCell; undefined for an empty cell. */
export function fromExcelValue(value: unknown, formula = false): RawCell | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return withFormula({ kind: 'text', text: value }, formula);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return withFormula({ kind: 'error', text: '#NUM!' }, formula);
    return withFormula({ kind: 'number', text: numberText(value), value }, formula);
  }
  if (typeof value === 'boolean') return withFormula({ kind: 'text', text: value ? 'TRUE' : 'FALSE' }, formula);
  if (value instanceof Date) return dateCell(value, formula);
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v.richText)) {
      const text = (v.richText as { text?: unknown }[]).map((r) => (typeof r.text === 'string' ? r.text : '')).join('');
      return withFormula({ kind: 'text', text }, formula);
    }
    if ('formula' in v || 'sharedFormula' in v) {
      const result = v.result;
      // Never evaluate: a formula that was saved without its result cannot be read safely.
      if (result === undefined || result === null) return { kind: 'error', text: FORMULA_WITHOUT_RESULT, formula: true };
      if (typeof result === 'number' && Number.isNaN(result)) return { kind: 'error', text: '#ERROR', formula: true };
      return fromExcelValue(result, true);
    }
    if (typeof v.error === 'string') return withFormula({ kind: 'error', text: v.error }, formula);
    if (typeof v.text === 'string') return withFormula({ kind: 'text', text: v.text }, formula);
    if (typeof v.text === 'object' && v.text !== null) return fromExcelValue(v.text, formula);
  }
  return withFormula({ kind: 'error', text: '(unsupported cell value)' }, formula);
}

/** What the user would read in the cell, for header and metadata lines. */
export function cellText(c: RawCell | undefined): string {
  return c ? c.text : '';
}

/** Blank: no cell, or only whitespace (including the ideographic space U+3000). */
export function isBlank(c: RawCell | undefined): boolean {
  return c === undefined || (c.kind === 'text' && c.text.trim() === '');
}
