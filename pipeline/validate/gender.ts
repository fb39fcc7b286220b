/**
 * 性别: optional (not printed), but when given it must be 男 or 女 and agree with a 居民身份证 number,
 * whose 17th digit is odd for men and even for women (GB 11643) — a disagreement means one of the
 * two was typed wrong, and the ID number is printed.
 */
import type { RowIssues } from './issues.js';
import { compareKey } from './text.js';

export function validateGender(text: string, field: string, issues: RowIssues, residentId?: string): string | undefined {
  if (text === '') return undefined;
  const k = compareKey(text);
  const g = k === '男' || k === '男性' ? '男' : k === '女' || k === '女性' ? '女' : undefined;
  if (!g) {
    issues.problem(field, 'gender.unknown', `${field} "${text}" is not 男 or 女; correct it or leave it empty in row ${issues.rowNo}`, text);
    return undefined;
  }
  if (g !== k) issues.note(field, text, g, `${k} written as ${g}`);
  if (residentId) {
    const fromId = Number(residentId[16]) % 2 === 1 ? '男' : '女';
    if (fromId !== g) {
      issues.problem(field, 'gender.mismatch', `${field} is ${g} but the 居民身份证 number is a ${fromId === '男' ? 'man' : 'woman'}'s (its 17th digit); correct whichever is wrong in row ${issues.rowNo}`, g);
      return undefined;
    }
  }
  return g;
}
