/**
 * Integrity: every part read is checked — CRC-32, sizes, method, encryption, duplicates — before anything from it
 * is used, so that no certificate comes from damaged data (a flipped byte once turned 王建国 into 王建图 on a
 * certificate). Every damaged file fails with one E_ROSTER naming the file and the part.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRoster } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir, writeWorkbook } from '../helpers/roster-workbook.js';
import { bookParts, inlineRow, offsetOf, patchCentralEntry, prng, readZip, rezip, writeZip } from '../helpers/ingest-zip.js';

const HEADER = ['序号', '姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '发证日期'];

async function good(dir: string): Promise<string> {
  return writeWorkbook(join(dir, 'good.xlsx'), [HEADER, [1, '王建国', '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20'], [2, '李秀英', '201', '110102199005210045', '车工', '', '三级', '合格', '2026-11-20']]);
}

/** Reads the roster to the end, keeping whatever rows were handed out before an error. */
async function readAll(file: string): Promise<{ rows: RawRow[]; err?: unknown }> {
  const rows: RawRow[] = [];
  try {
    const r = await openRoster(file);
    for await (const row of r.rows) rows.push(row);
    return { rows };
  } catch (err) {
    return { rows, err };
  }
}

function rosterError(t: { true(v: boolean, m?: string): void; is(a: unknown, b: unknown): void }, err: unknown): SkillcertError {
  t.true(err instanceof SkillcertError, String(err));
  const e = err as SkillcertError;
  t.is(e.code, 'E_ROSTER');
  return e;
}

test('one byte changed in sharedStrings.xml (王建国 → 王建图) fails its CRC check: an E_ROSTER naming the part, no row handed out', async (t) => {
  const dir = await tempDir();
  const stored = await rezip(await good(dir), join(dir, 'stored.xlsx'), { store: ['xl/sharedStrings.xml'] });
  const bytes = await readFile(stored);
  const at = offsetOf(bytes, '王建国') + 8; // 国 = E5 9B BD, 图 = E5 9B BE
  t.is(bytes[at], 0xbd);
  bytes[at] = 0xbe;
  const file = join(dir, 'crc.xlsx');
  await writeFile(file, bytes);
  const { rows, err } = await readAll(file);
  t.deepEqual(rows, []);
  t.regex(rosterError(t, err).message, /^roster crc\.xlsx is damaged: the part xl\/sharedStrings\.xml fails its CRC check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\), so what it holds cannot be trusted; do not repair the file — get a new copy of the roster from its sender$/);
  t.deepEqual((err as SkillcertError).details, { part: 'xl/sharedStrings.xml' });

  // The same text with a matching CRC is read as it stands: it is the check that caught the change.
  const sst = (await readZip(stored)).find(([n]) => n === 'xl/sharedStrings.xml')![1].toString('utf8').replace('王建国', '王建图');
  const consistent = await rezip(stored, join(dir, 'consistent.xlsx'), { replace: { 'xl/sharedStrings.xml': sst } });
  t.deepEqual((await readAll(consistent)).rows.map((r) => r.cells.name?.text), ['王建图', '李秀英']);
});

test('one byte changed in a worksheet fails its CRC check before the first row is handed out', async (t) => {
  const dir = await tempDir();
  const stored = await rezip(await good(dir), join(dir, 'stored.xlsx'), { store: ['xl/worksheets/sheet1.xml'] });
  const bytes = await readFile(stored);
  const at = offsetOf(bytes, '<c r="D3" t="s"><v>') + '<c r="D3" t="s"><v>'.length;
  bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31; // another shared string: a different ID number
  const file = join(dir, 'sheet-crc.xlsx');
  await writeFile(file, bytes);
  const { rows, err } = await readAll(file);
  t.deepEqual(rows, []);
  t.regex(rosterError(t, err).message, /^roster sheet-crc\.xlsx is damaged: the part xl\/worksheets\/sheet1\.xml fails its CRC check/);
});

test('a missing part, a part twice, an unknown compression method and an encrypted part are each an E_ROSTER naming the part', async (t) => {
  const dir = await tempDir();
  const src = await good(dir);
  const without = (part: string) => rezip(src, join(dir, `without-${part.replace(/\W/g, '_')}.xlsx`), { order: (ns) => ns.filter((n) => n !== part) });
  t.is(
    rosterError(t, (await readAll(await without('xl/worksheets/sheet1.xml'))).err).message,
    'roster without-xl_worksheets_sheet1_xml.xlsx is damaged: the part xl/worksheets/sheet1.xml is missing from the zip; get a new copy of the roster from its sender, or open it in Excel or WPS and save it as .xlsx again',
  );
  t.regex(rosterError(t, (await readAll(await without('xl/sharedStrings.xml'))).err).message, /the part xl\/sharedStrings\.xml is missing from the zip/);
  t.regex(rosterError(t, (await readAll(await without('_rels/.rels'))).err).message, /the part _rels\/\.rels is missing from the zip, so the workbook part cannot be found/);

  const parts = await readZip(src);
  const twice = await writeZip(join(dir, 'twice.xlsx'), [...parts, ['XL/SharedStrings.xml', parts.find(([n]) => n === 'xl/sharedStrings.xml')![1]]]);
  t.is(
    rosterError(t, (await readAll(twice)).err).message,
    'roster twice.xlsx is damaged: the zip holds the part XL/SharedStrings.xml twice, and which one Excel would read is a guess; get a new copy of the roster from its sender, or open it in Excel or WPS and save it as .xlsx again',
  );

  const lzma = join(dir, 'lzma.xlsx');
  await writeFile(lzma, patchCentralEntry(await readFile(src), 'xl/worksheets/sheet1.xml', { method: 14 }));
  t.is(
    rosterError(t, (await readAll(lzma)).err).message,
    'roster lzma.xlsx: the part xl/worksheets/sheet1.xml is compressed with method 14 (LZMA), which no spreadsheet program writes and this reader does not read; open the workbook in Excel or WPS and save it as .xlsx again',
  );

  const encrypted = join(dir, 'encrypted.xlsx');
  await writeFile(encrypted, patchCentralEntry(await readFile(src), 'xl/sharedStrings.xml', { flags: 0x0801 }));
  t.is(rosterError(t, (await readAll(encrypted)).err).message, 'roster encrypted.xlsx: the part xl/sharedStrings.xml is encrypted; open the workbook in Excel or WPS and save it as .xlsx without a password');
});

test('a part whose size differs from the one its entry declares, or that is not well-formed XML or not UTF-8, is an E_ROSTER naming it', async (t) => {
  const dir = await tempDir();
  const src = await good(dir);
  const sheet = (await readZip(src)).find(([n]) => n === 'xl/worksheets/sheet1.xml')![1];
  const small = join(dir, 'small.xlsx');
  await writeFile(small, patchCentralEntry(await readFile(src), 'xl/worksheets/sheet1.xml', { uncompressedSize: 100 }));
  t.is(
    rosterError(t, (await readAll(small)).err).message,
    'roster small.xlsx is damaged: the part xl/worksheets/sheet1.xml inflates to more than the 100 bytes its zip entry declares; get a new copy of the roster from its sender, or open it in Excel or WPS and save it as .xlsx again',
  );
  const big = join(dir, 'big.xlsx');
  await writeFile(big, patchCentralEntry(await readFile(src), 'xl/worksheets/sheet1.xml', { uncompressedSize: sheet.length + 1 }));
  t.regex(rosterError(t, (await readAll(big)).err).message, new RegExp(`the part xl/worksheets/sheet1\\.xml ends before the ${(sheet.length + 1).toLocaleString('en-US')} bytes its zip entry declares \\(the file is cut short or damaged\\)`));

  const cut = await rezip(src, join(dir, 'cut-xml.xlsx'), { replace: { 'xl/worksheets/sheet1.xml': sheet.subarray(0, sheet.length - 40) } });
  t.regex(rosterError(t, (await readAll(cut)).err).message, /^roster cut-xml\.xlsx is damaged: the part xl\/worksheets\/sheet1\.xml is not well-formed XML \(xl\/worksheets\/sheet1\.xml:\d+:\d+: .*\); get a new copy/);
  // Müller written in Latin-1 (FC for ü) by a tool that ignored the declared UTF-8.
  const sst = (await readZip(src)).find(([n]) => n === 'xl/sharedStrings.xml')![1].toString('utf8');
  const bad = Buffer.from(sst.replace('王建国', 'M\u00fcller'), 'latin1');
  const notUtf8 = await rezip(src, join(dir, 'not-utf8.xlsx'), { replace: { 'xl/sharedStrings.xml': bad } });
  t.regex(rosterError(t, (await readAll(notUtf8)).err).message, /^roster not-utf8\.xlsx is damaged: the part xl\/sharedStrings\.xml is not valid UTF-8 text;/);
});

test('a truncated workbook, random bytes behind a zip header, a legacy .xls and an empty file each fail with one clear E_ROSTER', async (t) => {
  const dir = await tempDir();
  const bytes = await readFile(await good(dir));
  const put = async (name: string, b: Buffer) => {
    await writeFile(join(dir, name), b);
    return rosterError(t, (await readAll(join(dir, name))).err).message;
  };
  t.is(
    await put('truncated.xlsx', bytes.subarray(0, bytes.length - 30)),
    'cannot read roster truncated.xlsx: the workbook is damaged or not an .xlsx file (End of central directory record signature not found. Either not a zip file, or file is truncated); open it in Excel or WPS, save it as .xlsx and run again',
  );
  const rnd = prng(7);
  const noise = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)))]);
  t.is(await put('noise.xlsx', noise), 'cannot read roster noise.xlsx: the workbook is damaged or not an .xlsx file (End of central directory record signature not found. Either not a zip file, or file is truncated); open it in Excel or WPS, save it as .xlsx and run again');
  t.is(
    await put('legacy.xlsx', Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)])),
    'roster legacy.xlsx is an old .xls workbook or a password-protected one; open it in Excel or WPS and save it as .xlsx without a password',
  );
  t.is(await put('empty.xlsx', Buffer.alloc(0)), 'roster empty.xlsx is empty (0 bytes); export the roster again');
});

test('a workbook part written by hand with a relationship to a missing sheet part names the sheet', async (t) => {
  const dir = await tempDir();
  const parts = bookParts([{ name: '名单', data: inlineRow(['姓名', '证件号码', '等级'], 1) + inlineRow(['王建国', '1', '三级'], 2) }]).map(([n, c]) =>
    n === 'xl/_rels/workbook.xml.rels' ? ([n, String(c).replace('Id="rId1"', 'Id="rId9"')] as const) : ([n, c] as const),
  );
  const file = await writeZip(join(dir, 'no-rel.xlsx'), parts);
  t.is(rosterError(t, (await readAll(file)).err).message, 'roster no-rel.xlsx is damaged: the part xl/_rels/workbook.xml.rels has no relationship for sheet "名单", so its rows cannot be found; get a new copy of the roster from its sender, or open it in Excel or WPS and save it as .xlsx again');
});
