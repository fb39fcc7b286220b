import test from 'ava';
import type { Field } from '../../pipeline/ingest/types.js';
import { columnLetter, matchHeader, parseHeaderBlock, recogniseHeader } from '../../pipeline/ingest/headers.js';
import { SkillcertError } from '../../pipeline/core/errors.js';

test('Chinese headers and English aliases are matched ignoring case, spaces, widths and required markers', (t) => {
  const cases: [string, Field][] = [
    ['姓名', 'name'], [' 姓 名 ', 'name'], ['*姓名', 'name'], ['姓名(必填)', 'name'], ['姓名：', 'name'],
    ['证件号码', 'idNo'], ['身份证', 'idNo'], ['身份证号', 'idNo'], ['ID No.', 'idNo'], ['id_no', 'idNo'],
    ['申报职业', 'occupation'], ['职业名称', 'occupation'], ['工种/职业方向', 'job'], ['工种／职业方向', 'job'], ['工种', 'job'],
    ['职业技能等级', 'level'], ['申报等级', 'level'], ['等级', 'level'], ['Skill Level', 'level'],
    ['认定结果', 'result'], ['奖牌类别/名次', 'award'], ['照片', 'photo'], ['发证日期', 'issueDate'], ['Issue-Date', 'issueDate'],
    ['竞赛类别', 'competitionCategory'], ['序号', 'seq'], ['证件类型', 'idType'], ['ID Type', 'idType'], ['工作单位', 'employer'], ['性别', 'gender'],
  ];
  for (const [h, f] of cases) t.is(matchHeader(h)?.field, f, h);
  t.is(matchHeader('备注'), undefined);
  t.is(matchHeader('ID'), undefined, 'a bare ID is usually a record number, not an ID number');
});

test('the Sichuan 申报职业（工种） header marks an occupation column that carries the job, with full- or half-width brackets', (t) => {
  t.deepEqual(matchHeader('申报职业（工种）'), { field: 'occupation', carriesJob: true });
  t.deepEqual(matchHeader('职业(工种)'), { field: 'occupation', carriesJob: true });
  t.deepEqual(matchHeader('申报职业'), { field: 'occupation', carriesJob: false });
});

test('a row is the header when it names 姓名, 证件号码 and at least one more field', (t) => {
  const m = recogniseHeader([undefined, '序号', '姓名', '身份证', '备注'], 'x');
  t.not(typeof m, 'number');
  if (typeof m === 'number') return;
  t.deepEqual(m.columns.idNo, { col: 3, header: '身份证' });
  t.deepEqual(m.otherColumns, [{ col: 4, header: '备注' }]);
  t.is(recogniseHeader([undefined, '姓名', '性别', '职业名称'], 'x'), 3, 'without an ID column it is not the header');
  t.is(recogniseHeader([undefined, '大赛名称：第三届'], 'x'), 0);
});

test('the combined occupation column is split only when there is no job column of its own', (t) => {
  const both = recogniseHeader([undefined, '姓名', '证件号码', '申报职业（工种）', '工种'], 'x');
  t.false(typeof both !== 'number' && both.occupationCarriesJob);
  const alone = recogniseHeader([undefined, '姓名', '证件号码', '申报职业（工种）'], 'x');
  t.true(typeof alone !== 'number' && alone.occupationCarriesJob);
});

test('two columns for the same field stop the roster with one E_ROSTER naming both', (t) => {
  const err = t.throws(() => recogniseHeader([undefined, '姓名', '证件号码', '身份证号', '等级'], 'roster.xlsx row 3'), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /"证件号码" \(column B\) and "身份证号" \(column C\)/);
});

test('the header block above the header is read as label → value metadata, (盖章) dropped from labels', (t) => {
  const block = parseHeaderBlock([
    '四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表',
    '大赛名称：2026年四川技能大赛',
    '大赛牵头主办单位名称（盖章）：四川省职业技能竞赛组委会办公室\t单位地址：成都市人民中路一段东二巷18号\t联系电话：028-86712192',
    '大赛牵头主办单位负责人：                                  经办人：                                    制表日期：2026-11-20 10:30',
  ]);
  t.is(block.title, '四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表');
  t.deepEqual(block.meta, {
    大赛名称: '2026年四川技能大赛',
    大赛牵头主办单位名称: '四川省职业技能竞赛组委会办公室',
    单位地址: '成都市人民中路一段东二巷18号',
    联系电话: '028-86712192',
    大赛牵头主办单位负责人: '',
    经办人: '',
    制表日期: '2026-11-20 10:30',
  });
});

test('column letters follow the spreadsheet', (t) => {
  t.is(columnLetter(1), 'A');
  t.is(columnLetter(26), 'Z');
  t.is(columnLetter(27), 'AA');
  t.is(columnLetter(703), 'AAA');
});
