/**
 * 证件号码 (SPEC §3). For 201 居民身份证 the full GB 11643 structure is checked:
 *   18 characters = 6-digit region (GB/T 2260) + 8-digit birth date + 3-digit sequence + check digit,
 *   check digit by ISO 7064 MOD 11-2 (the last may be X).
 * Region: only the first two digits are checked against the provinces of GB/T 2260. The county part
 * is not: GB/T 2260 is revised most years and a person keeps the number issued under a retired
 * county code for life, so a six-digit check would reject genuine people.
 * An ID that Excel stored as a number has lost digits (Excel keeps 15 significant digits) and is
 * rejected as precision-lost — never "fixed": the lost digits cannot be known.
 */
import type { IdTypeCode } from '../core/record.js';
import type { RawCell } from '../ingest/types.js';
import provinces from './data/provinces.json' with { type: 'json' };
import { isRealDate } from './dates.js';
import type { RowIssues } from './issues.js';
import { halfWidthAlnum, trimAll } from './text.js';
import { gb11643CheckDigit, hasValidCheckDigit } from '../core/gb11643.js';
import { maskId } from '../core/privacy.js';

const PROVINCES: Readonly<Record<string, string>> = provinces.provinces;

export interface IdContext {
  readonly issues: RowIssues;
  /** The user's column header for the ID number. */
  readonly field: string;
  /** Today in China (YYYY-MM-DD): a birth date after it is impossible. */
  readonly today: string;
}

/** Exponent form such as 1.10101E+17: what Excel shows for an ID it turned into a number. */
const EXPONENT = /^[+-]?\d+(\.\d+)?E[+-]?\d+$/i;

function precisionLost(cell: RawCell, shown: string, type: IdTypeCode | undefined, ctx: IdContext): undefined {
  const row = ctx.issues.rowNo;
  const what = type === '201' || type === undefined ? 'keeps only 15 digits, so the last digits of an 18-digit ID are lost' : 'drops leading zeros and any digit after the 15th';
  ctx.issues.problem(
    ctx.field,
    'id.precisionLost',
    `${ctx.field} in row ${row} was stored by Excel as a number (${cell.kind === 'number' ? 'a numeric cell' : 'shown as ' + maskId(shown)}), which ${what}; format the column as Text (文本), type the ID number again and run again`,
    maskId(shown),
  );
  return undefined;
}

/**
 * The ID number, normalised (trim, full-width to half-width, a final x to X for 18-character numbers),
 * or undefined with problems reported. `type` undefined: the ID type was not understood, so only the
 * storage checks run.
 */
export function validateIdNumber(cell: RawCell, type: IdTypeCode | undefined, ctx: IdContext): string | undefined {
  const { issues, field } = ctx;
  const raw = cell.text;
  if (cell.kind === 'number') return precisionLost(cell, raw, type, ctx);
  if (cell.kind !== 'text') {
    issues.problem(field, 'id.format', `${field} in row ${issues.rowNo} is a ${cell.kind} cell, not an ID number; type the ID number as text`, maskId(raw));
    return undefined;
  }
  let s = halfWidthAlnum(trimAll(raw));
  const changes: string[] = [];
  if (trimAll(raw) !== raw) changes.push('removed spaces at the start or end');
  if (s !== trimAll(raw)) changes.push('full-width digits or letters to half-width');
  if (EXPONENT.test(s)) return precisionLost(cell, s, type, ctx);
  if (s.length === 18 && s.endsWith('x') && /^\d{17}x$/.test(s)) {
    s = s.slice(0, 17) + 'X';
    changes.push('lower-case x to X');
  }
  if (changes.length > 0) issues.note(field, maskId(raw), maskId(s), changes.join('; '));
  if (type === undefined) return undefined;
  return type === '201' ? residentId(s, ctx) : otherId(s, type, ctx);
}

/** 201 居民身份证, GB 11643. */
function residentId(s: string, ctx: IdContext): string | undefined {
  const { issues, field } = ctx;
  const row = issues.rowNo;
  const masked = maskId(s);
  if (/^\d{15}$/.test(s)) {
    issues.problem(field, 'id.length', `${field} has 15 digits: a first-generation ID number; enter the 18-digit number of the current 居民身份证 in row ${row}`, masked);
    return undefined;
  }
  if (s.length !== 18) {
    issues.problem(field, 'id.length', `${field} has ${[...s].length} characters, a 居民身份证 number has 18; fix the ID number in row ${row}`, masked);
    return undefined;
  }
  if (!/^\d{17}[\dX]$/.test(s)) {
    const bad = [...s.slice(0, 17)].filter((c) => !/\d/.test(c)).concat(/[\dX]/.test(s[17]!) ? [] : [s[17]!]);
    issues.problem(
      field,
      'id.format',
      `${field} may only have digits (and X as the last character) but has ${[...new Set(bad)].map((c) => `"${c}"`).join(', ')}; fix the ID number in row ${row}`,
      masked,
    );
    return undefined;
  }
  const expected = gb11643CheckDigit(s.slice(0, 17));
  // 18 digits ending in 000 with a wrong check digit: what is left of an ID after Excel rounded it to
  // 15 significant digits and it was copied back as text.
  if (s.endsWith('000') && expected !== s[17]) {
    issues.problem(
      field,
      'id.precisionLost',
      `${field} in row ${row} ends in 000 and its check digit is wrong: Excel stored it as a number and lost the last digits; format the column as Text (文本), type the ID number again and run again`,
      masked,
    );
    return undefined;
  }
  let ok = true;
  const prov = s.slice(0, 2);
  if (!PROVINCES[prov]) {
    issues.problem(field, 'id.region', `${field} starts with ${prov}, which is not a province code (GB/T 2260); fix the ID number in row ${row}`, masked);
    ok = false;
  }
  const y = Number(s.slice(6, 10));
  const m = Number(s.slice(10, 12));
  const d = Number(s.slice(12, 14));
  const birth = `${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`;
  if (!isRealDate(y, m, d) || y < 1900) {
    issues.problem(field, 'id.birthDate', `${field} has a birth date (characters 7-14) that is not a real date; fix the ID number in row ${row}`, masked);
    ok = false;
  } else if (birth > ctx.today) {
    issues.problem(field, 'id.birthDate', `${field} has a birth date (characters 7-14) after today; fix the ID number in row ${row}`, masked);
    ok = false;
  }
  if (expected !== s[17]) {
    issues.problem(field, 'id.checkDigit', `${field} check digit is ${s[17]}, expected ${expected} (GB 11643); fix the ID number in row ${row}`, masked);
    ok = false;
  }
  return ok ? s : undefined;
}

interface OtherFormat {
  readonly pattern: RegExp;
  /** What a valid number looks like, for the message. */
  readonly looks: string;
  /** The number follows the GB 11643 structure and carries its check digit. */
  readonly checkDigit?: (s: string) => boolean;
}

/**
 * What is checked for the other ID types (seed 002, 说明 3). The seeds publish no formats for them,
 * so the check is the public shape of each document and no more; 239-241 and 299 only get a sanity
 * check (characters and length).
 */
export const OTHER_ID_FORMATS: Readonly<Record<Exclude<IdTypeCode, '201'>, OtherFormat>> = {
  '227': { pattern: /^[A-Z][A-Z0-9]\d{7}$/, looks: '9 characters: a capital letter (E, G, D, S, P …), a letter or digit, then 7 digits, e.g. E12345678 or EA1234567' },
  '210': { pattern: /^[HM]\d{8}(\d{2})?$/, looks: 'H (Hong Kong) or M (Macao) and 8 digits (10 on permits issued before 2013), e.g. H12345678' },
  '237': { pattern: /^8[12]0000\d{11}[\dX]$/, looks: '18 characters starting 810000 (Hong Kong) or 820000 (Macao), with a GB 11643 check digit', checkDigit: hasValidCheckDigit },
  '213': { pattern: /^\d{8}(\d{2})?$/, looks: '8 digits (10 on permits issued before 2015)' },
  '238': { pattern: /^830000\d{11}[\dX]$/, looks: '18 characters starting 830000, with a GB 11643 check digit', checkDigit: hasValidCheckDigit },
  '208': { pattern: /^[A-Z0-9]{5,20}$/, looks: '5 to 20 capital letters and digits exactly as printed in the passport, without spaces or dashes' },
  '233': {
    pattern: /^([A-Z]{3}\d{12}|9\d{16}[\dX])$/,
    looks: '15 characters (3 capital letters and 12 digits, cards before 2023) or 18 characters starting with 9 with a GB 11643 check digit (cards from 2023)',
    checkDigit: (s) => s.length === 15 || hasValidCheckDigit(s),
  },
  '239': { pattern: /^[A-Z0-9]{6,20}$/, looks: '6 to 20 capital letters and digits as printed on the work permit' },
  '240': { pattern: /^[A-Z0-9]{6,20}$/, looks: '6 to 20 capital letters and digits as printed on the work permit' },
  '241': { pattern: /^[A-Z0-9]{6,20}$/, looks: '6 to 20 capital letters and digits as printed on the work permit' },
  '299': { pattern: /^[\p{L}\p{N}\-()（）/]{1,30}$/u, looks: '1 to 30 letters, digits, hyphens, brackets or slashes, without spaces' },
};

function otherId(s: string, type: Exclude<IdTypeCode, '201'>, ctx: IdContext): string | undefined {
  const { issues, field } = ctx;
  const row = issues.rowNo;
  const f = OTHER_ID_FORMATS[type];
  const masked = maskId(s);
  if (!f.pattern.test(s)) {
    const hint = /[a-z]/.test(s) && f.pattern.test(s.toUpperCase()) ? ' (use capital letters)' : '';
    issues.problem(field, 'id.format', `${field} does not look like a type ${type} document number${hint}: expected ${f.looks}; fix the ID number or the ID type in row ${row}`, masked);
    return undefined;
  }
  if (f.checkDigit && !f.checkDigit(s)) {
    const expected = gb11643CheckDigit(s.slice(0, 17));
    issues.problem(field, 'id.checkDigit', `${field} check digit is ${s[17]}, expected ${expected} (GB 11643); fix the ID number in row ${row}`, masked);
    return undefined;
  }
  return s;
}
