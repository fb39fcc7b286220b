/**
 * Ruled tables that continue over as many pages as they need, the header repeated on each. Every cell's
 * text is fitted with the FontSet's measurements: shrunk, then wrapped with the row growing, so nothing
 * is ever drawn outside its cell.
 */
import { type Align, LABEL, MM_PER_PT, type PdfKit, type Script, VALUE } from './kit.js';

export interface Column {
  readonly header: string;
  /** mm */
  readonly width: number;
  readonly align?: Align;
  readonly script?: Script;
}

export interface TableRow {
  readonly cells: readonly string[];
  /** Totals rows: drawn in the label face on a light ground. */
  readonly emphasis?: boolean;
}

export interface TableOptions {
  readonly x: number;
  readonly columns: readonly Column[];
  readonly size?: number;
  readonly minSize?: number;
  /** Rows are at least this tall (mm): room for a handwritten signature on the sign-off sheet. */
  readonly minRowHeight?: number;
  /** Lowest y (mm from the top) a row may reach. */
  readonly bottom: number;
  /** Starts a page for the continuation and returns the y where the table goes on. */
  readonly newPage: () => Promise<number>;
}

const PAD_X = 1.2;
const PAD_Y = 1.2;

interface Laid {
  readonly height: number;
  readonly cells: readonly { size: number; lines: readonly string[]; lh: number }[];
}

function lay(kit: PdfKit, cells: readonly string[], opts: TableOptions, header: boolean, emphasis: boolean): Laid {
  const size = opts.size ?? 10;
  const min = opts.minSize ?? Math.min(7, size);
  const laid = opts.columns.map((c, i) => {
    const script = header || emphasis ? LABEL : (c.script ?? VALUE);
    const f = kit.fit(cells[i] ?? '', c.width - 2 * PAD_X, size, min, script);
    return { size: f.size, lines: f.lines, lh: f.size * MM_PER_PT * 1.25 };
  });
  const height = Math.max(opts.minRowHeight ?? 7, ...laid.map((c) => c.lines.length * c.lh + 2 * PAD_Y));
  return { height, cells: laid };
}

async function drawRow(kit: PdfKit, y: number, laid: Laid, opts: TableOptions, header: boolean, emphasis: boolean): Promise<void> {
  let x = opts.x;
  for (let i = 0; i < opts.columns.length; i++) {
    const c = opts.columns[i]!;
    const cell = laid.cells[i]!;
    kit.rect(x, y, c.width, laid.height, header || emphasis ? { width: 0.5, fill: header ? 0.9 : 0.96 } : { width: 0.4 });
    const script = header || emphasis ? LABEL : (c.script ?? VALUE);
    const block = cell.lines.length * cell.lh;
    let base = y + (laid.height - block) / 2 + cell.lh * 0.78;
    for (const line of cell.lines) {
      await kit.text(line, x + PAD_X, base, { size: cell.size, script, align: header ? 'center' : (c.align ?? 'left'), w: c.width - 2 * PAD_X, minSize: cell.size });
      base += cell.lh;
    }
    x += c.width;
  }
}

/** Draws the header and the rows from y; returns the y below the last row. */
export async function drawTable(kit: PdfKit, y: number, rows: Iterable<TableRow>, opts: TableOptions): Promise<number> {
  const headers = opts.columns.map((c) => c.header);
  const headLaid = lay(kit, headers, opts, true, false);
  const header = async (at: number) => {
    await drawRow(kit, at, headLaid, opts, true, false);
    return at + headLaid.height;
  };
  let yy = y;
  if (yy + headLaid.height + 7 > opts.bottom) yy = await opts.newPage();
  yy = await header(yy);
  for (const row of rows) {
    const laid = lay(kit, row.cells, opts, false, !!row.emphasis);
    if (yy + laid.height > opts.bottom) {
      yy = await header(await opts.newPage());
    }
    await drawRow(kit, yy, laid, opts, false, !!row.emphasis);
    yy += laid.height;
  }
  return yy;
}

/** Sum of column widths, for centring a table. */
export const tableWidth = (cols: readonly Column[]): number => cols.reduce((w, c) => w + c.width, 0);
