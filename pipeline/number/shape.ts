/**
 * Position-by-position checks shared by the numbering rules. Every check names the first wrong position
 * (1-based, as the notices count) and says in plain words what belongs there.
 */
import { SkillcertError } from '../core/errors.js';
import type { LevelCode } from '../core/record.js';
import type { Category, Failure } from './types.js';

/** First and last position of a field, 1-based and inclusive, as in 表 1. */
export type Span = readonly [number, number];

/** Reads a `[from, to]` pair from a rule's JSON layout. */
export function span(v: readonly number[]): Span {
  const [from, to] = v;
  if (from === undefined || to === undefined || v.length !== 2 || from < 1 || to < from) {
    throw new Error(`numbering data: expected a layout span [from, to] with 1 <= from <= to but received ${JSON.stringify(v)}`);
  }
  return [from, to];
}

export function width(s: Span): number {
  return s[1] - s[0] + 1;
}

/** "position 16" or "positions 8-9". */
export function where(s: Span): string {
  return s[0] === s[1] ? `position ${s[0]}` : `positions ${s[0]}-${s[1]}`;
}

export function fail(position: number, message: string): Failure {
  return { ok: false, position, message };
}

/** The characters of a field (1-based span). Callers check the length first. */
export function field(chars: readonly string[], s: Span): string {
  return chars.slice(s[0] - 1, s[1]).join('');
}

const FULL_WIDTH = /[\uFF01-\uFF5E\u3000]/u;

/** A character as a message shows it: visible, and never ambiguous for blanks and control characters. */
export function show(ch: string): string {
  if (ch === ' ') return 'a space';
  if (ch === '\u3000') return 'a full-width space';
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f || /\s/u.test(ch)) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return ch;
}

/** What to do about a character that looks right but is not ASCII or is blank. */
function hint(ch: string): string {
  if (/\s/u.test(ch)) return '; write the number without spaces';
  if (FULL_WIDTH.test(ch)) return '; it is a full-width character, type it in half-width (ASCII)';
  return '';
}

/** 表 1: a certificate number has a fixed length; a missing or extra character shifts every part after it. */
export function checkLength(chars: readonly string[], length: number, what: string): Failure | undefined {
  if (chars.length < length) {
    const p = chars.length + 1;
    return fail(p, `position ${p} is missing: ${what} has ${length} characters, this one has ${chars.length}; check for a dropped character`);
  }
  if (chars.length > length) {
    const p = length + 1;
    return fail(p, `position ${p} is extra: ${what} has ${length} characters, this one has ${chars.length}; check for an added character or a space`);
  }
  return undefined;
}

export function checkDigits(chars: readonly string[], s: Span, what: string): Failure | undefined {
  for (let p = s[0]; p <= s[1]; p++) {
    const ch = chars[p - 1] ?? '';
    if (!/^[0-9]$/.test(ch)) return fail(p, `position ${p} is ${show(ch)}: ${what} (${where(s)}) must be digits 0-9${hint(ch)}`);
  }
  return undefined;
}

/** 表 2: Y 用人单位, S 社会培训评价组织, upper case only. */
export function checkCategory(
  chars: readonly string[],
  s: Span,
  categories: readonly { code: string; name: string }[],
): Failure | undefined {
  const ch = field(chars, s);
  if (categories.some((c) => c.code === ch)) return undefined;
  const list = categories.map((c) => `${c.code} (${c.name})`).join(' or ');
  if (categories.some((c) => c.code === ch.toUpperCase())) {
    return fail(s[0], `${where(s)} is ${show(ch)}: the organisation category must be an upper-case letter, ${list} (表 2); write it in upper case`);
  }
  return fail(s[0], `${where(s)} is ${show(ch)}: the organisation category must be ${list} (表 2)${hint(ch)}`);
}

/** 表 6: the level code is one digit 1-5. */
export function checkLevel(chars: readonly string[], s: Span, levels: readonly number[]): Failure | undefined {
  const ch = field(chars, s);
  if (levels.some((l) => String(l) === ch)) return undefined;
  const range = `${Math.min(...levels)}-${Math.max(...levels)}`;
  return fail(s[0], `${where(s)} is ${show(ch)}: the level code must be ${range} (表 6)${hint(ch)}`);
}

/** The certificate serial: digits, and never all zeros (it starts at 1). */
export function checkSerial(chars: readonly string[], s: Span, cite: string): Failure | undefined {
  const bad = checkDigits(chars, s, 'the certificate serial');
  if (bad) return bad;
  const text = field(chars, s);
  if (/^0+$/.test(text)) {
    return fail(s[0], `${where(s)} are ${text}: the certificate serial runs from ${'1'.padStart(width(s), '0')} to ${'9'.repeat(width(s))} (${cite})`);
  }
  return undefined;
}

/** Positions 14-15: the last two digits of the year. The rules date from 2019, so only 2000-2099 can be coded. */
export function yearCode(year: number): string | undefined {
  if (!Number.isInteger(year) || year < 2000 || year > 2099) return undefined;
  return String(year % 100).padStart(2, '0');
}

export function yearFromCode(code: string): number {
  return 2000 + Number(code);
}

export function isCategory(v: string): v is Category {
  return v === 'Y' || v === 'S';
}

export function isLevel(v: number): v is LevelCode {
  return v === 1 || v === 2 || v === 3 || v === 4 || v === 5;
}

/**
 * Places string parts into their spans. A part of the wrong width would shift every later position and make
 * validation blame the wrong one, so widths are checked here, by part name.
 */
export function compose(length: number, parts: readonly (readonly [name: string, value: string, at: Span])[], ruleName: string): string {
  const out = new Array<string>(length).fill('');
  for (const [name, value, at] of parts) {
    const chars = [...value];
    if (chars.length !== width(at)) {
      throw new SkillcertError(
        'E_USAGE',
        `cannot build a ${ruleName} number: ${name} is "${value}" but ${where(at)} take exactly ${width(at)} character${width(at) === 1 ? '' : 's'}`,
        { field: name, position: at[0] },
      );
    }
    chars.forEach((ch, i) => (out[at[0] - 1 + i] = ch));
  }
  const missing = out.findIndex((ch) => ch === '');
  if (missing >= 0) throw new Error(`numbering data for ${ruleName}: position ${missing + 1} belongs to no part`);
  return out.join('');
}

/** prefix + serial, shared by the rules: the serial is the tail of the number, zero-padded. */
export function appendSerial(prefix: string, serial: number, rule: { name: string; serialDigits: number; maxSerial: number; length: number }): string {
  if (!Number.isInteger(serial) || serial < 1) {
    throw new SkillcertError('E_REGISTRY', `serial ${String(serial)} cannot be coded: ${rule.name} serials start at 1`, { field: 'serial' });
  }
  if (serial > rule.maxSerial) {
    throw new SkillcertError(
      'E_REGISTRY',
      `no certificate serial left for ${prefix}: ${rule.name} allows ${rule.maxSerial} per organisation, year and level, and serial ${serial} would exceed it; ` +
        'ask the issuing bureau how to continue before numbering more certificates this year at this level',
      { field: 'serial', prefix },
    );
  }
  if ([...prefix].length + rule.serialDigits !== rule.length) {
    throw new SkillcertError('E_USAGE', `"${prefix}" is not a ${rule.name} prefix: it must have ${rule.length - rule.serialDigits} characters`, { field: 'prefix' });
  }
  return prefix + String(serial).padStart(rule.serialDigits, '0');
}
