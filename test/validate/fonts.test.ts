import test from 'ava';
import { RowValidator } from '../../pipeline/validate/row.js';
import { checkCoverage, type FontRole } from '../../pipeline/validate/fonts.js';
import { RowIssues } from '../../pipeline/validate/issues.js';
import { residentId } from '../helpers/roster-fixtures.js';
import { ALL_FIELDS, fakeUncovered, header, raw, TEST_SCOPE, TODAY } from '../helpers/roster-validate.js';

test('an uncovered character rejects the value naming the character, its U+ code and the field', (t) => {
  const issues = new RowIssues(12);
  t.false(checkCoverage('张𠮷', '姓名', fakeUncovered('𠮷'), issues));
  t.deepEqual(issues.problems.map((p) => [p.field, p.rule, p.value]), [['姓名', 'font.uncovered', '张𠮷']]);
  t.regex(issues.problems[0]!.message, /has 𠮷 \(U\+20BB7\), which no configured font covers/);
});

test('several uncovered characters are all named once', (t) => {
  const issues = new RowIssues(12);
  checkCoverage('䶮𠮷䶮', '姓名', fakeUncovered('䶮𠮷'), issues);
  t.regex(issues.problems[0]!.message, /䶮 \(U\+4DAE\), 𠮷 \(U\+20BB7\)/);
});

test('name, ID number, occupation and job are checked with the fangsong role; the employer is not printed so not checked', (t) => {
  const calls: { text: string; role: FontRole }[] = [];
  const v = new RowValidator(header(ALL_FIELDS), { scope: TEST_SCOPE, uncovered: fakeUncovered('', calls), today: TODAY });
  const out = v.validate(raw(2, { name: '王建国', idType: '201', idNo: residentId('110101', '19850312', 11), employer: '𠮷字公司', occupation: '电工', job: '维修电工', level: '3', result: '合格', issueDate: '2026-11-20' }));
  t.is(out.kind, 'accepted');
  t.deepEqual(calls, [
    { text: '王建国', role: 'fangsong' },
    { text: residentId('110101', '19850312', 11), role: 'fangsong' },
    { text: '电工', role: 'fangsong' },
    { text: '维修电工', role: 'fangsong' },
  ]);
});

test('a row whose name has an uncovered rare character is rejected, never printed with a blank box', (t) => {
  const v = new RowValidator(header(ALL_FIELDS), { scope: TEST_SCOPE, uncovered: fakeUncovered('𠮷'), today: TODAY });
  const out = v.validate(raw(5, { name: '张𠮷', idType: '201', idNo: residentId('110101', '19850312', 11), occupation: '车工', level: '3', result: '合格', issueDate: '2026-11-20' }));
  t.is(out.kind, 'rejected');
  if (out.kind === 'rejected') t.deepEqual(out.problems.map((p) => [p.rowNo, p.field, p.rule]), [[5, '姓名', 'font.uncovered']]);
});

test('an uncovered letter in a passport number is reported with the number masked', (t) => {
  const v = new RowValidator(header(ALL_FIELDS), { scope: TEST_SCOPE, uncovered: fakeUncovered('Q'), today: TODAY });
  const out = v.validate(raw(5, { name: 'Anna Müller', idType: '208', idNo: 'Q4RT56789', occupation: '车工', level: '3', result: '合格', issueDate: '2026-11-20' }));
  t.is(out.kind, 'rejected');
  if (out.kind === 'rejected') t.deepEqual(out.problems.map((p) => [p.field, p.rule, p.value]), [['证件号码', 'font.uncovered', 'Q4*****89']]);
});
