import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvParser } from '../../pipeline/ingest/csv.js';
import { openRoster } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir, writeCsv } from '../helpers/roster-workbook.js';
import { encodeGbk } from '../helpers/ingest-gbk.js';

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

test('a GBK CSV, as Excel on Chinese Windows saves one, is read and reported as GB18030', async (t) => {
  t.deepEqual([...encodeGbk('王建国')], [0xcd, 0xf5, 0xbd, 0xa8, 0xb9, 0xfa], 'the encoder agrees with the bytes Excel writes');
  const file = join(await tempDir(), 'gbk.csv');
  await writeFile(file, encodeGbk('某评价机构合格人员名单,,\r\n姓名,证件号码,职业名称,职业技能等级\r\n王建国,110101198503120033,电工,三级\r\n李秀英,110102199005210045,"车工,数控",四级\r\n'));
  const { header, rows } = await rowsOf(file);
  t.is(header.encoding, 'gb18030');
  t.is(header.title, '某评价机构合格人员名单');
  t.deepEqual(rows.map((r) => [r.rowNo, r.cells.name?.text, r.cells.occupation?.text]), [[3, '王建国', '电工'], [4, '李秀英', '车工,数控']]);
});

test('a GBK CSV whose first Chinese character comes after 200 KB of ASCII is still read as GB18030, from its first row', async (t) => {
  const file = join(await tempDir(), 'late.csv');
  const ascii = Array.from({ length: 5000 }, (_, i) => `Zhang San ${i},1101011985031200${String(i % 100).padStart(2, '0')},dian gong,3\r\n`).join('');
  await writeFile(file, Buffer.concat([Buffer.from(`name,ID No.,occupation,level\r\n${ascii}`), encodeGbk('王建国,110101198503120033,电工,三级\r\n')]));
  t.true(ascii.length > 200_000);
  const { header, rows } = await rowsOf(file);
  t.is(header.encoding, 'gb18030');
  t.is(rows.length, 5001);
  t.is(rows[0]!.cells.name?.text, 'Zhang San 0');
  t.is(rows[5000]!.cells.name?.text, '王建国');
});

test('UTF-8 with or without a BOM is reported as UTF-8; UTF-16 with a BOM (Excel\'s "Unicode text") is read too', async (t) => {
  const rows = [['姓名', '证件号码', '等级'], ['王建国', '110101198503120033', '三级']];
  const dir = await tempDir();
  const bom = await rowsOf(await writeCsv(join(dir, 'bom.csv'), rows, { bom: true }));
  const plain = await rowsOf(await writeCsv(join(dir, 'plain.csv'), rows, { bom: false }));
  t.is(bom.header.encoding, 'utf-8');
  t.is(plain.header.encoding, 'utf-8');
  t.deepEqual(bom.rows, plain.rows);
  const text = rows.map((r) => r.join('\t')).join('\r\n') + '\r\n';
  await writeFile(join(dir, 'le.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  const le = await rowsOf(join(dir, 'le.txt'));
  t.is(le.header.encoding, 'utf-16le');
  t.deepEqual(le.rows, bom.rows);
  const be = Buffer.from(text, 'utf16le');
  be.swap16();
  await writeFile(join(dir, 'be.csv'), Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
  t.is((await rowsOf(join(dir, 'be.csv'))).header.encoding, 'utf-16be');
});

test('NUL bytes, a workbook named .csv, bytes that are neither UTF-8 nor GB18030 and an empty file each fail with one clear E_ROSTER', async (t) => {
  const dir = await tempDir();
  const put = async (name: string, bytes: Buffer) => {
    await writeFile(join(dir, name), bytes);
    const err = await t.throwsAsync(openRoster(join(dir, name)), { instanceOf: SkillcertError });
    t.is(err!.code, 'E_ROSTER');
    return err!.message;
  };
  t.is(
    await put('binary.csv', Buffer.from('姓名,证件号码\r\n王建国,1\u0000\u0001\r\n')),
    'roster binary.csv is not a text file (it has a NUL byte at offset 32); a CSV roster is text — in Excel use "Save as → CSV UTF-8", in WPS choose UTF-8 encoding, or save the roster as .xlsx (UTF-16 text without a byte-order mark cannot be told from binary data)',
  );
  t.is(await put('book.csv', Buffer.from('PK\u0003\u0004rest of a zip')), 'roster book.csv is a zip file, probably an .xlsx workbook named .csv; rename it to .xlsx and run again');
  t.is(
    await put('neither.csv', Buffer.from([0x41, 0x2c, 0x80, 0x80, 0xff, 0xfe, 0x0d, 0x0a])),
    'roster neither.csv is neither UTF-8 nor GBK/GB18030 text; in Excel use "Save as → CSV UTF-8", in WPS choose UTF-8 encoding, or save the roster as .xlsx',
  );
  t.is(await put('empty.csv', Buffer.alloc(0)), 'roster empty.csv is empty (0 bytes); export the roster again');
});

test('a CSV with a header and no data rows is an E_ROSTER; --sheet with a CSV is a usage error', async (t) => {
  const file = await writeCsv(join(await tempDir(), 'header-only.csv'), [['姓名', '证件号码', '等级'], ['', '', '']]);
  const err = await t.throwsAsync(rowsOf(file), { instanceOf: SkillcertError });
  t.is(err!.message, 'roster header-only.csv has a header row (row 1) but no data rows; put one row per person under the header and run again');
  const usage = await t.throwsAsync(openRoster(file, { sheet: '名单' }), { instanceOf: SkillcertError });
  t.is(usage!.code, 'E_USAGE');
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
