/**
 * 认定结果 (seed 004, 第二十五条): 合格, 不合格, 缺考, 舞弊. Only 合格 rows get certificates; the other
 * three are counted in the report, not rejected. Competition rosters carry 奖牌类别/名次 instead:
 * a row with an award is a winner and is treated as 合格 (seed 000, seed 001).
 */
import type { Result } from '../core/record.js';
import type { RawCell } from '../ingest/types.js';
import type { RowIssues } from './issues.js';
import { compareKey, trimAll } from './text.js';

export const RESULTS: readonly Result[] = ['合格', '不合格', '缺考', '舞弊'];

export interface ResultContext {
  readonly issues: RowIssues;
  /** Labels of the two columns. */
  readonly resultField: string;
  readonly awardField: string;
  /** Whether the roster has each column at all. */
  readonly hasResult: boolean;
  readonly hasAward: boolean;
}

export function validateResult(result: RawCell | undefined, award: RawCell | undefined, ctx: ResultContext): Result | undefined {
  const { issues } = ctx;
  const row = issues.rowNo;
  const resultText = result ? trimAll(result.text) : '';
  const awardText = award ? trimAll(award.text) : '';
  if (ctx.hasResult && resultText !== '') {
    const k = compareKey(resultText) as Result;
    if (RESULTS.includes(k)) return k;
    issues.problem(ctx.resultField, 'result.unknown', `${ctx.resultField} "${resultText}" is not one of 合格, 不合格, 缺考, 舞弊; correct it in row ${row}`, resultText);
    return undefined;
  }
  // A competition winner: the award stands for the result.
  if (awardText !== '') return '合格';
  if (ctx.hasResult) {
    issues.problem(ctx.resultField, 'field.empty', `${ctx.resultField} is empty in row ${row}; fill in 合格, 不合格, 缺考 or 舞弊`);
  } else {
    issues.problem(ctx.awardField, 'award.empty', `${ctx.awardField} is empty in row ${row}; only award winners get a certificate — fill in the award (e.g. 金奖/第一名) or remove the row`);
  }
  return undefined;
}
