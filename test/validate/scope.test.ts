import test from 'ava';
import { ScopeIndex } from '../../pipeline/validate/scope.js';
import { RowIssues } from '../../pipeline/validate/issues.js';
import { RowValidator } from '../../pipeline/validate/row.js';
import type { LevelCode } from '../../pipeline/core/record.js';
import { residentId } from '../helpers/roster-fixtures.js';
import { fakeUncovered, header, raw, TEST_SCOPE, TODAY } from '../helpers/roster-validate.js';

const F = { occupation: '职业名称', job: '工种/职业方向', level: '职业技能等级' };
const scope = new ScopeIndex(TEST_SCOPE);

function check(occ: string, job: string, level: LevelCode) {
  const issues = new RowIssues(8);
  const value = scope.check(occ, job, level, F, issues);
  return { value, problems: issues.problems };
}

test('an occupation, job and level inside the scope pass with the registered spelling', (t) => {
  t.deepEqual(check('电工', '维修电工', 3), { value: { occupation: '电工', job: '维修电工' }, problems: [] });
  t.deepEqual(check('车工', '', 2).value, { occupation: '车工', job: '' });
  t.deepEqual(check('电子产品维修工(家电维修)', '', 5).value, { occupation: '电子产品维修工（家电维修）', job: '' }, 'width-insensitive match');
});

test('an occupation outside the scope is rejected naming the registered occupations', (t) => {
  const r = check('焊工', '', 3);
  t.deepEqual(r.problems.map((p) => [p.field, p.rule, p.value]), [['职业名称', 'scope.occupation', '焊工']]);
  t.regex(r.problems[0]!.message, /registered: 电工, 车工, 中式烹调师, 电子产品维修工（家电维修）/);
});

test('a job not registered for the occupation is rejected naming the allowed jobs', (t) => {
  const r = check('电工', '高压电工', 3);
  t.deepEqual(r.problems.map((p) => p.rule), ['scope.job']);
  t.regex(r.problems[0]!.message, /"高压电工" is not registered for 电工; registered: 维修电工, 安装电工/);
});

test('an empty job for an occupation with registered jobs is rejected naming them', (t) => {
  const r = check('电工', '', 3);
  t.deepEqual(r.problems.map((p) => [p.field, p.rule]), [['工种/职业方向', 'scope.jobMissing']]);
  t.regex(r.problems[0]!.message, /registered with jobs: 维修电工, 安装电工/);
});

test('a job given for an occupation without jobs is rejected: leave it empty, printed as ——', (t) => {
  const r = check('车工', '数控车工', 3);
  t.deepEqual(r.problems.map((p) => p.rule), ['scope.job']);
  t.regex(r.problems[0]!.message, /has no registered 工种\/职业方向, so leave it empty \(printed as ——/);
});

test('a level not registered for the occupation is rejected naming the registered levels', (t) => {
  const r = check('车工', '', 1);
  t.deepEqual(r.problems.map((p) => [p.field, p.rule, p.value]), [['职业技能等级', 'scope.level', '一级/高级技师']]);
  t.regex(r.problems[0]!.message, /registered: 二级\/技师, 三级\/高级工, 四级\/中级工/);
});

test('entries for one occupation are merged, each job keeping its own levels', (t) => {
  const s = new ScopeIndex([
    { occupation: '焊工', jobs: ['电焊工'], levels: [3, 4] },
    { occupation: '焊工', jobs: ['气焊工'], levels: [5] },
  ]);
  const issues = new RowIssues(1);
  t.truthy(s.check('焊工', '电焊工', 3, F, issues));
  t.is(s.check('焊工', '气焊工', 3, F, issues), undefined);
  t.deepEqual(issues.problems.map((p) => p.rule), ['scope.level']);
});

test('the Sichuan 申报职业（工种） cell is split into occupation and job', (t) => {
  t.deepEqual(scope.split('电工（维修电工）'), { occupation: '电工', job: '维修电工' });
  t.deepEqual(scope.split('电工(维修电工)'), { occupation: '电工', job: '维修电工' });
  t.deepEqual(scope.split('车工'), { occupation: '车工', job: '' });
  t.deepEqual(scope.split('电子产品维修工（家电维修）'), { occupation: '电子产品维修工（家电维修）', job: '' }, 'a registered name with brackets is kept whole');
});

test('a split job outside the scope is reported against the combined column', (t) => {
  const h = header(['name', 'idNo', 'occupation', 'level', 'award'], { idNo: '身份证', occupation: '申报职业（工种）', level: '申报等级' }, { occupationCarriesJob: true });
  const v = new RowValidator(h, { scope: TEST_SCOPE, uncovered: fakeUncovered(), today: TODAY, issueDate: '2026-11-20' });
  const out = v.validate(raw(6, { name: '杨帆', idNo: residentId('110105', '19970114', 11), occupation: '电工（高压电工）', level: '三级', award: '金奖/第一名' }));
  t.is(out.kind, 'rejected');
  if (out.kind === 'rejected') t.deepEqual(out.problems.map((p) => [p.field, p.rule, p.value]), [['申报职业（工种）', 'scope.job', '高压电工']]);
  const ok = v.validate(raw(7, { name: '杨帆', idNo: residentId('110105', '19970114', 11), occupation: '电工（维修电工）', level: '三级', award: '金奖/第一名' }));
  t.is(ok.kind, 'accepted');
  if (ok.kind === 'accepted') t.like(ok.row, { occupation: '电工', job: '维修电工', level: 3, idType: '201', result: '合格', award: '金奖/第一名' });
});

test('an occupation typed with other spacing or widths is written as registered and noted', (t) => {
  const v = new RowValidator(header(['name', 'idType', 'idNo', 'occupation', 'level', 'result', 'issueDate']), { scope: TEST_SCOPE, uncovered: fakeUncovered(), today: TODAY });
  const out = v.validate(raw(3, { name: '王五', idType: '201', idNo: residentId('110105', '19970114', 11), occupation: '电子产品维修工 (家电维修)', level: '4', result: '合格', issueDate: '2026-11-20' }));
  t.is(out.kind, 'accepted');
  if (out.kind === 'accepted') {
    t.is(out.row.occupation, '电子产品维修工（家电维修）');
    t.deepEqual(out.notes.map((n) => n.change), ['written as registered in the scope']);
  }
});
