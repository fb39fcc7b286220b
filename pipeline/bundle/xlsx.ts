/**
 * One way to write a workbook for the bundle: exceljs's streaming writer (rows are flushed as they are
 * committed, so memory stays bounded for a provincial batch, SPEC §9), shared strings off (the
 * shared-string table would grow with every distinct name), a temp name in the same folder renamed at
 * the end (a reader never sees half a file), and every cell through safeCell (SPEC §3).
 */
import ExcelJS from 'exceljs';
import { safeCell } from '../core/cells.js';
import { withTempFile } from '../core/files.js';

export type Cell = string | number | null | undefined;

export interface SheetOptions {
  readonly widths: readonly number[];
  /** Rows frozen at the top (title and header rows). */
  readonly frozenRows?: number;
}

const THIN = { style: 'thin' as const };
const BOX = { top: THIN, left: THIN, bottom: THIN, right: THIN };

/** The only door to a worksheet: rows go in through safeCell, nothing else can add a cell. */
export class SafeSheet {
  private rowCount = 0;
  constructor(private readonly ws: ExcelJS.Worksheet, private readonly columns: number) {}

  /** Rows written so far (1-based number of the last row). */
  get rows(): number {
    return this.rowCount;
  }

  /** Adds a row; `merges` are 1-based column spans of this row (title rows, header-block fields). */
  row(values: readonly Cell[], style: RowStyle = 'body', merges: readonly (readonly [number, number])[] = []): number {
    const r = this.ws.addRow(values.map((v) => safeCell(v)));
    // The streaming writer refuses to touch a committed row: merge first.
    for (const [from, to] of merges) if (to > from) this.ws.mergeCells(r.number, from, r.number, to);
    this.rowCount = r.number;
    for (let c = 1; c <= Math.max(values.length, style === 'title' || style === 'note' ? 0 : this.columns); c++) {
      const cell = r.getCell(c);
      switch (style) {
        case 'title':
          cell.font = { bold: true, size: 14 };
          cell.alignment = { horizontal: 'center', vertical: 'middle' };
          break;
        case 'header':
          cell.font = { bold: true };
          cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
          cell.border = BOX;
          break;
        case 'total':
          cell.font = { bold: true };
          cell.border = BOX;
          break;
        case 'body':
          cell.border = BOX;
          cell.alignment = { vertical: 'middle', wrapText: true };
          break;
        case 'note':
          cell.alignment = { vertical: 'middle' };
          break;
      }
    }
    if (style === 'title') r.height = 28;
    r.commit();
    return r.number;
  }

}

export type RowStyle = 'title' | 'header' | 'body' | 'total' | 'note';

export interface WorkbookSpec {
  readonly file: string;
  /** The document's creation time, from the run's clock. */
  readonly now: Date;
}

/**
 * Writes a workbook with one or more sheets; `fill` adds the sheets through `addSheet` and their rows.
 * The file appears under its name only when complete.
 */
export async function writeWorkbook(
  spec: WorkbookSpec,
  fill: (addSheet: (name: string, opts: SheetOptions) => SafeSheet) => Promise<void> | void,
): Promise<string> {
  const { file, now } = spec;
  await withTempFile(file, async (tmp) => {
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: tmp, useStyles: true, useSharedStrings: false });
    wb.creator = 'skillcert';
    wb.created = now;
    wb.modified = now;
    // The streaming writer zips one sheet after the other: a sheet is committed before the next begins.
    let current: ExcelJS.Worksheet | undefined;
    await fill((name, opts) => {
      current?.commit();
      const ws = wb.addWorksheet(name, opts.frozenRows ? { views: [{ state: 'frozen', ySplit: opts.frozenRows }] } : {});
      ws.columns = opts.widths.map((width) => ({ width }));
      current = ws;
      return new SafeSheet(ws, opts.widths.length);
    });
    current?.commit();
    await wb.commit();
  });
  return file;
}
