/**
 * The one exceljs failure xlsxSource reads again: the streaming reader losing the workbook part before the first
 * row ("reading 'sheets'"), seen a few times under load. Injected here by making the reader's worksheet parse fail
 * that way; a file by itself (own test file: the reader's prototype is patched while each test runs).
 */
import test from 'ava';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { xlsxSource } from '../../pipeline/ingest/xlsx.js';
import { SkillcertError } from '../../pipeline/errors.js';
import { tempDir, writeWorkbook } from '../helpers/roster-workbook.js';

type Parse = (this: unknown, ...args: unknown[]) => Generator<unknown>;
const proto = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as { _parseWorksheet: Parse };

/** Makes the next `failures` worksheet parses fail as exceljs does when it has no workbook model. */
function failNext(failures: number): () => void {
  const original = proto._parseWorksheet;
  let left = failures;
  proto._parseWorksheet = function (...args) {
    if (left-- > 0) {
      const model = undefined as unknown as { sheets: unknown };
      return (function* lost() {
        yield model.sheets; // TypeError: Cannot read properties of undefined (reading 'sheets')
      })();
    }
    return original.apply(this, args);
  };
  return () => {
    proto._parseWorksheet = original;
  };
}

const roster = async () => writeWorkbook(join(await tempDir(), 'r.xlsx'), [['姓名', '证件号码'], ['王芳', '1'], ['李娜', '2']]);

test.serial('a lost workbook part before the first row is read again from the start, and every row comes once', async (t) => {
  const file = await roster();
  const restore = failNext(1);
  try {
    const rows = [];
    for await (const r of xlsxSource(file)) rows.push(r.cells.slice(1).map((c) => (c as { text?: string }).text));
    t.deepEqual(rows, [['姓名', '证件号码'], ['王芳', '1'], ['李娜', '2']]);
  } finally {
    restore();
  }
});

test.serial('the same failure twice is an E_ROSTER naming the file', async (t) => {
  const file = await roster();
  const restore = failNext(2);
  try {
    const err = await t.throwsAsync(async () => {
      for await (const _ of xlsxSource(file)) void _;
    }, { instanceOf: SkillcertError });
    t.is(err!.code, 'E_ROSTER');
    t.regex(err!.message, /cannot read roster r\.xlsx: .*reading 'sheets'/);
  } finally {
    restore();
  }
});
