/**
 * 第十九条: names and ID numbers are personal data. Outside the filings that need them (the upload file,
 * the rosters, the 申报汇总表) an ID number appears masked: in report.json, report.txt, the batch receipt
 * and any log line. Values reach us masked already (errors.ts); this is the second line of defence for
 * messages written by other stages that might quote a number.
 */
import type { Problem } from '../errors.js';
import { maskId } from '../errors.js';

const ID_FIELD = /idno|证件号码|身份证|id ?number/i;
// An 18-character resident ID (last may be X) or a legacy 15-digit one, not part of a longer token
// (a 22-character certificate number contains 21 digits and must stay as it is).
const ID_LIKE = /(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])/g;

export function scrubIds(text: string): string {
  return text.replace(ID_LIKE, (m) => maskId(m));
}

/** A problem as it may be shown outside the filings: the value masked when it is an ID number, messages scrubbed. */
export function maskedProblem(p: Problem): Problem {
  const value = p.value === undefined ? undefined : ID_FIELD.test(p.field) ? maskId(p.value) : scrubIds(p.value);
  return { rowNo: p.rowNo, field: p.field, ...(value !== undefined ? { value } : {}), rule: p.rule, message: scrubIds(p.message) };
}
