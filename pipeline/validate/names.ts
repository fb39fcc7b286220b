/**
 * 姓名: any Unicode letter, including rare characters outside the basic CJK block (䶮 U+4DAE in
 * Extension A, 𠮷 U+20BB7 in Extension B) and the middle dot of transliterated names (阿依古丽·买买提).
 * Safe corrections, reported as notes:
 * - trimming, full-width Latin letters to half-width;
 * - spaces between Chinese characters removed: rosters pad two-character names to the width of three
 *   (张　三), and a Chinese name on a 居民身份证 never has a space;
 * - other runs of spaces (including the full-width U+3000) become one space (John  Smith);
 * - look-alike dots (・ • ‧ ･ ⋅ ∙ ．) between letters become the middle dot U+00B7 that 居民身份证
 *   names use.
 * Digits, symbols, control and private-use characters reject the row: they are never part of a name.
 */
import type { RowIssues } from './issues.js';

const HAN = String.raw`\p{Script=Han}`;
/** Look-alikes of the middle dot: katakana ・, bullet •, hyphenation point ‧, half-width ･, ⋅, ∙, full-width ．. */
const DOT_LIKE = String.raw`[\u30FB\u2022\u2027\uFF65\u22C5\u2219\uFF0E]`;
/** Letters, marks, 〇 (U+3007, a Han "letter number" used in names), the middle dot, space, ' - . */
const ALLOWED = /^[\p{L}\p{M}\u3007\u00B7 '\-.]$/u;

export function normaliseName(s: string, field: string, issues: RowIssues): string {
  const changes: string[] = [];
  let t = s.replace(new RegExp(String.raw`(?<=${HAN})\s*${DOT_LIKE}\s*(?=${HAN})`, 'gu'), '\u00B7');
  if (t !== s) changes.push('look-alike dot made the middle dot · (U+00B7)');
  const joined = t.replace(new RegExp(String.raw`(?<=[${HAN}\u00B7])\s+(?=[${HAN}\u00B7])`, 'gu'), '');
  if (joined !== t) changes.push('spaces between Chinese characters removed');
  const single = joined.replace(/\s{2,}|[^\S ]/g, ' ');
  if (single !== joined) changes.push('spaces inside the name made single half-width spaces');
  t = single;
  if (changes.length > 0) issues.note(field, s, t, changes.join('; '));
  return t;
}

/** "U+20BB7" for a character (code point, not UTF-16 unit). */
export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Reports characters that cannot be in a name. Returns whether the name passed. */
export function checkNameCharacters(name: string, field: string, issues: RowIssues): boolean {
  const bad = [...new Set([...name].filter((c) => !ALLOWED.test(c)))];
  const row = issues.rowNo;
  if (bad.length > 0) {
    const pua = bad.filter((c) => /\p{Co}/u.test(c));
    const list = bad.map((c) => `"${c}" (${codePoint(c)})`).join(', ');
    const why = pua.length > 0
      ? `private-use characters are not standard Unicode (often a rare character typed with an old input method); type the standard character instead (e.g. from CJK Extension B)`
      : 'a name has only letters, the middle dot · and spaces; correct the name';
    issues.problem(field, 'name.characters', `${field} in row ${row} has ${list}, which cannot be part of a name: ${why}`, name);
    return false;
  }
  if (!/\p{L}/u.test(name)) {
    issues.problem(field, 'name.characters', `${field} in row ${row} has no letters; correct the name`, name);
    return false;
  }
  return true;
}
