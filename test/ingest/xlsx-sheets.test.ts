/**
 * Which sheet is the roster: the workbook's own sheet list decides — names and hidden states as the workbook has
 * them, whatever the order of the parts in the zip (exceljs writes xl/workbook.xml after the sheets, LibreOffice
 * and openpyxl before them; exceljs's streaming reader lost the workbook part on the former, exceljs #3064).
 */
import test from 'ava';
import { join } from 'node:path';
import { openRoster, type OpenRosterOptions } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { validateRoster } from '../../pipeline/validate/roster.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir, writeWorkbook } from '../helpers/roster-workbook.js';
import { fakeUncovered, TEST_SCOPE } from '../helpers/roster-validate.js';
import { inlineRow, readZip, rezip, workbookFirst, workbookLast, writeBook } from '../helpers/ingest-zip.js';

const HEADER = ['序号', '姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '发证日期'];
const ROW = (n: number, name: string) => [n, name, '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20'];

async function rowsOf(file: string, opts: OpenRosterOptions = {}) {
  const r = await openRoster(file, opts);
  const rows: RawRow[] = [];
  for await (const row of r.rows) rows.push(row);
  return { header: r.header, rows, names: rows.map((x) => x.cells.name?.text) };
}

/** A workbook as openpyxl writes one with a hidden first sheet: workbook.xml first, state="hidden" on sheet 1. */
async function hiddenFirst(dir: string): Promise<string> {
  return writeBook(
    join(dir, 'hidden-first.xlsx'),
    [
      { name: '旧名单', state: 'hidden', data: inlineRow(['姓名', '证件号码', '等级'], 1) + inlineRow(['不该读到', '110101198503120033', '三级'], 2) },
      { name: '合格名单', data: inlineRow(['姓名', '证件号码', '等级'], 1) + inlineRow(['王建国', '110101198503120033', '三级'], 2) },
      { name: '备用', state: 'veryHidden', data: inlineRow(['姓名', '证件号码', '等级'], 1) + inlineRow(['也不该读到', '110101198503120033', '三级'], 2) },
    ],
    { workbookFirst: true },
  );
}

test('a hidden first sheet is passed over and the visible roster is read, under its real name', async (t) => {
  const { header, names } = await rowsOf(await hiddenFirst(await tempDir()));
  t.is(header.sheet, '合格名单');
  t.deepEqual(names, ['王建国']);
});

test('a hidden or very hidden sheet is read when it is named with `sheet`', async (t) => {
  const file = await hiddenFirst(await tempDir());
  const hidden = await rowsOf(file, { sheet: '旧名单' });
  t.is(hidden.header.sheet, '旧名单');
  t.deepEqual(hidden.names, ['不该读到']);
  t.deepEqual((await rowsOf(file, { sheet: '备用' })).names, ['也不该读到']);
});

test('a sheet hidden by exceljs (ws.state) is passed over too', async (t) => {
  const file = join(await tempDir(), 'exceljs-hidden.xlsx');
  await writeWorkbook(file, [
    { name: '模板', state: 'hidden', rows: [HEADER, ROW(1, '模板行')] },
    { name: '名单', rows: [HEADER, ROW(1, '王建国')] },
  ]);
  const { header, names } = await rowsOf(file);
  t.is(header.sheet, '名单');
  t.deepEqual(names, ['王建国']);
});

test('two visible sheets with a header row stop the roster with an E_ROSTER naming both and asking which', async (t) => {
  const file = join(await tempDir(), 'two.xlsx');
  await writeWorkbook(file, [
    { name: '填表说明', rows: [['1. 证件号码列请设置为文本格式']] },
    { name: '一批', rows: [['第一批'], HEADER, ROW(1, '王建国')] },
    { name: '二批', rows: [HEADER, ROW(1, '李秀英')] },
  ]);
  const err = await t.throwsAsync(openRoster(file), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.is(err!.message, 'roster two.xlsx has a header row on 2 visible sheets: "一批" (row 2), "二批" (row 1); say which sheet is the roster with --sheet NAME (e.g. --sheet "一批"), or delete or hide the other sheets');
  t.deepEqual((await rowsOf(file, { sheet: '二批' })).names, ['李秀英']);
});

test('a sheet name that does not exist is an E_ROSTER listing the sheets, hidden ones marked', async (t) => {
  const file = await hiddenFirst(await tempDir());
  const err = await t.throwsAsync(openRoster(file, { sheet: 'Sheet1' }), { instanceOf: SkillcertError });
  t.is(err!.message, 'roster hidden-first.xlsx has no sheet named "Sheet1"; its sheets are "旧名单" (hidden), "合格名单", "备用" (very hidden) — give one of these names to --sheet');
});

test('a workbook whose worksheets are all hidden, or whose visible sheets have no header, says so and names the hidden ones', async (t) => {
  const dir = await tempDir();
  const allHidden = await writeBook(join(dir, 'all-hidden.xlsx'), [{ name: '名单', state: 'hidden', data: inlineRow(['姓名', '证件号码', '等级'], 1) }]);
  t.is((await t.throwsAsync(openRoster(allHidden)))!.message, 'roster all-hidden.xlsx has no visible worksheet ("名单" is hidden); unhide the roster sheet in Excel or WPS, or name it with --sheet NAME');
  const noHeader = await writeBook(join(dir, 'no-header.xlsx'), [
    { name: '说明', data: inlineRow(['请见隐藏表'], 1) },
    { name: '名单', state: 'hidden', data: inlineRow(['姓名', '证件号码', '等级'], 1) },
  ]);
  t.regex((await t.throwsAsync(openRoster(noHeader)))!.message, /looked in the first 30 rows of every visible sheet .* Hidden sheets were not searched \("名单"\); name one with --sheet NAME if it is the roster\. Add or fix the header row$/);
});

test('the `sheet` option of validateRoster reaches the reader', async (t) => {
  const file = join(await tempDir(), 'roster.xlsx');
  await writeWorkbook(file, [
    { name: '名单', rows: [HEADER, ROW(1, '王建国')] },
    { name: '补报', state: 'hidden', rows: [HEADER, ROW(1, '李秀英')] },
  ]);
  const v = await validateRoster(file, { scope: TEST_SCOPE }, { uncovered: fakeUncovered(), now: new Date('2026-11-20T02:00:00Z'), sheet: '补报' });
  t.is(v.summary.header.sheet, '补报');
  t.is(v.summary.rowsRead, 1);
  v.discard();
});

/** One exceljs workbook (instructions sheet + roster), rewritten with workbook.xml last (as exceljs) and first. */
async function bothOrders(dir: string): Promise<{ last: string; first: string }> {
  const src = join(dir, 'src.xlsx');
  await writeWorkbook(src, [
    { name: '填表说明', rows: [['1. 证件号码列请设置为文本格式']] },
    { name: '认定结果', rows: [['合格人员名单'], HEADER, ...Array.from({ length: 40 }, (_, i) => ROW(i + 1, `考生${i + 1}`))] },
  ]);
  return {
    last: await rezip(src, join(dir, 'workbook-last.xlsx'), { order: workbookLast }),
    first: await rezip(src, join(dir, 'workbook-first.xlsx'), { order: workbookFirst }),
  };
}

test('workbook.xml after the sheets (exceljs) and before them (LibreOffice, openpyxl): the same rows and the real sheet names', async (t) => {
  const { last, first } = await bothOrders(await tempDir());
  const order = async (f: string) => (await readZip(f)).map(([n]) => n);
  t.true((await order(last)).indexOf('xl/workbook.xml') > (await order(last)).indexOf('xl/worksheets/sheet2.xml'));
  t.true((await order(first)).indexOf('xl/workbook.xml') < (await order(first)).indexOf('xl/worksheets/sheet1.xml'));
  const a = await rowsOf(last);
  const b = await rowsOf(first);
  t.is(a.header.sheet, '认定结果');
  t.is(b.header.sheet, '认定结果');
  t.is(a.rows.length, 40);
  t.deepEqual(a.rows, b.rows);
  t.deepEqual(a.header, { ...b.header, file: a.header.file });
});

test('200 concurrent reads of both part orders, 20 at a time, all complete and all alike', async (t) => {
  const { last, first } = await bothOrders(await tempDir());
  const expected = JSON.stringify((await rowsOf(last)).rows);
  const results: string[] = [];
  const files = Array.from({ length: 200 }, (_, i) => (i % 2 ? first : last));
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < files.length) {
        const { header, rows } = await rowsOf(files[next++]!);
        results.push(`${header.sheet}|${JSON.stringify(rows)}`);
      }
    }),
  );
  t.is(results.length, 200);
  t.deepEqual(results.filter((r) => r !== `认定结果|${expected}`), []);
});
