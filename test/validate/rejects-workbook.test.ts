import test from 'ava';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { writeRejectsWorkbook, REJECTS_HEADER } from '../../pipeline/validate/rejects-workbook.js';
import { SkillcertError, type Problem } from '../../pipeline/core/errors.js';
import { maskId } from '../../pipeline/core/privacy.js';
import { tempDir } from '../helpers/roster-workbook.js';

const problems: Problem[] = [
  { rowNo: 14, field: '证件号码', value: maskId('110105194912310023'), rule: 'id.checkDigit', message: '证件号码 check digit is 3, expected X (GB 11643); fix the ID number in row 14' },
  { rowNo: 15, field: '姓名', value: '=HYPERLINK("http://evil.example","点我")', rule: 'name.characters', message: '姓名 in row 15 has "=" (U+003D) …' },
  { rowNo: 16, field: '工作单位', value: '@SUM(1+1)', rule: 'cell.error', message: '-- starts with a minus' },
];

async function readBack(file: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  return wb;
}

test('the rejects workbook has one line per problem: 行号, 列, 值, 规则, 原因', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'rejects.xlsx');
  const res = await writeRejectsWorkbook(file, problems);
  t.deepEqual(res, { file, problems: 3, notes: 0 });
  const ws = (await readBack(file)).getWorksheet('退回')!;
  t.deepEqual((ws.getRow(1).values as unknown[]).slice(1), [...REJECTS_HEADER]);
  t.deepEqual((ws.getRow(2).values as unknown[]).slice(1), [14, '证件号码', '1101**********0023', 'id.checkDigit', '证件号码 check digit is 3, expected X (GB 11643); fix the ID number in row 14']);
  t.is(ws.rowCount, 4);
});

test('formula-looking values are written as text behind a visible quote mark (U+2018) and never as formulas', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'rejects.xlsx');
  await writeRejectsWorkbook(file, problems);
  const ws = (await readBack(file)).getWorksheet('退回')!;
  t.is(ws.getCell('C3').value, `\u2018=HYPERLINK("http://evil.example","点我")`);
  t.is(ws.getCell('C4').value, `\u2018@SUM(1+1)`);
  t.is(ws.getCell('E4').value, `\u2018-- starts with a minus`);
  ws.eachRow((row) => row.eachCell((cell) => t.not(cell.type, ExcelJS.ValueType.Formula)));
});

test('ID numbers in the workbook are masked and no unmasked number is written', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'rejects.xlsx');
  await writeRejectsWorkbook(file, problems);
  const ws = (await readBack(file)).getWorksheet('退回')!;
  const all: string[] = [];
  ws.eachRow((row) => row.eachCell((c) => all.push(String(c.value))));
  t.false(all.join('|').includes('110105194912310023'));
});

test('the workbook is written under a temp name and renamed: nothing else is left in the folder', async (t) => {
  const dir = await tempDir();
  await writeRejectsWorkbook(join(dir, 'rejects.xlsx'), (async function* () {
    yield* problems;
  })());
  t.deepEqual(await readdir(dir), ['rejects.xlsx']);
});

test('safe corrections go to a second sheet when given', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'rejects.xlsx');
  const res = await writeRejectsWorkbook(file, [], { notes: [{ rowNo: 3, field: '发证日期', from: '2026/11/20', to: '2026-11-20', change: 'date written as YYYY-MM-DD' }] });
  t.is(res.notes, 1);
  const ns = (await readBack(file)).getWorksheet('自动更正')!;
  t.deepEqual((ns.getRow(2).values as unknown[]).slice(1), [3, '发证日期', '2026/11/20', '2026-11-20', 'date written as YYYY-MM-DD']);
});

test('a folder that cannot be written fails with E_IO and leaves no temp file', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'blocker'), 'a file where a folder should be');
  const err = await t.throwsAsync(writeRejectsWorkbook(join(dir, 'blocker', 'rejects.xlsx'), problems), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_IO');
  t.deepEqual(await readdir(dir), ['blocker']);
});
