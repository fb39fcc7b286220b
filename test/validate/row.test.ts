import test from 'ava';
import { RowValidator, type RowOutcome } from '../../pipeline/validate/row.js';
import { DuplicateTracker, qualificationHash } from '../../pipeline/validate/duplicates.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import type { Field, RawCell } from '../../pipeline/ingest/types.js';
import { personId, residentId } from '../helpers/roster-fixtures.js';
import { ALL_FIELDS, fakeUncovered, header, raw, TEST_SCOPE, TODAY } from '../helpers/roster-validate.js';

const ID = personId('110101', '19850312', 1, '男');

function validator(fields = ALL_FIELDS, extra: { issueDate?: string } = {}, over: Partial<Record<Field, string>> = {}) {
  return new RowValidator(header(fields, over), { scope: TEST_SCOPE, uncovered: fakeUncovered(), today: TODAY, ...extra });
}

function good(over: Partial<Record<Field, RawCell | string>> = {}) {
  return { name: '王建国', gender: '男', idType: '201', idNo: ID, employer: '北京城建集团有限公司', occupation: '电工', job: '维修电工', level: '三级/高级工', result: '合格', photo: '001.jpg', issueDate: '2026-11-20', ...over };
}

function rules(o: RowOutcome): string[] {
  return o.kind === 'rejected' ? o.problems.map((p) => `${p.field}:${p.rule}`) : [o.kind];
}

test('a complete 合格 row becomes a Row with the printed values', (t) => {
  const out = validator().validate(raw(5, good()));
  t.is(out.kind, 'accepted');
  if (out.kind !== 'accepted') return;
  t.deepEqual(out.row, {
    rowNo: 5, name: '王建国', gender: '男', idType: '201', idNo: ID, employer: '北京城建集团有限公司', occupation: '电工', job: '维修电工', level: 3, result: '合格', photo: '001.jpg', issueDate: '2026-11-20',
  });
});

test('不合格, 缺考 and 舞弊 rows are skipped and counted, not rejected, even with other mistakes', (t) => {
  const v = validator();
  for (const result of ['不合格', '缺考', '舞弊'] as const) {
    const out = v.validate(raw(6, good({ result, idNo: '123' })));
    t.deepEqual(out.kind === 'skipped' ? out.result : out.kind, result);
  }
});

test('a result outside 合格/不合格/缺考/舞弊 is rejected', (t) => {
  t.deepEqual(rules(validator().validate(raw(6, good({ result: '通过' })))), ['认定结果:result.unknown']);
});

test('a competition row with an award is treated as 合格; without one it is rejected', (t) => {
  const fields: Field[] = ['name', 'idNo', 'occupation', 'job', 'level', 'award'];
  const v = validator(fields, { issueDate: '2026-11-20' });
  const out = v.validate(raw(6, { name: '杨帆', idNo: ID, occupation: '电工', job: '维修电工', level: '3', award: '金奖/第一名' }));
  t.is(out.kind, 'accepted');
  if (out.kind === 'accepted') t.like(out.row, { result: '合格', award: '金奖/第一名', issueDate: '2026-11-20', idType: '201' });
  t.deepEqual(rules(v.validate(raw(7, { name: '杨帆', idNo: ID, occupation: '电工', job: '维修电工', level: '3' }))), ['奖牌类别/名次:award.empty']);
});

test('every empty fill-in field is reported, all at once (第九条)', (t) => {
  const out = validator().validate(raw(9, { gender: '男', employer: '北京城建集团有限公司', job: '维修电工', result: '合格' }));
  t.deepEqual(rules(out), ['姓名:field.empty', '证件类型:idType.empty', '证件号码:field.empty', '职业名称:field.empty', '职业技能等级:field.empty', '发证日期:field.empty']);
  if (out.kind === 'rejected') t.regex(out.problems[3]!.message, /职业名称 is empty in row 9; fill it in \(if the column uses merged cells, unmerge them/);
});

test('an empty job is fine for an occupation without registered jobs (printed as ——)', (t) => {
  const out = validator().validate(raw(5, good({ occupation: '车工', job: '', level: '3' })));
  t.is(out.kind, 'accepted');
  if (out.kind === 'accepted') t.is(out.row.job, '');
});

test('an error cell or a formula saved without its result is reported, never evaluated', (t) => {
  const out = validator().validate(raw(5, good({ level: { kind: 'error', text: '#N/A', formula: true }, occupation: { kind: 'error', text: '(formula without a saved result)', formula: true } })));
  t.deepEqual(rules(out), ['职业名称:cell.formulaNoResult', '职业技能等级:cell.error']);
});

test('an ID error cell does not leak its text and the ID stays masked in every problem', (t) => {
  const out = validator().validate(raw(5, good({ idNo: { kind: 'error', text: '#VALUE!' } })));
  t.deepEqual(rules(out), ['证件号码:cell.error']);
  if (out.kind === 'rejected') t.is(out.problems[0]!.value, undefined);
});

test('a gender that disagrees with the 居民身份证 number is rejected', (t) => {
  t.deepEqual(rules(validator().validate(raw(5, good({ gender: '女' })))), ['性别:gender.mismatch']);
  t.deepEqual(rules(validator().validate(raw(5, good({ gender: 'M' })))), ['性别:gender.unknown']);
  t.is(validator().validate(raw(5, good({ gender: '' }))).kind, 'accepted', 'gender is optional');
});

test('a photo name that points outside the photo folder is rejected', (t) => {
  for (const photo of ['../secret.jpg', '/etc/passwd', 'a/../../b.jpg', 'C:\\x.jpg']) {
    t.deepEqual(rules(validator().validate(raw(5, good({ photo })))), ['照片:photo.path'], photo);
  }
  t.is(validator().validate(raw(5, good({ photo: 'sub/张三.jpg' }))).kind, 'accepted');
});

test('the second and later occurrences of a person and qualification are reported naming the first row', (t) => {
  const v = validator();
  t.is(v.validate(raw(5, good())).kind, 'accepted');
  const second = v.validate(raw(9, good({ name: '王 建国' })));
  const third = v.validate(raw(12, good({ idNo: ID.toLowerCase(), issueDate: '2026/11/20' })));
  for (const [out, rowNo] of [[second, 9], [third, 12]] as const) {
    t.deepEqual(rules(out), ['证件号码:duplicate.inRoster']);
    if (out.kind === 'rejected') {
      t.regex(out.problems[0]!.message, new RegExp(`^row ${rowNo} is the same person and qualification .* as row 5;`));
      t.is(out.problems[0]!.value, '1101**********0033');
    }
  }
});

test('the same person for another job or level is not a duplicate', (t) => {
  const v = validator();
  t.is(v.validate(raw(5, good())).kind, 'accepted');
  t.is(v.validate(raw(6, good({ job: '安装电工' }))).kind, 'accepted');
  t.is(v.validate(raw(7, good({ level: '四级' }))).kind, 'accepted');
});

test('a rejected first occurrence does not block the next one', (t) => {
  const v = validator();
  t.is(v.validate(raw(5, good({ name: '王3' }))).kind, 'rejected');
  t.is(v.validate(raw(6, good())).kind, 'accepted');
});

test('the duplicate tracker keeps hashes, not ID numbers', (t) => {
  const d = new DuplicateTracker();
  const k = { idType: '201' as const, idNo: ID, occupation: '电工', job: '维修电工', level: 3 as const };
  t.is(d.seen(k, 5), undefined);
  t.is(d.seen(k, 8), 5);
  t.is(d.size, 1);
  t.is(qualificationHash(k).length, 16);
  t.false(qualificationHash(k).includes(ID.slice(0, 6)));
});

test('a roster without a column for occupation, level, result or issue date fails as a whole with E_ROSTER', (t) => {
  const err = t.throws(() => validator(['name', 'idNo', 'employer']), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /no column for 职业名称 .*; 职业技能等级 .*; 认定结果 .*; 发证日期/);
  t.notThrows(() => validator(['name', 'idNo', 'occupation', 'level', 'award'], { issueDate: '2026-11-20' }));
});

test('safe corrections are applied and reported as notes with the field named', (t) => {
  const out = validator().validate(raw(5, good({ name: ' 王建国 ', idNo: ` ${ID} `, occupation: '电工', level: '３', issueDate: '2026/11/20' })));
  t.is(out.kind, 'accepted');
  if (out.kind !== 'accepted') return;
  t.like(out.row, { name: '王建国', idNo: ID, level: 3, issueDate: '2026-11-20' });
  t.deepEqual(out.notes.map((n) => `${n.field}: ${n.change}`), [
    '姓名: removed spaces at the start or end',
    '证件号码: removed spaces at the start or end',
    '职业技能等级: full-width digits or letters to half-width',
    '发证日期: date written as YYYY-MM-DD',
  ]);
  t.false(JSON.stringify(out.notes).includes(ID), 'no unmasked ID in notes');
});

test('a 居民身份证 number under another region is still accepted (any province)', (t) => {
  t.is(validator().validate(raw(5, good({ idNo: residentId('510104', '19850312', 11) }))).kind, 'accepted');
});

test('an ID number typed into another column is masked in the problem too (第十九条)', (t) => {
  const out = validator().validate(raw(5, good({ name: ID })));
  t.deepEqual(rules(out), ['姓名:name.characters']);
  if (out.kind === 'rejected') {
    t.is(out.problems[0]!.value, '1101**********0033');
    t.false(JSON.stringify(out.problems).includes(ID));
  }
});
