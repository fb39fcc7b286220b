/**
 * What ingest hands to validation: raw rows keyed by canonical field, plus what it learnt about the
 * header. Nothing here is validated yet; a cell keeps enough of its origin (numeric, date, error)
 * for validation to judge it — e.g. an ID number that Excel stored as a number.
 */

/** Canonical roster fields (SPEC §3). */
export type Field =
  | 'seq'
  | 'name'
  | 'gender'
  | 'idType'
  | 'idNo'
  | 'employer'
  | 'occupation'
  | 'job'
  | 'level'
  | 'result'
  | 'award'
  | 'photo'
  | 'issueDate'
  | 'competitionCategory';

export const FIELDS: readonly Field[] = [
  'seq', 'name', 'gender', 'idType', 'idNo', 'employer', 'occupation', 'job', 'level', 'result', 'award', 'photo', 'issueDate', 'competitionCategory',
];

/** The official Chinese name of each field, used when the roster has no column of its own for it. */
export const FIELD_LABELS: Readonly<Record<Field, string>> = {
  seq: '序号',
  name: '姓名',
  gender: '性别',
  idType: '证件类型',
  idNo: '证件号码',
  employer: '工作单位',
  occupation: '职业名称',
  job: '工种/职业方向',
  level: '职业技能等级',
  result: '认定结果',
  award: '奖牌类别/名次',
  photo: '照片',
  issueDate: '发证日期',
  competitionCategory: '竞赛类别',
};

/**
 * One cell as read. `text` is always present: what the user would see, best effort.
 * - `text`: a string cell (shared, inline or rich text joined).
 * - `number`: a numeric cell without a date format; `text` is the number written out in full.
 * - `date`: a numeric cell with a date format, or an Excel date; `date` is YYYY-MM-DD.
 * - `error`: an error value (#N/A …) or a formula with no saved result; never evaluated.
 * `formula` marks a value that came from a formula's cached result.
 */
export type RawCell =
  | { readonly kind: 'text'; readonly text: string; readonly formula?: true }
  | { readonly kind: 'number'; readonly text: string; readonly value: number; readonly formula?: true }
  | { readonly kind: 'date'; readonly text: string; readonly date: string; readonly formula?: true }
  | { readonly kind: 'error'; readonly text: string; readonly formula?: true };

/** The text of an error cell made from a formula that was saved without its result. */
export const FORMULA_WITHOUT_RESULT = '(formula without a saved result)';

export interface RawRow {
  /** The row number the user sees in the spreadsheet (1-based; for CSV the record number). */
  readonly rowNo: number;
  readonly cells: Partial<Record<Field, RawCell>>;
}

export interface ColumnInfo {
  /** 1-based column number. */
  readonly col: number;
  /** The header text exactly as the roster has it (trimmed). */
  readonly header: string;
}

/** The text encodings a CSV roster is read in (see csv.ts). */
export type CsvEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

export interface HeaderInfo {
  readonly file: string;
  readonly format: 'xlsx' | 'csv';
  /** Worksheet name (xlsx only): the name on the sheet's tab. */
  readonly sheet?: string;
  /** The encoding the file was read in (CSV only): UTF-8, or GB18030 (GBK) as Excel on Chinese Windows writes it. */
  readonly encoding?: CsvEncoding;
  /** Row number of the header row. */
  readonly headerRow: number;
  /** Where each recognised field is. */
  readonly columns: Partial<Record<Field, ColumnInfo>>;
  /**
   * The occupation column is the Sichuan 申报职业（工种） form that may carry the job in brackets,
   * e.g. 电工（维修电工）, and there is no job column of its own: validation splits it.
   */
  readonly occupationCarriesJob: boolean;
  /** Columns with a header that is not one of ours (kept out of the rows). */
  readonly otherColumns: readonly ColumnInfo[];
  /** First non-empty text above the header, e.g. 四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表. */
  readonly title?: string;
  /** The header block above the header row as label → value, e.g. { 大赛名称: '…', 经办人: '…' }. */
  readonly meta: Readonly<Record<string, string>>;
  /** The raw text of every non-empty row above the header, in order (cells joined by a tab). */
  readonly preamble: readonly string[];
  /** The workbook counts serial dates from 1904 (old Mac Excel). */
  readonly date1904: boolean;
}

/** The user's column header for a field, or its official name when the roster has no such column. */
export function fieldLabel(header: Pick<HeaderInfo, 'columns'>, field: Field): string {
  return header.columns[field]?.header ?? FIELD_LABELS[field];
}
