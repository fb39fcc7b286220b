/**
 * Builders for roster files used by the ingest and validation tests: real .xlsx workbooks written
 * with exceljs (title rows, numeric IDs, date cells, formulas, rich text …) and CSV files.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';

/** A cell as the tests write it: plain values, or exceljs values (formula, rich text), or with a number format. */
export type CellInput = ExcelJS.CellValue | { readonly value: ExcelJS.CellValue; readonly numFmt: string };

export interface SheetInput {
  readonly name: string;
  readonly rows: readonly (readonly CellInput[])[];
  readonly state?: 'visible' | 'hidden';
}

function isFormatted(c: CellInput): c is { value: ExcelJS.CellValue; numFmt: string } {
  return typeof c === 'object' && c !== null && !(c instanceof Date) && 'numFmt' in c;
}

/** Writes a workbook; each sheet's rows start at row 1 (use [] for an empty row). */
export async function writeWorkbook(file: string, sheets: readonly SheetInput[] | readonly (readonly CellInput[])[]): Promise<string> {
  const list: readonly SheetInput[] = sheets.length > 0 && !Array.isArray(sheets[0]) ? (sheets as readonly SheetInput[]) : [{ name: '名单', rows: sheets as readonly (readonly CellInput[])[] }];
  const wb = new ExcelJS.Workbook();
  for (const s of list) {
    const ws = wb.addWorksheet(s.name, s.state ? { state: s.state } : {});
    s.rows.forEach((cells, r) => {
      cells.forEach((c, i) => {
        if (c === undefined) return;
        const cell = ws.getCell(r + 1, i + 1);
        if (isFormatted(c)) {
          cell.value = c.value;
          cell.numFmt = c.numFmt;
        } else {
          cell.value = c as ExcelJS.CellValue;
        }
      });
    });
  }
  await wb.xlsx.writeFile(file);
  return file;
}

/** Quotes a CSV field when it needs it. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes a UTF-8 CSV (with a BOM unless told otherwise), CRLF line ends as Excel writes them. */
export async function writeCsv(file: string, rows: readonly (readonly string[])[], opts: { bom?: boolean; eol?: string } = {}): Promise<string> {
  const body = rows.map((r) => r.map(csvField).join(',')).join(opts.eol ?? '\r\n') + (opts.eol ?? '\r\n');
  await writeFile(file, (opts.bom ?? true ? '\uFEFF' : '') + body, 'utf8');
  return file;
}

export async function tempDir(prefix = 'skillcert-roster-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** An Excel date cell for a calendar day (exceljs stores dates as UTC). */
export function excelDate(iso: string): { value: Date; numFmt: string } {
  return { value: new Date(`${iso}T00:00:00Z`), numFmt: 'yyyy-mm-dd' };
}
