/** A row as a file source produces it, before the header is known: cells by 1-based column. */
import type { RawCell } from './types.js';

export interface SourceRow {
  /** Identifies the worksheet (rows of different sheets are never mixed); '' for CSV. */
  readonly sheet: string;
  readonly rowNo: number;
  /** Index = 1-based column number; index 0 unused. */
  readonly cells: readonly (RawCell | undefined)[];
  /** The workbook counts dates from 1904 (old Mac Excel); serial numbers shift by 1462 days. */
  readonly date1904: boolean;
}
