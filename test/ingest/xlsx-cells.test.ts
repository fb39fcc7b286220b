/**
 * Cells as SpreadsheetML writes them, parts written by hand (test/helpers/ingest-zip.ts): what programs other than
 * exceljs write — rows and cells without `r`, inline strings, booleans, errors, formulas with and without a saved
 * result, date formats built in and custom, the 1904 date system, phonetic runs — read into the same RawCells.
 */
import test from 'ava';
import { join } from 'node:path';
import { openRoster } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir } from '../helpers/roster-workbook.js';
import { inlineRow, writeBook, type BookSpec, type SheetSpec } from '../helpers/ingest-zip.js';

const HEADER = ['序号', '姓名', '证件号码', '职业名称', '发证日期'];

async function read(sheets: readonly SheetSpec[], spec: BookSpec = {}) {
  const file = await writeBook(join(await tempDir(), 'book.xlsx'), sheets, spec);
  const r = await openRoster(file);
  const rows: RawRow[] = [];
  for await (const row of r.rows) rows.push(row);
  return { header: r.header, rows };
}

test('rows and cells without r attributes are read by position', async (t) => {
  const data = `${inlineRow(['某评价机构合格人员名单'])}${inlineRow(HEADER)}` +
    '<row><c><v>1</v></c><c t="inlineStr"><is><t>王建国</t></is></c><c t="inlineStr"><is><t>110101198503120033</t></is></c></row>' +
    // a row with r, then again rows and cells without: each takes the next position
    '<row r="6"><c r="B6" t="inlineStr"><is><t>李秀英</t></is></c><c t="inlineStr"><is><t>110102199005210045</t></is></c></row>' +
    '<row><c r="B7" t="inlineStr"><is><t>张伟</t></is></c><c t="inlineStr"><is><t>110105198001010011</t></is></c><c/><c t="inlineStr"><is><t>2026-11-20</t></is></c></row>';
  const { header, rows } = await read([{ name: '名单', data }]);
  t.is(header.headerRow, 2);
  t.is(header.title, '某评价机构合格人员名单');
  t.deepEqual(header.columns.idNo, { col: 3, header: '证件号码' });
  t.deepEqual(rows.map((r) => [r.rowNo, r.cells.seq?.text, r.cells.name?.text, r.cells.idNo?.text, r.cells.issueDate?.text]), [
    [3, '1', '王建国', '110101198503120033', undefined],
    [6, undefined, '李秀英', '110102199005210045', undefined],
    [7, undefined, '张伟', '110105198001010011', '2026-11-20'],
  ]);
});

test('inline strings, booleans, error cells and formulas with and without a cached value keep their kind', async (t) => {
  const data = `${inlineRow(['姓名', '证件号码', '职业名称', '认定结果', '照片', '工作单位', '性别'], 1)}<row r="2">` +
    '<c r="A2" t="inlineStr"><is><r><t>阿依古丽</t></r><r><rPr><b/></rPr><t>·买买提</t></r></is></c>' +
    '<c r="B2" t="str"><f>CONCATENATE("1101","01198503120033")</f><v>110101198503120033</v></c>' +
    '<c r="C2" t="b"><v>1</v></c>' +
    '<c r="D2" t="e"><v>#N/A</v></c>' +
    '<c r="E2" t="e"><f>VLOOKUP(A2,照片!A:B,2,0)</f><v>#REF!</v></c>' +
    '<c r="F2"><f>SUM(1,2)</f></c>' +
    '<c r="G2" t="b"><f>TRUE()</f><v>0</v></c>' +
    '</row><row r="3"><c r="A3" t="inlineStr"><is><t>王建国</t></is></c><c r="B3"><f t="shared" si="0"/><v>110101198503120000</v></c>' +
    '<c r="C3" t="str"><f>""</f><v></v></c><c r="D3"><v></v></c></row>';
  const { rows } = await read([{ name: 'Sheet1', data }]);
  const [a, b] = rows;
  t.deepEqual(a!.cells.name, { kind: 'text', text: '阿依古丽·买买提' });
  t.deepEqual(a!.cells.idNo, { kind: 'text', text: '110101198503120033', formula: true });
  t.deepEqual(a!.cells.occupation, { kind: 'text', text: 'TRUE' });
  t.deepEqual(a!.cells.result, { kind: 'error', text: '#N/A' });
  t.deepEqual(a!.cells.photo, { kind: 'error', text: '#REF!', formula: true });
  t.deepEqual(a!.cells.employer, { kind: 'error', text: '(formula without a saved result)', formula: true });
  t.deepEqual(a!.cells.gender, { kind: 'text', text: 'FALSE', formula: true });
  t.deepEqual(b!.cells.idNo, { kind: 'number', text: '110101198503120000', value: 110101198503120000, formula: true });
  t.is(b!.cells.occupation, undefined, 'a formula whose saved result is "" is a blank cell');
  t.is(b!.cells.result, undefined, 'an empty <v> is an empty cell');
});

test('phonetic runs are not part of the text, in shared and inline strings; _x000D_ escapes are undone', async (t) => {
  const shared = ['<t>姓名</t>', '<t>证件号码</t>', '<t>等级</t>', '<r><t>东海林</t></r><rPh sb="0" eb="3"><t>ショウジ</t></rPh><phoneticPr fontId="1"/>', '<t>北京_x000D_\n分公司_x005F_x0041_</t>'];
  const data = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="inlineStr"><is><t>工作单位</t></is></c></row>' +
    '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="inlineStr"><is><t>110101198503120033</t><rPh sb="0" eb="1"><t>x</t></rPh></is></c><c r="C2"><v>3</v></c><c r="D2" t="s"><v>4</v></c></row>';
  const { rows } = await read([{ name: '名单', data }], { shared });
  t.deepEqual(rows[0]!.cells.name, { kind: 'text', text: '东海林' });
  t.deepEqual(rows[0]!.cells.idNo, { kind: 'text', text: '110101198503120033' });
  t.deepEqual(rows[0]!.cells.employer, { kind: 'text', text: '北京\r\n分公司_x0041_' });
});

test('a number with a built-in or custom date format is a date, other numbers stay numbers', async (t) => {
  // styles: 0 General, 1 built-in 14 (m/d/yyyy), 2 custom 年月日, 3 custom with a time, 4 a quoted "d" that is no date,
  // 5 built-in 31 (yyyy"年"m"月"d"日" in Chinese Excel), 6 [Red] and 0.00 only
  const spec: BookSpec = {
    numFmts: { 164: 'yyyy"年"m"月"d"日"', 165: 'yyyy-mm-dd hh:mm:ss', 166: '0 "days"', 167: '[Red]0.00;\\-0.00' },
    cellXfs: [0, 14, 164, 165, 166, 31, 167],
  };
  const data = `${inlineRow(['姓名', '证件号码', '发证日期', '序号', '等级', '工作单位', '职业名称', '照片'], 1)}<row r="2">` +
    '<c r="A2" t="inlineStr"><is><t>王建国</t></is></c><c r="B2"><v>110101198503120033</v></c>' +
    '<c r="C2" s="1"><v>46346</v></c><c r="D2" s="2"><v>46346</v></c><c r="E2" s="3"><v>46346.4375</v></c>' +
    '<c r="F2" s="4"><v>46346</v></c><c r="G2" s="5"><f>DATE(2026,11,20)</f><v>46346</v></c><c r="H2" s="6"><v>3.5</v></c></row>';
  const { rows } = await read([{ name: '名单', data }], spec);
  const c = rows[0]!.cells;
  t.deepEqual(c.idNo, { kind: 'number', text: '110101198503120030', value: 110101198503120033 });
  t.deepEqual(c.issueDate, { kind: 'date', text: '2026-11-20', date: '2026-11-20' });
  t.deepEqual(c.seq, { kind: 'date', text: '2026-11-20', date: '2026-11-20' });
  t.deepEqual(c.level, { kind: 'date', text: '2026-11-20 10:30:00', date: '2026-11-20' });
  t.deepEqual(c.employer, { kind: 'number', text: '46346', value: 46346 });
  t.deepEqual(c.occupation, { kind: 'date', text: '2026-11-20', date: '2026-11-20', formula: true });
  t.deepEqual(c.photo, { kind: 'number', text: '3.5', value: 3.5 });
});

test('the 1904 date system and the 1900 leap-year bug are taken into account; t="d" cells are read as written', async (t) => {
  const data = `${inlineRow(['姓名', '证件号码', '发证日期', '序号', '等级', '工作单位', '职业名称'], 1)}<row r="2">` +
    '<c r="A2" t="inlineStr"><is><t>王建国</t></is></c><c r="B2" t="inlineStr"><is><t>1</t></is></c>' +
    '<c r="C2" s="1"><v>59</v></c><c r="D2" s="1"><v>60</v></c><c r="E2" s="1"><v>61</v></c><c r="F2" s="1"><v>0.5</v></c>' +
    '<c r="G2" t="d"><v>2026-11-20T00:00:00Z</v></c></row>';
  const in1900 = await read([{ name: '名单', data }], { cellXfs: [0, 14] });
  const c = in1900.rows[0]!.cells;
  t.is(c.issueDate?.text, '1900-02-28');
  t.deepEqual(c.seq, { kind: 'error', text: '1900-02-29' }, 'Excel\'s 29 February 1900 never was');
  t.is(c.level?.text, '1900-03-01');
  t.deepEqual(c.employer, { kind: 'date', text: '12:00:00', date: '1899-12-31' }, 'a time of day alone');
  t.deepEqual(c.occupation, { kind: 'date', text: '2026-11-20', date: '2026-11-20' });
  t.false(in1900.header.date1904);

  const mac = `${inlineRow(['姓名', '证件号码', '发证日期', '序号'], 1)}<row r="2"><c r="A2" t="inlineStr"><is><t>王建国</t></is></c><c r="B2" t="inlineStr"><is><t>1</t></is></c><c r="C2" s="1"><v>44884</v></c><c r="D2" s="1"><v>0</v></c></row>`;
  const in1904 = await read([{ name: '名单', data: mac }], { cellXfs: [0, 14], date1904: true });
  t.true(in1904.header.date1904);
  t.deepEqual(in1904.rows[0]!.cells.issueDate, { kind: 'date', text: '2026-11-20', date: '2026-11-20' });
  t.is(in1904.rows[0]!.cells.seq?.text, '1904-01-01');
});

test('a header row with no data rows under it is an E_ROSTER, not a batch of no certificates', async (t) => {
  const data = `${inlineRow(['某评价机构合格人员名单'], 1)}${inlineRow(['序号', '姓名', '证件号码', '等级'], 3)}<row r="4"><c r="A4"><v>1</v></c></row>${inlineRow(['备注：无'], 6)}`;
  const err = await t.throwsAsync(async () => {
    const { rows } = await read([{ name: '名单', data }]);
    void rows;
  }, { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.is(err!.message, 'roster book.xlsx sheet "名单" has a header row (row 3) but no data rows; put one row per person under the header (or name the sheet that has them with --sheet NAME) and run again');
});

test('a cell that refers to a shared string the table does not have is an E_ROSTER naming the cell', async (t) => {
  const data = `${inlineRow(['姓名', '证件号码', '等级'], 1)}<row r="2"><c r="A2" t="s"><v>7</v></c></row>`;
  const err = await t.throwsAsync(read([{ name: '名单', data }], { shared: ['<t>x</t>'] }), { instanceOf: SkillcertError });
  t.regex(err!.message, /^roster book\.xlsx is damaged: the part xl\/worksheets\/sheet1\.xml \(sheet "名单"\): cell A2 refers to shared string 7, but xl\/sharedStrings\.xml holds 1;/);
});

test('cells out of order and a number cell with text in it are E_ROSTER errors naming the cell', async (t) => {
  const twice = `${inlineRow(['姓名', '证件号码', '等级'], 1)}<row r="2"><c r="B2"><v>1</v></c><c r="A2"><v>2</v></c></row>`;
  t.regex((await t.throwsAsync(read([{ name: '名单', data: twice }])))!.message, /cell A2 comes after cell B2 \(cells out of order or twice\)/);
  const word = `${inlineRow(['姓名', '证件号码', '等级'], 1)}<row r="2"><c r="A2"><v>0x1A</v></c></row>`;
  t.regex((await t.throwsAsync(read([{ name: '名单', data: word }])))!.message, /cell A2 is a number with the value "0x1A"/);
});
