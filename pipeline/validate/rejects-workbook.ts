/**
 * The rejects workbook (SPEC §3, §7): one line per problem — 行号, 列, 值 (ID numbers masked), 规则,
 * 原因 — and, when given, a second sheet with the safe corrections that were applied. Written with the
 * streaming writer (a bad roster can have as many problems as rows) to a temp name in the same
 * folder, then renamed, so a reader never sees half a file. Every text cell goes through safeCell.
 */
import ExcelJS from 'exceljs';
import { withTempFile } from '../core/files.js';
import type { Problem } from '../core/errors.js';
import type { Note } from './issues.js';
import { safeText as safeCell } from '../core/cells.js';

export interface RejectsWorkbookOptions {
  /** Safe corrections to list on a second sheet (自动更正). */
  readonly notes?: Iterable<Note> | AsyncIterable<Note>;
}

export const REJECTS_HEADER = ['行号', '列', '值', '规则', '原因'] as const;
export const NOTES_HEADER = ['行号', '列', '原值', '更正后', '更正'] as const;

async function* each<T>(items: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* items as AsyncIterable<T>;
}

export async function writeRejectsWorkbook(
  file: string,
  problems: Iterable<Problem> | AsyncIterable<Problem>,
  opts: RejectsWorkbookOptions = {},
): Promise<{ file: string; problems: number; notes: number }> {
  let count = 0;
  let noteCount = 0;
  await withTempFile(file, async (tmp) => {
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: tmp, useStyles: true, useSharedStrings: false });
    const ws = wb.addWorksheet('退回', { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = [{ width: 8 }, { width: 16 }, { width: 28 }, { width: 20 }, { width: 100 }];
    const head = ws.addRow([...REJECTS_HEADER]);
    head.font = { bold: true };
    head.commit();
    for await (const p of each(problems)) {
      ws.addRow([p.rowNo, safeCell(p.field), safeCell(p.value ?? ''), safeCell(p.rule), safeCell(p.message)]).commit();
      count++;
    }
    ws.commit();
    if (opts.notes) {
      const ns = wb.addWorksheet('自动更正', { views: [{ state: 'frozen', ySplit: 1 }] });
      ns.columns = [{ width: 8 }, { width: 16 }, { width: 28 }, { width: 28 }, { width: 60 }];
      const nh = ns.addRow([...NOTES_HEADER]);
      nh.font = { bold: true };
      nh.commit();
      for await (const n of each(opts.notes)) {
        ns.addRow([n.rowNo, safeCell(n.field), safeCell(n.from), safeCell(n.to), safeCell(n.change)]).commit();
        noteCount++;
      }
      ns.commit();
    }
    await wb.commit();
  });
  return { file, problems: count, notes: noteCount };
}
