/**
 * 第十九条: names and ID numbers are personal data. The registry keeps the whole ID number (it is the system of
 * record), and so do the forms that exist to carry it (the certificate, the 第十二条 upload, the 花名册, the
 * 申报汇总表). Everywhere else — logs, reports, error messages, receipts, QR payloads — it appears masked, and this
 * file is the one place that decides how.
 */
import type { Problem } from './errors.js';

/**
 * Masks an ID number for logs, reports and QR payloads. An 18-character 居民身份证 keeps its first 4 and last 4
 * characters (region and check, never the birth date); shorter numbers (passports, permits) keep only 2 + 2, or
 * 1 + 1, so that most of the number is always hidden.
 */
export function maskId(idNo: string): string {
  const s = idNo.trim();
  const keep = s.length >= 15 ? 4 : s.length >= 9 ? 2 : s.length >= 4 ? 1 : 0;
  return `${s.slice(0, keep)}${'*'.repeat(s.length - 2 * keep)}${keep ? s.slice(-keep) : ''}`;
}

/**
 * The masking of the correction application form (附件4 北京市职业技能等级证书信息更正申请表), as its sample shows:
 * 居民身份证 numbers as 210304********123X (first 6, last 4). Shorter documents (passports, permits) keep only 2 and
 * 2, so that at least half of a 9-character passport number is hidden. The form travels by post and mail, so it
 * carries no more of the person than the office needs to find the record.
 */
export function maskIdOnForm(idNo: string): string {
  const s = idNo.trim();
  if (s.length >= 15) return `${s.slice(0, 6)}${'*'.repeat(s.length - 10)}${s.slice(-4)}`;
  if (s.length >= 5) return `${s.slice(0, 2)}${'*'.repeat(s.length - 4)}${s.slice(-2)}`;
  return '*'.repeat(s.length);
}

/** Names on the same form: 李刚 → 李*, 李小刚 → 李*刚, 阿依古丽·买买提 → 阿******提; by code points (𠮷 is one). */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return chars.join('');
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

const ID_FIELD = /idno|证件号码|身份证|id ?number/i;
// An 18-character resident ID (last may be X) or a legacy 15-digit one, not part of a longer token
// (a 22-character certificate number contains 21 digits and must stay as it is).
const ID_LIKE = /(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])/g;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A free text (a message, a reason someone typed) with every ID number in it masked: the `known` numbers of the
 * people it is about, of any document type and in any case, and anything shaped like a resident ID number.
 */
export function scrubIds(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const id of known) {
    if (id.trim().length < 5) continue;
    out = out.replace(new RegExp(escapeRe(id.trim()), 'gi'), maskId(id));
  }
  return out.replace(ID_LIKE, (m) => maskId(m));
}

/** A problem as it may be shown outside the filings: the value masked when it is an ID number, messages scrubbed. */
export function maskedProblem(p: Problem): Problem {
  const value = p.value === undefined ? undefined : ID_FIELD.test(p.field) ? maskId(p.value) : scrubIds(p.value);
  return { rowNo: p.rowNo, field: p.field, ...(value !== undefined ? { value } : {}), rule: p.rule, message: scrubIds(p.message) };
}
