/**
 * Safe text normalisation, applied and reported as notes: trimming, full-width digits and Latin
 * letters to half-width. Nothing here guesses: a change is made only when the meaning cannot change.
 */
import type { RawCell } from '../ingest/types.js';
import type { RowIssues } from './issues.js';

/** Whitespace and invisible characters that may surround a pasted value. */
const EDGE = /^[\s\u200B\u200C\u200D\u2060\uFEFF]+|[\s\u200B\u200C\u200D\u2060\uFEFF]+$/g;

export function trimAll(s: string): string {
  return s.replace(EDGE, '');
}

/** Full-width digits and Latin letters (U+FF10–FF19, FF21–FF3A, FF41–FF5A) to ASCII. */
export function halfWidthAlnum(s: string): string {
  return s.replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** For comparing names of things (levels, ID types, occupations): width-folded, no whitespace. */
export function compareKey(s: string): string {
  return s.normalize('NFKC').replace(/[\s\u200B\uFEFF]+/g, '');
}

/**
 * A cell's text with the safe corrections applied and noted. `mask` hides the value in the note
 * (ID numbers, 第十九条). Returns '' for an empty cell.
 */
export function cleanText(cell: RawCell | undefined, field: string, issues: RowIssues, mask?: (s: string) => string): string {
  if (!cell) return '';
  const raw = cell.text;
  const changes: string[] = [];
  let s = trimAll(raw);
  if (s !== raw && s !== '') changes.push('removed spaces at the start or end');
  const hw = halfWidthAlnum(s);
  if (hw !== s) changes.push('full-width digits or letters to half-width');
  s = hw;
  if (changes.length > 0) {
    const show = mask ?? ((x: string) => x);
    issues.note(field, show(raw), show(s), changes.join('; '));
  }
  return s;
}
