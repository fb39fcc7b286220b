/**
 * The .xlsx reader: OOXML read here, from the zip's central directory (yauzl) with a SAX parser (saxes), and not
 * with exceljs. exceljs's streaming reader never checks a part's CRC (a damaged sharedStrings.xml was read as
 * 王建图 where the roster said 王建国, and a certificate issued), reads entries in zip order and so depends on the
 * order of the parts (exceljs #3064: worksheets parsed before xl/workbook.xml lose the workbook part, and sheet
 * names come out as "Sheet1"), ignores whether a sheet is hidden, cannot read the cells and rows that omit their
 * optional `r` attribute, holds a text node of any size in memory (1.43 GB for one 200 MB node), and on some
 * byte-damaged zips waits on a stream that never ends; its non-streaming reader loads the whole workbook.
 *
 * What is read, and how it is found (ECMA-376 Part 1 §12, Part 2 OPC): _rels/.rels → the officeDocument part
 * (usually xl/workbook.xml) → its rels → the worksheets, shared strings and styles; the sheet list comes from the
 * workbook in its order, with its names and states. Every part is inflated once to check its CRC-32 and sizes
 * (the fast pass) before anything parsed from it is used, and checked again as it is parsed.
 *
 * Bounds (XLSX_LIMITS; a test may lower them through `limits`):
 *   - a part inflates to at most 256 MiB, refused by its declared size before inflating and by the count while
 *     inflating; all reads of one workbook together inflate at most 1 GiB;
 *   - a part that inflates beyond 1 MiB may do so at a compression ratio of at most 200:1 (zip bombs run at ~1000:1;
 *     real sheets at 5–50:1);
 *   - at most 10,000 zip entries;
 *   - a text node, attribute or tag of at most 1 Mi characters (Excel's cell limit is 32,767), refused without being
 *     held: the characters fed to the parser since its last event are counted; a cell's text at most the same;
 *   - at most 1,048,576 rows and 16,384 columns (Excel's own limits);
 *   - at most 8 Mi shared strings of 64 Mi characters in all (the table must be in memory to read the rows);
 *   - a read that makes no progress for 30 s (`stallMs`) fails instead of waiting.
 */
import { open } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { SkillcertError } from '../core/errors.js';
import { isoDateCell, numberText, serialDateCell, withFormula } from './cells.js';
import { columnLetter } from './headers.js';
import { DEFAULT_STALL_MS } from './io.js';
import { isBuiltInDateFormat, isDateFormatCode } from './numfmt.js';
import type { SourceRow } from './source.js';
import { FORMULA_WITHOUT_RESULT, type RawCell } from './types.js';
import { prefixedAttr, XmlStream, type Attributes, type XmlHandler } from './xml.js';
import { damagedPart, overLimit, partError, ZipArchive, type ZipLimits } from './zip.js';

const MiB = 1024 * 1024;

export interface XlsxLimits extends ZipLimits {
  /** Characters of one text node, attribute or tag, and of one cell's text. */
  readonly textRun: number;
  readonly rows: number;
  readonly columns: number;
  readonly sharedStrings: number;
  /** Characters of all shared strings together. */
  readonly sharedChars: number;
}

export const XLSX_LIMITS: XlsxLimits = {
  partBytes: 256 * MiB,
  totalBytes: 1024 * MiB,
  ratio: 200,
  ratioFrom: 1 * MiB,
  entries: 10_000,
  textRun: 1 * MiB,
  rows: 1_048_576,
  columns: 16_384,
  sharedStrings: 8 * MiB,
  sharedChars: 64 * MiB,
};

/** Counts of metadata that no workbook comes near (Excel: 64,000 cell formats, ~250 number formats). */
const MAX_RELS = 100_000;
const MAX_SHEETS = 10_000;
const MAX_STYLES = 1_000_000;

export interface XlsxOptions {
  readonly limits?: Partial<XlsxLimits>;
  /** A read that makes no progress for this long fails (ms; default 30 s). */
  readonly stallMs?: number;
}

export type SheetState = 'visible' | 'hidden' | 'veryHidden';

export interface SheetInfo {
  /** The name on the sheet's tab. */
  readonly name: string;
  readonly state: SheetState;
  /** Only worksheets hold cells; chart sheets, dialog and macro sheets are listed but never read. */
  readonly kind: 'worksheet' | 'chartsheet' | 'dialogsheet' | 'macrosheet' | 'unknown';
  /** The sheet's part in the zip, as its relationship names it. */
  readonly part: string | undefined;
}

export interface XlsxWorkbook {
  /** The workbook's own sheet list, in its order (the order of the tabs). */
  readonly sheets: readonly SheetInfo[];
  /** The workbook counts serial dates from 1904 (old Mac Excel). */
  readonly date1904: boolean;
  /** The rows of a worksheet, in order, after its part has passed the fast check. Any number at once. */
  rows(sheet: SheetInfo): AsyncGenerator<SourceRow, void, undefined>;
  /** Ends the row generators still open and releases the file. */
  close(): Promise<void>;
}

/** Checks the first bytes so that a wrong file fails with a message that says what it is. */
export async function sniffXlsx(file: string): Promise<void> {
  const name = basename(file);
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      head = Buffer.alloc(8);
      const { bytesRead } = await fh.read(head, 0, 8, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new SkillcertError('E_ROSTER', `cannot open roster ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the path`, {}, { cause: err });
  }
  if (head.length === 0) throw new SkillcertError('E_ROSTER', `roster ${name} is empty (0 bytes); export the roster again`);
  if (head.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw new SkillcertError('E_ROSTER', `roster ${name} is an old .xls workbook or a password-protected one; open it in Excel or WPS and save it as .xlsx without a password`);
  }
  if (!head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw new SkillcertError('E_ROSTER', `roster ${name} is not an .xlsx workbook (it is not a zip file); save the roster as .xlsx or .csv (UTF-8)`);
  }
}

interface Rel {
  readonly id: string;
  /** The last segment of the relationship type: officeDocument, worksheet, styles … (transitional and strict alike). */
  readonly kind: string;
  /** The target part, resolved to a zip entry name. */
  readonly target: string;
}

interface Book {
  readonly name: string;
  readonly zip: ZipArchive;
  readonly limits: XlsxLimits;
  readonly date1904: boolean;
  /** Index = cell style (`s`): whether its number format shows a date. */
  readonly dateStyles: readonly boolean[];
  readonly shared: readonly string[] | undefined;
  readonly sharedPart: string | undefined;
  /** The workbook part's rels, for messages. */
  readonly relsPart: string;
}

/** Opens a workbook: reads and checks its rels, workbook part, styles and shared strings. */
export async function openXlsx(file: string, opts: XlsxOptions = {}): Promise<XlsxWorkbook> {
  await sniffXlsx(file);
  const name = basename(file);
  const limits: XlsxLimits = { ...XLSX_LIMITS, ...opts.limits };
  const stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
  const zip = await ZipArchive.open(file, name, limits, stallMs);
  const ctx = { name, zip, limits };
  let book: Book;
  let sheets: SheetInfo[];
  try {
    const root = await readRels(ctx, '_rels/.rels', '');
    if (!root) throw damagedPart(name, '_rels/.rels', 'is missing from the zip, so the workbook part cannot be found');
    const doc = root.find((r) => r.kind === 'officeDocument');
    if (!doc) throw damagedPart(name, '_rels/.rels', 'names no workbook part (no officeDocument relationship)');
    const wbPart = doc.target;
    if (/\.bin$/i.test(wbPart)) {
      throw new SkillcertError('E_ROSTER', `roster ${name} is an Excel binary workbook (.xlsb) under an .xlsx name; open it in Excel or WPS and save it as .xlsx`);
    }
    const relsPart = relsPartOf(wbPart);
    const wb = await readWorkbook(ctx, wbPart);
    const rels = await readRels(ctx, relsPart, wbPart);
    if (!rels && wb.sheets.length > 0) throw damagedPart(name, relsPart, 'is missing from the zip, so the sheets of the workbook cannot be found');
    const byId = new Map((rels ?? []).map((r) => [r.id, r]));
    sheets = wb.sheets.map((s) => {
      const rel = s.rid === undefined ? undefined : byId.get(s.rid);
      return { name: s.name, state: s.state, kind: sheetKind(rel?.kind), part: rel?.target };
    });
    const styles = rels?.find((r) => r.kind === 'styles');
    const strings = rels?.find((r) => r.kind === 'sharedStrings');
    book = {
      name,
      zip,
      limits,
      date1904: wb.date1904,
      dateStyles: styles ? await readStyles(ctx, styles.target) : [],
      shared: strings ? await readSharedStrings(ctx, strings.target) : undefined,
      sharedPart: strings?.target,
      relsPart,
    };
  } catch (err) {
    zip.close();
    throw err;
  }

  const live = new Set<AsyncGenerator<SourceRow, void, undefined>>();
  const verified = new Set<string>();
  return {
    sheets,
    date1904: book.date1904,
    rows(sheet) {
      // Kept in `live` until it ends, whichever way, so that close() can end it.
      const self: { gen?: AsyncGenerator<SourceRow, void, undefined> } = {};
      const gen = (async function* (): AsyncGenerator<SourceRow, void, undefined> {
        try {
          yield* sheetRows(book, sheet, verified);
        } finally {
          live.delete(self.gen!);
        }
      })();
      self.gen = gen;
      live.add(gen);
      return gen;
    },
    async close() {
      for (const gen of [...live]) await gen.return(undefined).catch(() => undefined);
      zip.close();
    },
  };
}

interface Ctx {
  readonly name: string;
  readonly zip: ZipArchive;
  readonly limits: XlsxLimits;
}

/** A whole part through `handler`: checked by the fast pass first, so nothing parsed from it is damaged. */
async function parseWhole(ctx: Ctx, part: string, handler: XmlHandler): Promise<void> {
  await ctx.zip.verify(part);
  const xml = new XmlStream(part, partError(ctx.name, part), ctx.limits.textRun, handler);
  for await (const chunk of ctx.zip.read(part)) xml.write(chunk);
  xml.end();
}

function tooMany(ctx: Ctx, part: string, what: string, max: number): SkillcertError {
  return new SkillcertError('E_ROSTER', `roster ${ctx.name}: the part ${part} has more than ${max.toLocaleString('en-US')} ${what}, far more than any workbook; check that this is the right file`, { part });
}

/** The rels part for a part: xl/workbook.xml → xl/_rels/workbook.xml.rels. */
function relsPartOf(part: string): string {
  const dir = posix.dirname(part);
  return `${dir === '.' ? '' : `${dir}/`}_rels/${posix.basename(part)}.rels`;
}

/**
 * A relationship's target → zip entry name: relative to the folder of the source part, or absolute from the
 * package root when it starts with "/" (OPC, ECMA-376 Part 2 §9.3). Percent-escapes are undone.
 */
function resolveTarget(source: string, target: string): string {
  let t = target.split('#')[0]!;
  try {
    t = decodeURIComponent(t);
  } catch {
    // a stray % is taken as it is
  }
  const abs = t.startsWith('/') ? t : posix.join(posix.dirname(`/${source}`), t);
  return posix.normalize(abs).replace(/^\/+/, '');
}

/** A part's relationships; undefined when the rels part does not exist. */
async function readRels(ctx: Ctx, relsPart: string, source: string): Promise<Rel[] | undefined> {
  if (!ctx.zip.has(relsPart)) return undefined;
  const rels: Rel[] = [];
  await parseWhole(ctx, relsPart, {
    open(el, a) {
      if (el !== 'Relationship' || a.TargetMode === 'External' || a.Id === undefined || a.Target === undefined) return;
      if (rels.length >= MAX_RELS) throw tooMany(ctx, relsPart, 'relationships', MAX_RELS);
      const type = a.Type ?? '';
      rels.push({ id: a.Id, kind: type.slice(type.lastIndexOf('/') + 1), target: resolveTarget(source, a.Target) });
    },
    close() {},
  });
  return rels;
}

function sheetKind(relKind: string | undefined): SheetInfo['kind'] {
  switch (relKind) {
    case 'worksheet':
      return 'worksheet';
    case 'chartsheet':
      return 'chartsheet';
    case 'dialogsheet':
      return 'dialogsheet';
    case 'xlMacrosheet':
    case 'xlIntlMacrosheet':
      return 'macrosheet';
    default:
      return 'unknown';
  }
}

/** ST_OnOff: "1", "true" and (transitional) "on" are true. */
function onOff(v: string | undefined): boolean {
  return v === '1' || v === 'true' || v === 'on';
}

async function readWorkbook(ctx: Ctx, part: string): Promise<{ date1904: boolean; sheets: { name: string; state: SheetState; rid: string | undefined }[] }> {
  let date1904 = false;
  let inSheets = false;
  const sheets: { name: string; state: SheetState; rid: string | undefined }[] = [];
  await parseWhole(ctx, part, {
    open(el, a) {
      if (el === 'workbookPr') date1904 = onOff(a.date1904);
      else if (el === 'sheets') inSheets = true;
      else if (el === 'sheet' && inSheets) {
        if (sheets.length >= MAX_SHEETS) throw tooMany(ctx, part, 'sheets', MAX_SHEETS);
        if (!a.name) throw damagedPart(ctx.name, part, `lists sheet number ${sheets.length + 1} without a name`);
        // An unknown state is taken as hidden: a sheet is read unasked only when it is known to be visible.
        const state: SheetState = a.state === undefined || a.state === 'visible' ? 'visible' : a.state === 'veryHidden' ? 'veryHidden' : 'hidden';
        sheets.push({ name: a.name, state, rid: prefixedAttr(a, 'id') });
      }
    },
    close(el) {
      if (el === 'sheets') inSheets = false;
    },
  });
  return { date1904, sheets };
}

/** cellXfs → whether each cell style shows its number as a date (built-in ids and custom numFmts codes). */
async function readStyles(ctx: Ctx, part: string): Promise<boolean[]> {
  const custom = new Map<number, string>();
  const xfs: number[] = [];
  let inNumFmts = false;
  let inCellXfs = false;
  await parseWhole(ctx, part, {
    open(el, a) {
      if (el === 'numFmts') inNumFmts = true;
      else if (el === 'cellXfs') inCellXfs = true;
      else if (el === 'numFmt' && inNumFmts) {
        if (custom.size >= MAX_STYLES) throw tooMany(ctx, part, 'number formats', MAX_STYLES);
        custom.set(Number(a.numFmtId), a.formatCode ?? '');
      } else if (el === 'xf' && inCellXfs) {
        if (xfs.length >= MAX_STYLES) throw tooMany(ctx, part, 'cell formats', MAX_STYLES);
        xfs.push(Number(a.numFmtId ?? 0));
      }
    },
    close(el) {
      if (el === 'numFmts') inNumFmts = false;
      else if (el === 'cellXfs') inCellXfs = false;
    },
  });
  return xfs.map((id) => (custom.has(id) ? isDateFormatCode(custom.get(id)!) : isBuiltInDateFormat(id)));
}

/** ST_Xstring escapes: _x000D_ is a carriage return; a literal "_x" is written _x005F_x. */
function unescapeX(s: string): string {
  return s.includes('_x') ? s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : s;
}

/** The shared-string table: <si> with <t>, or rich runs <r><t>; phonetic runs <rPh> are not part of the text. */
async function readSharedStrings(ctx: Ctx, part: string): Promise<string[]> {
  const { limits } = ctx;
  const strings: string[] = [];
  let chars = 0;
  let cur: string | undefined;
  let t = 0;
  let rPh = 0;
  await parseWhole(ctx, part, {
    open(el) {
      if (el === 'si') {
        cur = '';
        t = rPh = 0;
      } else if (cur !== undefined) {
        if (el === 't') t++;
        else if (el === 'rPh') rPh++;
      }
    },
    text(s) {
      if (cur === undefined || t === 0 || rPh > 0) return;
      cur += s;
      if (cur.length > limits.textRun) throw overLimit(ctx.name, part, `has a string of more than ${limits.textRun.toLocaleString('en-US')} characters (Excel's limit for a cell is 32,767)`);
    },
    close(el) {
      if (cur === undefined) return;
      if (el === 't') t--;
      else if (el === 'rPh') rPh--;
      else if (el === 'si') {
        if (strings.length >= limits.sharedStrings) throw tooMany(ctx, part, 'shared strings', limits.sharedStrings);
        chars += cur.length;
        if (chars > limits.sharedChars) throw tooMany(ctx, part, 'characters of shared strings', limits.sharedChars);
        strings.push(unescapeX(cur));
        cur = undefined;
      }
    },
  });
  return strings;
}

async function* sheetRows(book: Book, sheet: SheetInfo, verified: Set<string>): AsyncGenerator<SourceRow, void, undefined> {
  const { name, zip } = book;
  if (sheet.part === undefined) {
    throw damagedPart(name, book.relsPart, `has no relationship for sheet "${sheet.name}", so its rows cannot be found`);
  }
  if (sheet.kind !== 'worksheet') {
    const what = sheet.kind === 'unknown' ? 'not a worksheet' : `a ${sheet.kind.replace('sheet', ' sheet')}, not a worksheet`;
    throw new SkillcertError('E_ROSTER', `roster ${name}: sheet "${sheet.name}" is ${what}, so it has no rows to read; name the worksheet that holds the roster`, { sheet: sheet.name });
  }
  const part = sheet.part;
  if (!verified.has(part)) {
    await zip.verify(part);
    verified.add(part);
  }
  let pending: SourceRow[] = [];
  const reader = new SheetReader(book, sheet.name, part, (r) => {
    pending.push(r);
  });
  const xml = new XmlStream(part, partError(name, part), book.limits.textRun, reader);
  for await (const chunk of zip.read(part)) {
    xml.write(chunk);
    if (pending.length > 0) {
      const out = pending;
      pending = [];
      yield* out;
    }
  }
  xml.end();
  yield* pending;
}

interface CellState {
  readonly ref: string;
  readonly col: number;
  readonly t: string;
  readonly s: number;
  formula: boolean;
  v: string | undefined;
  /** The text of an inline string (<is>), when there is one. */
  inline: string | undefined;
}

/** A cell reference such as B12 → column and row (1-based). */
function parseRef(ref: string): { col: number; row: number } | undefined {
  const m = /^([A-Za-z]{1,3})([1-9]\d{0,6})$/.exec(ref);
  if (!m) return undefined;
  let col = 0;
  for (const ch of m[1]!.toUpperCase()) col = col * 26 + (ch.charCodeAt(0) - 64);
  return { col, row: Number(m[2]) };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * <sheetData> → rows. A row or cell without `r` takes the next position (ECMA-376 Part 1 §18.3.1.73 and §18.3.1.4:
 * the attribute is optional). Rows and the cells of a row come in ascending order, as Excel requires.
 */
class SheetReader implements XmlHandler {
  private inData = false;
  private prevRow = 0;
  private row: { no: number | undefined; cells: (RawCell | undefined)[]; lastCol: number } | undefined;
  private cell: CellState | undefined;
  private inV = false;
  private inIs = false;
  private t = 0;
  private rPh = 0;

  constructor(
    private readonly book: Book,
    private readonly sheet: string,
    private readonly part: string,
    private readonly emit: (r: SourceRow) => void,
  ) {}

  open(el: string, a: Attributes): void {
    if (this.cell) {
      if (el === 'v') {
        this.inV = true;
        this.cell.v ??= '';
      } else if (el === 'f') this.cell.formula = true;
      else if (el === 'is') {
        this.inIs = true;
        this.cell.inline ??= '';
      } else if (this.inIs && el === 't') this.t++;
      else if (this.inIs && el === 'rPh') this.rPh++;
    } else if (el === 'c' && this.row) this.startCell(a);
    else if (el === 'row' && this.inData) this.startRow(a);
    else if (el === 'sheetData') this.inData = true;
  }

  close(el: string): void {
    if (this.cell) {
      if (el === 'v') this.inV = false;
      else if (el === 'is') this.inIs = false;
      else if (this.inIs && el === 't') this.t--;
      else if (this.inIs && el === 'rPh') this.rPh--;
      else if (el === 'c') this.endCell();
    } else if (el === 'row' && this.row) this.endRow();
    else if (el === 'sheetData') this.inData = false;
  }

  text(s: string): void {
    const c = this.cell;
    if (!c) return;
    if (this.inV) c.v += s;
    else if (this.inIs && this.t > 0 && this.rPh === 0) c.inline += s;
    else return;
    if ((c.v?.length ?? 0) > this.book.limits.textRun || (c.inline?.length ?? 0) > this.book.limits.textRun) {
      throw overLimit(this.book.name, this.part, `(sheet "${this.sheet}"): cell ${c.ref} holds more than ${this.book.limits.textRun.toLocaleString('en-US')} characters (Excel's limit for a cell is 32,767)`);
    }
  }

  private error(what: string): SkillcertError {
    return damagedPart(this.book.name, this.part, `(sheet "${this.sheet}"): ${what}`);
  }

  private startRow(a: Attributes): void {
    let no: number | undefined;
    if (a.r !== undefined) {
      if (!/^[1-9]\d{0,7}$/.test(a.r)) throw this.error(`a row has the number "${a.r}"`);
      no = Number(a.r);
    }
    this.row = { no, cells: [], lastCol: 0 };
  }

  private startCell(a: Attributes): void {
    const row = this.row!;
    let col: number;
    let ref: string;
    if (a.r !== undefined) {
      const pos = parseRef(a.r);
      if (!pos) throw this.error(`a cell has the reference "${a.r}"`);
      // A row without `r` is numbered by its first cell that has one.
      if (row.no === undefined) row.no = pos.row;
      else if (pos.row !== row.no) throw this.error(`cell ${a.r} is inside row ${row.no}`);
      col = pos.col;
      ref = a.r.toUpperCase();
    } else {
      col = row.lastCol + 1;
      ref = `${columnLetter(col)}${row.no ?? this.prevRow + 1}`;
    }
    const { columns } = this.book.limits;
    if (col > columns) {
      throw new SkillcertError(
        'E_ROSTER',
        `roster ${this.book.name} sheet "${this.sheet}" row ${row.no ?? this.prevRow + 1} has a cell in column ${col.toLocaleString('en-US')}, past the last column ${columnLetter(columns)} (${columns.toLocaleString('en-US')}) that Excel has; no spreadsheet program writes this — check that this is the right file`,
        { sheet: this.sheet },
      );
    }
    if (col <= row.lastCol) throw this.error(`cell ${ref} comes after cell ${columnLetter(row.lastCol)}${ref.replace(/^[A-Z]+/, '')} (cells out of order or twice)`);
    row.lastCol = col;
    const s = a.s === undefined ? 0 : Number(a.s);
    this.cell = { ref, col, t: a.t ?? 'n', s: Number.isInteger(s) && s >= 0 ? s : 0, formula: false, v: undefined, inline: undefined };
    this.inV = this.inIs = false;
    this.t = this.rPh = 0;
  }

  private endCell(): void {
    const c = this.cell!;
    this.cell = undefined;
    const value = this.value(c);
    if (value !== undefined) this.row!.cells[c.col] = value;
  }

  private endRow(): void {
    const row = this.row!;
    this.row = undefined;
    const no = row.no ?? this.prevRow + 1;
    const { rows } = this.book.limits;
    if (no > rows) {
      throw new SkillcertError('E_ROSTER', `roster ${this.book.name} sheet "${this.sheet}" has a row ${no.toLocaleString('en-US')}, past the last row (${rows.toLocaleString('en-US')}) that Excel has; no spreadsheet program writes this — check that this is the right file`, { sheet: this.sheet });
    }
    if (no <= this.prevRow) throw this.error(`row ${no} comes after row ${this.prevRow} (rows out of order or twice)`);
    this.prevRow = no;
    this.emit({ sheet: this.sheet, rowNo: no, cells: row.cells, date1904: this.book.date1904 });
  }

  /** The cell's value as a RawCell; undefined for an empty cell. */
  private value(c: CellState): RawCell | undefined {
    const f = c.formula;
    if (c.t === 'inlineStr' && c.inline !== undefined) return withFormula({ kind: 'text', text: unescapeX(c.inline) }, f);
    const v = c.v;
    if (v === undefined || (v === '' && c.t !== 'str')) {
      // Never evaluate: a formula that was saved without its result cannot be read safely.
      return f ? { kind: 'error', text: FORMULA_WITHOUT_RESULT, formula: true } : undefined;
    }
    switch (c.t) {
      case 's': {
        const i = Number(v);
        const shared = this.book.shared;
        if (!shared) throw this.error(`cell ${c.ref} refers to shared string ${v}, but the workbook has no shared-string table linked from its rels`);
        const text = Number.isInteger(i) && i >= 0 ? shared[i] : undefined;
        if (text === undefined) throw this.error(`cell ${c.ref} refers to shared string ${v}, but ${this.book.sharedPart} holds ${shared.length}`);
        return withFormula({ kind: 'text', text }, f);
      }
      case 'str':
      case 'inlineStr':
        return withFormula({ kind: 'text', text: unescapeX(v) }, f);
      case 'b':
        if (v === '1' || v === 'true') return withFormula({ kind: 'text', text: 'TRUE' }, f);
        if (v === '0' || v === 'false') return withFormula({ kind: 'text', text: 'FALSE' }, f);
        throw this.error(`cell ${c.ref} is a boolean with the value "${v.slice(0, 40)}"`);
      case 'e':
        return withFormula({ kind: 'error', text: v.trim() }, f);
      case 'd':
        return isoDateCell(v, f);
      case 'n': {
        const s = v.trim();
        if (!NUMBER.test(s)) throw this.error(`cell ${c.ref} is a number with the value "${v.slice(0, 40)}"`);
        const n = Number(s);
        if (!Number.isFinite(n)) return withFormula({ kind: 'error', text: '#NUM!' }, f);
        if (this.book.dateStyles[c.s]) return serialDateCell(n, this.book.date1904, f);
        return withFormula({ kind: 'number', text: numberText(n), value: n }, f);
      }
      default:
        throw this.error(`cell ${c.ref} has the unknown type t="${c.t.slice(0, 20)}"`);
    }
  }
}
