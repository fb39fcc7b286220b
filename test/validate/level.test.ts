import test from 'ava';
import type { LevelCode } from '../../pipeline/core/record.js';
import { parseLevel, validateLevel } from '../../pipeline/validate/level.js';
import { RowIssues } from '../../pipeline/validate/issues.js';

test('every accepted spelling of a level gives its code', (t) => {
  const cases: [string, LevelCode][] = [
    ['1', 1], ['5', 5], ['3级', 3], ['一级', 1], ['高级技师', 1], ['技师', 2], ['一级/高级技师', 1],
    ['三级/高级工', 3], ['三级（高级工）', 3], ['三级(高级工)', 3], ['三级 高级工', 3], ['三级高级工', 3],
    ['四级／中级工', 4], ['初级工', 5], ['五级、初级工', 5], [' ３ ', 3], ['高级工(三级)', 3], ['3.0', 3],
  ];
  for (const [s, code] of cases) t.is(parseLevel(s), code, s);
});

test('a grade and a title that disagree are a conflict, not a guess', (t) => {
  t.is(parseLevel('三级/技师'), 'conflict');
  const issues = new RowIssues(3);
  t.is(validateLevel('二级/高级工', '职业技能等级', issues), undefined);
  t.deepEqual(issues.problems.map((p) => p.rule), ['level.conflict']);
});

test('an unknown level is rejected listing the accepted forms', (t) => {
  const issues = new RowIssues(3);
  t.is(validateLevel('特级技师', '申报等级', issues), undefined);
  t.deepEqual(issues.problems.map((p) => [p.field, p.rule]), [['申报等级', 'level.unknown']]);
  t.regex(issues.problems[0]!.message, /1 = 一级\/高级技师, 2 = 二级\/技师/);
  t.is(parseLevel('6'), undefined);
  t.is(parseLevel('0'), undefined);
});
