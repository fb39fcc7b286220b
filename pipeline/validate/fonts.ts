/**
 * Font coverage (SPEC §3): every character printed must be in the configured font chain, checked
 * before rendering, so an uncovered character rejects the row with the character named instead of
 * printing a blank box. The check itself is injected (the render stage owns the fonts).
 * 第九条: the fill-in fields are printed in 仿宋 小四, hence role 'fangsong': 姓名, 证件号码 (a passport number
 * may hold letters a Chinese face lacks), 职业名称, 工种/职业方向. 工作单位 is not printed.
 */
import type { RowIssues } from './issues.js';
import { codePoint } from './names.js';

export type FontRole = 'kai' | 'fangsong' | 'times';
/** Characters of `text` that no configured font for `role` covers (each listed once). */
export type Uncovered = (text: string, role: FontRole) => string[];

/** `shown` replaces the text as the problem's value (a masked ID number). */
export function checkCoverage(text: string, field: string, uncovered: Uncovered, issues: RowIssues, shown = text): boolean {
  if (text === '') return true;
  const missing = [...new Set(uncovered(text, 'fangsong'))];
  if (missing.length === 0) return true;
  const list = missing.map((c) => `${c} (${codePoint(c)})`).join(', ');
  issues.problem(
    field,
    'font.uncovered',
    `${field} in row ${issues.rowNo} has ${list}, which no configured font covers for the fill-in fields (仿宋, 第九条); add a licensed font that has ${missing.length > 1 ? 'them' : 'it'} to fonts/ or correct the text — it would print as a blank box`,
    shown,
  );
  return false;
}
