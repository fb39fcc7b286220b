import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { openRoster } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { excelDate, tempDir, writeWorkbook, type CellInput } from '../helpers/roster-workbook.js';
import { buildSichuanCompetitionRoster } from '../helpers/roster-fixtures.js';

const HEADER = ['序号', '姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '发证日期'];

async function rowsOf(file: string): Promise<{ rows: RawRow[]; header: Awaited<ReturnType<typeof openRoster>>['header'] }> {
  const r = await openRoster(file);
  const rows: RawRow[] = [];
  for await (const row of r.rows) rows.push(row);
  return { rows, header: r.header };
}

async function roster(rows: CellInput[][], name = 'roster.xlsx'): Promise<string> {
  return writeWorkbook(join(await tempDir(), name), rows);
}

test('the header row is found below title rows and row numbers are the ones the user sees', async (t) => {
  const file = await roster([['某某评价机构合格人员名单'], [], ['制表日期：2026-11-20'], HEADER, [1, '王建国', '201', '110101198503120033', '电工', '维修电工', '三级', '合格', '2026-11-20']]);
  const { rows, header } = await rowsOf(file);
  t.is(header.headerRow, 4);
  t.is(header.sheet, '名单');
  t.is(header.title, '某某评价机构合格人员名单');
  t.deepEqual(header.meta, { 制表日期: '2026-11-20' });
  t.deepEqual(header.columns.idNo, { col: 4, header: '证件号码' });
  t.is(rows.length, 1);
  t.is(rows[0]!.rowNo, 5);
  t.deepEqual(rows[0]!.cells.name, { kind: 'text', text: '王建国' });
});

test('the Sichuan 申报汇总表 is read with its header block and fixed column order; template rows and notes are left out', async (t) => {
  const fx = await buildSichuanCompetitionRoster(join(await tempDir(), 'sichuan.xlsx'));
  const { rows, header } = await rowsOf(fx.file);
  t.is(header.headerRow, 5);
  t.is(header.title, '四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表');
  t.like(header.meta, { 大赛名称: '2026年四川技能大赛——第三届职业技能竞赛', 大赛牵头主办单位名称: '四川省职业技能竞赛组委会办公室', 联系电话: '028-86712192', 经办人: '杨坤' });
  t.deepEqual(
    Object.entries(header.columns).map(([f, c]) => `${c.col}:${f}:${c.header}`),
    ['1:seq:序号', '2:name:姓名', '3:gender:性别', '4:idNo:身份证', '5:employer:工作单位', '6:occupation:申报职业（工种）', '7:level:申报等级', '8:competitionCategory:竞赛类别', '9:award:奖牌类别/名次'],
  );
  t.true(header.occupationCarriesJob);
  t.deepEqual(rows.map((r) => r.rowNo), [6, 7, 8, 9, 10, 11]);
  t.is(rows[0]!.cells.occupation?.text, '电工（维修电工）');
});

test('cells keep their origin: numeric ID, date cell, serial number, rich text and a formula\'s cached result', async (t) => {
  const file = await roster([
    HEADER,
    [
      1,
      { richText: [{ text: '阿依古丽' }, { font: { bold: true }, text: '·买买提' }] },
      { formula: '"20"&"1"', result: '201' },
      110101199003071000,
      '电工',
      '维修电工',
      3,
      '合格',
      excelDate('2026-11-20'),
    ],
    [2, '王建国', '201', '110101198503120033', '车工', null, '三级', '合格', 46346],
  ]);
  const { rows } = await rowsOf(file);
  const [a, b] = rows;
  t.deepEqual(a!.cells.name, { kind: 'text', text: '阿依古丽·买买提' });
  t.deepEqual(a!.cells.idType, { kind: 'text', text: '201', formula: true });
  t.deepEqual(a!.cells.idNo, { kind: 'number', text: '110101199003071000', value: 110101199003071000 });
  t.deepEqual(a!.cells.level, { kind: 'number', text: '3', value: 3 });
  t.deepEqual(a!.cells.issueDate, { kind: 'date', text: '2026-11-20', date: '2026-11-20' });
  t.deepEqual(b!.cells.issueDate, { kind: 'number', text: '46346', value: 46346 });
  t.is(b!.cells.job, undefined);
});

test('a formula saved without its result becomes an error cell and is never evaluated', async (t) => {
  const file = await roster([HEADER, [1, '王建国', '201', { formula: 'CONCATENATE("1101","01198503120033")' }, '车工', '', '三级', '合格', '2026-11-20']]);
  const { rows } = await rowsOf(file);
  t.deepEqual(rows[0]!.cells.idNo, { kind: 'error', text: '(formula without a saved result)', formula: true });
});

test('formula-looking text stays text', async (t) => {
  const file = await roster([HEADER, [1, '=HYPERLINK("http://evil.example","点我")', '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20']]);
  const { rows } = await rowsOf(file);
  t.deepEqual(rows[0]!.cells.name, { kind: 'text', text: '=HYPERLINK("http://evil.example","点我")' });
});

test('blank rows, 序号-only template rows, a repeated header and the notes block are left out', async (t) => {
  const file = await roster([
    HEADER,
    [1, '王建国', '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20'],
    [],
    [2, '   '],
    HEADER,
    [3, '李秀英', '201', '110102199005210045', '车工', '', '三级', '合格', '2026-11-20'],
    [4],
    ['备注：本名单经公示7天无异议。'],
    ['  2. 第二行说明'],
    [undefined, '填表人：张三'],
  ]);
  const { rows } = await rowsOf(file);
  t.deepEqual(rows.map((r) => [r.rowNo, r.cells.name?.text]), [[2, '王建国'], [6, '李秀英']]);
});

test('a row that has data is kept even when its name or ID is missing (validation reports it)', async (t) => {
  const file = await roster([HEADER, [1, '', '201', '', '车工', '', '三级', '合格', '2026-11-20']]);
  const { rows } = await rowsOf(file);
  t.is(rows.length, 1);
  t.is(rows[0]!.cells.name, undefined);
});

test('the roster is the visible sheet with a recognisable header; an instructions sheet before it and a hidden sheet after it are passed over', async (t) => {
  const file = join(await tempDir(), 'two-sheets.xlsx');
  // Two visible sheets with a header are refused as ambiguous (xlsx-sheets.test.ts), so the other one is hidden here.
  await writeWorkbook(file, [
    { name: '填表说明', rows: [['1. 证件号码列请设置为文本格式'], ['2. 等级填写 一级 至 五级']] },
    { name: '名单', rows: [HEADER, [1, '王建国', '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20']] },
    { name: '另一张', state: 'hidden', rows: [HEADER, [1, '不该读到', '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20']] },
  ]);
  const { rows, header } = await rowsOf(file);
  t.is(header.sheet, '名单');
  t.deepEqual(rows.map((r) => r.cells.name?.text), ['王建国']);
});

test('a file that is not a zip fails with one E_ROSTER before any row', async (t) => {
  const file = join(await tempDir(), 'roster.xlsx');
  await writeFile(file, '姓名,证件号码\n王建国,110101198503120033\n');
  const err = await t.throwsAsync(openRoster(file), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /roster roster.xlsx is not an .xlsx workbook \(it is not a zip file\)/);
});

test('an old .xls or password-protected workbook fails saying to save it as .xlsx', async (t) => {
  const file = join(await tempDir(), 'roster.xlsx');
  await writeFile(file, Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)]));
  const err = await t.throwsAsync(openRoster(file), { instanceOf: SkillcertError });
  t.regex(err!.message, /old .xls workbook or a password-protected one; .* save it as .xlsx/);
  const xls = join(await tempDir(), 'roster.xls');
  await writeFile(xls, 'x');
  t.regex((await t.throwsAsync(openRoster(xls)))!.message, /old .xls workbook/);
});

test('a truncated workbook fails with one E_ROSTER', async (t) => {
  const good = await roster([HEADER, ...Array.from({ length: 200 }, (_, i) => [i + 1, `姓名${i}`, '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20'])]);
  const bytes = await readFile(good);
  const file = join(await tempDir(), 'truncated.xlsx');
  await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const err = await t.throwsAsync(async () => {
    const r = await openRoster(file);
    for await (const row of r.rows) void row;
  }, { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /cannot read roster truncated.xlsx: the workbook is damaged .*save it as .xlsx and run again/);
});

test('a workbook without a recognisable header fails naming the closest row', async (t) => {
  const file = await roster([['名单'], ['姓名', '性别', '职业名称', '等级']]);
  const err = await t.throwsAsync(openRoster(file), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /no recognisable header row: looked in the first 30 rows .* The closest was roster.xlsx sheet "名单" row 2: 姓名, 性别, 职业名称, 等级 — it lacks 姓名 or 证件号码/);
});

test('a workbook with no worksheet fails with one E_ROSTER', async (t) => {
  const file = join(await tempDir(), 'empty-book.xlsx');
  await new ExcelJS.Workbook().xlsx.writeFile(file);
  const err = await t.throwsAsync(openRoster(file), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /has no worksheet/);
});

test('an empty file and a missing file each fail with one clear E_ROSTER', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'empty.xlsx'), '');
  t.regex((await t.throwsAsync(openRoster(join(dir, 'empty.xlsx')), { instanceOf: SkillcertError }))!.message, /is empty \(0 bytes\)/);
  t.regex((await t.throwsAsync(openRoster(join(dir, 'missing.xlsx')), { instanceOf: SkillcertError }))!.message, /cannot open roster missing.xlsx: ENOENT/);
});

test('closing a roster before the end releases it without error', async (t) => {
  const file = await roster([HEADER, [1, '王建国', '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20'], [2, '李秀英', '201', '110102199005210045', '车工', '', '三级', '合格', '2026-11-20']]);
  const r = await openRoster(file);
  const first = await r.rows.next();
  t.false(first.done);
  await t.notThrowsAsync(r.close());
});
