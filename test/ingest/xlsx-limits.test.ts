/**
 * The reader's bounds (XLSX_LIMITS in pipeline/ingest/xlsx.ts): zip bombs, one huge text node, 20,000 columns,
 * rows past Excel's last. Each is refused with a clear E_ROSTER, quickly and within a bounded memory — exceljs took
 * 1.43 GB to read a 208 KB workbook with one 200 MB text node. Its own file: the memory test reads this process's
 * peak RSS, so nothing large may run beside it.
 */
import test from 'ava';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openRoster, type OpenRosterOptions } from '../../pipeline/ingest/roster.js';
import type { RawRow } from '../../pipeline/ingest/types.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir } from '../helpers/roster-workbook.js';
import { bookParts, inlineRow, sheetXml, writeBook, writeZip, type Part } from '../helpers/ingest-zip.js';

const MiB = 1024 * 1024;
const HEAD = inlineRow(['姓名', '证件号码', '等级'], 1);

async function readAll(file: string, opts: OpenRosterOptions = {}): Promise<RawRow[]> {
  const r = await openRoster(file, opts);
  const rows: RawRow[] = [];
  for await (const row of r.rows) rows.push(row);
  return rows;
}

/** A workbook whose sheet is `before`, then `mib` MiB of the letter A, then `after`: streamed, never in memory. */
async function hugeSheet(file: string, before: string, mib: number, after: string): Promise<{ file: string; size: number }> {
  const block = Buffer.alloc(MiB, 'A');
  const xml = sheetXml('\u0000').split('\u0000');
  const stream = () =>
    Readable.from(
      (function* () {
        yield Buffer.from(xml[0] + before);
        for (let i = 0; i < mib; i++) yield block;
        yield Buffer.from(after + xml[1]);
      })(),
    );
  const parts = bookParts([{ name: '名单', data: '' }]).map(([n, c]): Part => (n === 'xl/worksheets/sheet1.xml' ? [n, stream] : [n, c]));
  return { file: await writeZip(file, parts), size: Buffer.byteLength(xml[0] + before + after + xml[1]) + mib * MiB };
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

test.serial('one 200 MB text node is refused within a small memory, by its compression ratio and, past that, by its length', async (t) => {
  const { file } = await hugeSheet(join(await tempDir(), 'huge.xlsx'), `${HEAD}<row r="2"><c r="A2" t="inlineStr"><is><t>`, 200, '</t></is></c></row>');
  const byRatio = await t.throwsAsync(readAll(file), { instanceOf: SkillcertError });
  t.is(byRatio!.code, 'E_ROSTER');
  t.regex(byRatio!.message, /^roster huge\.xlsx: the part xl\/worksheets\/sheet1\.xml would inflate to 209,715,\d{3} bytes from [\d,]+ bytes, a compression ratio above 200:1 that no real workbook has; this looks like a zip bomb — check the file$/);
  // With the ratio guard out of the way the parser's own bound refuses the node after about 1 MiB of it.
  const byLength = await t.throwsAsync(readAll(file, { limits: { ratio: Infinity } }), { instanceOf: SkillcertError });
  t.is(byLength!.message, "roster huge.xlsx: the part xl/worksheets/sheet1.xml has a text or tag of more than 1,048,576 characters (Excel's own limit for a cell is 32,767), which no spreadsheet program writes; check that this is the right file");
  t.true(peakRssMiB() < 300, `peak RSS ${peakRssMiB().toFixed(0)} MiB`);
});

test.serial('a zip bomb is refused by its declared size before inflating, and a workbook past the total by its count', async (t) => {
  const dir = await tempDir();
  // 8 MiB of one letter: ~1000:1, past the ratio; with the ratio lifted, past a part limit lowered to 4 MiB.
  const { file: bomb, size } = await hugeSheet(join(dir, 'bomb.xlsx'), '<row r="1"><c r="A1" t="inlineStr"><is><t>', 8, '</t></is></c></row>');
  t.regex((await t.throwsAsync(readAll(bomb), { instanceOf: SkillcertError }))!.message, /^roster bomb\.xlsx: the part xl\/worksheets\/sheet1\.xml would inflate to 8,388,\d{3} bytes from [\d,]+ bytes, a compression ratio above 200:1/);
  t.is(
    (await t.throwsAsync(readAll(bomb, { limits: { ratio: Infinity, partBytes: 4 * MiB } }), { instanceOf: SkillcertError }))!.message,
    `roster bomb.xlsx: the part xl/worksheets/sheet1.xml would inflate to ${size.toLocaleString('en-US')} bytes, more than the 4,194,304 bytes this reader accepts for one part; a roster is far smaller — check that this is the right file (it may be a zip bomb)`,
  );
  // Every read counts towards the total, the fast check of a sheet and its parse alike.
  const rows = Array.from({ length: 300 }, (_, i) => inlineRow([`考生${i}`, `1101011985031200${String(i).padStart(2, '0')}`, '三级'], i + 2)).join('');
  const book = await writeBook(join(dir, 'total.xlsx'), [{ name: '名单', data: HEAD + rows }]);
  t.is((await readAll(book)).length, 300);
  t.is(
    (await t.throwsAsync(readAll(book, { limits: { totalBytes: 40_000 } }), { instanceOf: SkillcertError }))!.message,
    'roster total.xlsx: reading it would inflate more than 40,000 bytes in all, more than this reader accepts; a roster is far smaller — check that this is the right file (it may be a zip bomb)',
  );
});

test.serial('a row of 20,000 columns is refused at column 16,385; 16,384 columns are read', async (t) => {
  const dir = await tempDir();
  const cells = (n: number) => Array.from({ length: n }, (_, i) => `<c t="inlineStr"><is><t>v${i}</t></is></c>`).join('');
  const wide = await writeBook(join(dir, 'wide.xlsx'), [{ name: '名单', data: `${HEAD}<row r="2">${cells(20_000)}</row>` }]);
  const err = await t.throwsAsync(readAll(wide), { instanceOf: SkillcertError });
  t.is(err!.message, 'roster wide.xlsx sheet "名单" row 2 has a cell in column 16,385, past the last column XFD (16,384) that Excel has; no spreadsheet program writes this — check that this is the right file');

  const full = await writeBook(join(dir, 'full.xlsx'), [{ name: '名单', data: `${HEAD}<row r="2"><c r="A2" t="inlineStr"><is><t>王建国</t></is></c><c r="B2" t="inlineStr"><is><t>110101198503120033</t></is></c>${cells(16_382)}</row>` }]);
  const rows = await readAll(full);
  t.deepEqual(rows.map((r) => r.cells.name?.text), ['王建国']);

  const byRef = await writeBook(join(dir, 'xfe.xlsx'), [{ name: '名单', data: `${HEAD}<row r="2"><c r="XFE2"><v>1</v></c></row>` }]);
  t.regex((await t.throwsAsync(readAll(byRef)))!.message, /row 2 has a cell in column 16,385, past the last column XFD/);
});

test.serial('a row past row 1,048,576, elements nested too deep and too many shared strings are refused clearly', async (t) => {
  const dir = await tempDir();
  const far = await writeBook(join(dir, 'far.xlsx'), [{ name: '名单', data: `${HEAD}${inlineRow(['王建国', '1', '三级'], 1_048_577)}` }]);
  t.is((await t.throwsAsync(readAll(far)))!.message, 'roster far.xlsx sheet "名单" has a row 1,048,577, past the last row (1,048,576) that Excel has; no spreadsheet program writes this — check that this is the right file');
  const deep = await writeBook(join(dir, 'deep.xlsx'), [{ name: '名单', data: `${HEAD}${'<x>'.repeat(300)}${'</x>'.repeat(300)}` }]);
  t.is((await t.throwsAsync(readAll(deep)))!.message, 'roster deep.xlsx: the part xl/worksheets/sheet1.xml nests elements more than 256 deep, which no spreadsheet program writes; check that this is the right file');
  const shared = await writeBook(join(dir, 'shared.xlsx'), [{ name: '名单', data: HEAD }], { shared: ['<t>a</t>', '<t>b</t>', '<t>c</t>'] });
  t.is((await t.throwsAsync(readAll(shared, { limits: { sharedStrings: 2 } })))!.message, 'roster shared.xlsx: the part xl/sharedStrings.xml has more than 2 shared strings, far more than any workbook; check that this is the right file');
});
