/**
 * 职业技能等级 (seed 002 表 6, 第九条): accepts the code 1-5, the grade (三级 or 3级), the title (高级工)
 * or both in any of the usual spellings: 三级/高级工, 三级（高级工）, 三级 高级工, 三级高级工.
 * A grade and a title that disagree (三级/技师) are not resolved: either could be the mistake.
 */
import { LEVELS, levelLabel, type LevelCode } from '../core/record.js';
import type { RowIssues } from './issues.js';
import { compareKey } from './text.js';

const TOKENS = new Map<string, LevelCode>();
for (const l of LEVELS) {
  TOKENS.set(String(l.code), l.code);
  TOKENS.set(`${l.code}级`, l.code);
  TOKENS.set(l.grade, l.code);
  TOKENS.set(l.title, l.code);
}

function token(t: string): LevelCode[] | undefined {
  const direct = TOKENS.get(t);
  if (direct) return [direct];
  // 三级高级工: a grade immediately followed by a title
  for (const l of LEVELS) {
    for (const g of [l.grade, `${l.code}级`]) {
      if (t.startsWith(g)) {
        const rest = TOKENS.get(t.slice(g.length));
        if (rest) return [l.code, rest];
      }
    }
  }
  return undefined;
}

/** The level code, 'conflict' when parts disagree, undefined when not recognised. */
export function parseLevel(text: string): LevelCode | 'conflict' | undefined {
  const k = compareKey(text)
    .replace(/^(\d)\.0+$/, '$1')
    .replace(/[()（）/／、\-—_,，+]+/g, '/');
  const parts = k.split('/').filter(Boolean);
  if (parts.length === 0) return undefined;
  const codes: LevelCode[] = [];
  for (const p of parts) {
    const c = token(p);
    if (!c) return undefined;
    codes.push(...c);
  }
  return codes.every((c) => c === codes[0]) ? codes[0] : 'conflict';
}

const ACCEPTED = LEVELS.map((l) => `${l.code} = ${levelLabel(l.code)}`).join(', ');

export function validateLevel(text: string, field: string, issues: RowIssues): LevelCode | undefined {
  const code = parseLevel(text);
  if (code === 'conflict') {
    issues.problem(field, 'level.conflict', `${field} "${text}" names two different levels; write one level, e.g. 三级/高级工, in row ${issues.rowNo}`, text);
    return undefined;
  }
  if (code === undefined) {
    issues.problem(field, 'level.unknown', `${field} "${text}" is not a skill level; use ${ACCEPTED} (code, grade or title) in row ${issues.rowNo}`, text);
    return undefined;
  }
  return code;
}
