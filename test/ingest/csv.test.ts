import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvParser } from '../../pipeline/ingest/csv.js';
import { openRoster } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { SkillcertError } from '../../pipeline/errors.js';
import { tempDir, writeCsv } from '../helpers/roster-workbook.js';

function parseAll(text: string, chunk = text.length): string[][] {
  const p = new CsvParser();
  const out: string[][] = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...p.feed(text.slice(i, i + chunk)));
  out.push(...p.end());
  return out;
}

test('quoted fields, doubled quotes, commas and line breaks inside quotes are parsed as Excel writes them', (t) => {
  const text = 'a,"b,c","say ""hi""","two\r\nlines"\r\n1,,3,\r\n';
  t.deepEqual(parseAll(text), [
    ['a', 'b,c', 'say "hi"', 'two\r\nlines'],
    ['1', '', '3', ''],
  ]);
});

test('CRLF, LF and CR line ends all end a record; a last line without a line end is kept', (t) => {
  t.deepEqual(parseAll('a,b\r\nc,d\ne,f\rg,h'), [['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', 'h']]);
});

test('feeding the text one character at a time gives the same records (chunk boundaries are safe)', (t) => {
  const text = '姓名,"工作单位"\r\n"阿依古丽·买买提","北京, ""新疆""大厦"\r\n\r\n𠮷,x\r\n';
  t.deepEqual(parseAll(text, 1), parseAll(text));
  t.deepEqual(parseAll(text), [['姓名', '工作单位'], ['阿依古丽·买买提', '北京, "新疆"大厦'], [''], ['𠮷', 'x']]);
});

test('an unterminated quote is an error naming the record', (t) => {
  t.throws(() => parseAll('a,b\r\n"open,c\r\n'), { message: /row 2: a quoted field is never closed/ });
});

async function rowsOf(file: string) {
  const r = await openRoster(file);
  const rows: RawRow[] = [];
  for await (const row of r.rows) rows.push(row);
  return { header: r.header, rows };
}

test('a UTF-8 CSV with a BOM is read with its header below a title line; every cell is text', async (t) => {
  const file = await writeCsv(join(await tempDir(), 'roster.csv'), [
    ['某评价机构合格人员名单', '', ''],
    ['姓名', '证件号码', '职业名称', '职业技能等级', '认定结果', '发证日期'],
    ['王建国', '110101198503120033', '电工', '三级', '合格', '2026/11/20'],
    ['"引号"先生', '1.10101E+17', '电工, 维修', '3', '合格', '2026年11月20日'],
  ]);
  const { header, rows } = await rowsOf(file);
  t.is(header.format, 'csv');
  t.is(header.headerRow, 2);
  t.is(header.title, '某评价机构合格人员名单');
  t.deepEqual(header.columns.name, { col: 1, header: '姓名' });
  t.deepEqual(rows.map((r) => r.rowNo), [3, 4]);
  t.deepEqual(rows[1]!.cells, {
    name: { kind: 'text', text: '"引号"先生' },
    idNo: { kind: 'text', text: '1.10101E+17' },
    occupation: { kind: 'text', text: '电工, 维修' },
    level: { kind: 'text', text: '3' },
    result: { kind: 'text', text: '合格' },
    issueDate: { kind: 'text', text: '2026年11月20日' },
  });
});

test('a CSV without a BOM and with LF line ends reads the same', async (t) => {
  const rows = [['姓名', '证件号码', '等级'], ['王建国', '110101198503120033', '三级']];
  const a = await rowsOf(await writeCsv(join(await tempDir(), 'a.csv'), rows, { bom: true }));
  const b = await rowsOf(await writeCsv(join(await tempDir(), 'b.csv'), rows, { bom: false, eol: '\n' }));
  t.deepEqual(a.rows, b.rows);
  t.deepEqual(a.header.columns, b.header.columns);
});

test('a tab-separated export is recognised by its first line', async (t) => {
  const file = join(await tempDir(), 'roster.csv');
  await writeFile(file, '姓名\t证件号码\t等级\n王建国\t110101198503120033\t三级\n');
  const { rows } = await rowsOf(file);
  t.is(rows[0]!.cells.idNo?.text, '110101198503120033');
});

test('a GBK CSV fails with one E_ROSTER saying how to save it as UTF-8', async (t) => {
  const file = join(await tempDir(), 'gbk.csv');
  // "姓名,证件号码" in GBK
  await writeFile(file, Buffer.from([0xd0, 0xd5, 0xc3, 0xfb, 0x2c, 0xd6, 0xa4, 0xbc, 0xfe, 0xba, 0xc5, 0xc2, 0xeb, 0x0d, 0x0a]));
  const err = await t.throwsAsync(openRoster(file), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.regex(err!.message, /not UTF-8 text .* probably GBK — in Excel use "Save as → CSV UTF-8"/);
});

test('an unterminated quote in a CSV roster fails with one E_ROSTER', async (t) => {
  const file = join(await tempDir(), 'broken.csv');
  await writeFile(file, '姓名,证件号码,等级\r\n"王建国,110101198503120033,三级\r\n');
  const err = await t.throwsAsync(async () => {
    const r = await openRoster(file);
    for await (const row of r.rows) void row;
  }, { instanceOf: SkillcertError });
  t.regex(err!.message, /cannot read roster broken.csv: row 2: a quoted field is never closed/);
});
