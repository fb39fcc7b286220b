import test from 'ava';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { isDangerous, NEUTRALISER, safeCell } from '../../pipeline/core/cells.js';
import { writeWorkbook } from '../../pipeline/bundle/xlsx.js';
import { cleanup, HOSTILE, NOW, readSheet, sheetXml, tmp } from './helpers.js';

test.after.always(cleanup);

test('values starting with = + - @ get a visible quote in front', (t) => {
  for (const v of HOSTILE) t.is(safeCell(v), NEUTRALISER + v);
  t.is(NEUTRALISER, '\u2018');
});

test('tab, CR, LF, leading blanks and full-width ＝＋－＠ are neutralised too', (t) => {
  for (const v of ['\t=1+1', '\r=1+1', '\n@x', '  =1+1', '\u3000-2', '＝SUM(A1)', '＋1', '－2', '＠x', '\tplain']) {
    t.true(isDangerous(v), JSON.stringify(v));
    t.is(safeCell(v), NEUTRALISER + v);
  }
});

test('ordinary text, Chinese, numbers and empty cells pass unchanged', (t) => {
  t.is(safeCell('王芳'), '王芳');
  t.is(safeCell('S000011084012263000001'), 'S000011084012263000001');
  t.is(safeCell('11010519491231002X'), '11010519491231002X');
  t.is(safeCell('a-b=c'), 'a-b=c');
  t.is(safeCell(3), 3);
  t.is(safeCell(-2), -2, 'a number is a number, it cannot be a formula');
  t.is(safeCell(null), null);
  t.is(safeCell(undefined), null);
  t.throws(() => safeCell(Number.NaN), { instanceOf: RangeError });
});

test('an exceljs formula object is flattened to text, never written as a formula', (t) => {
  const v = safeCell({ formula: 'HYPERLINK("x")' });
  t.is(typeof v, 'string');
  t.false(String(v).startsWith('='));
});

test('hostile values read back by exceljs as strings, with no formula in the sheet XML', async (t) => {
  const file = join(tmp(), 'hostile.xlsx');
  const values = [...HOSTILE, '\t=1', ' =1', '＝1'];
  await writeWorkbook({ file, now: NOW }, (add) => {
    const ws = add('x', { widths: values.map(() => 12) });
    ws.row(values);
  });
  const { rows, ws } = await readSheet(file);
  t.deepEqual(rows[0], values.map((v) => NEUTRALISER + v));
  ws.getRow(1).eachCell((cell) => {
    t.is(cell.type, ExcelJS.ValueType.String);
    t.falsy(cell.formula);
  });
  const xml = await sheetXml(file);
  t.false(/<f[ >]/.test(xml), 'no <f> element in the worksheet');
  t.true(xml.includes(`${NEUTRALISER}=HYPERLINK(&quot;x&quot;)`) || xml.includes(`${NEUTRALISER}=HYPERLINK("x")`));
});

test('a workbook appears under its name only when complete (no temp file is left)', async (t) => {
  const dir = tmp();
  const file = join(dir, 'a.xlsx');
  await writeWorkbook({ file, now: NOW }, (add) => { add('x', { widths: [10] }).row(['ok']); });
  const { readdirSync } = await import('node:fs');
  t.deepEqual(readdirSync(dir), ['a.xlsx']);
  await t.throwsAsync(
    writeWorkbook({ file: join(dir, 'b.xlsx'), now: NOW }, () => { throw new Error('boom'); }),
    { message: /boom/ },
  );
  t.deepEqual(readdirSync(dir), ['a.xlsx'], 'the failed workbook left neither a file nor a temp file');
});
