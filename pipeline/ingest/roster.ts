/**
 * Ingest: a roster file (.xlsx or .csv) → the detected header and an async generator of raw rows.
 * The header row is found by its names below any title rows (SPEC §3); the rows above it are kept
 * as the header block (seed 001: 大赛名称, 大赛牵头主办单位名称, 经办人, 制表日期 …).
 *
 * Which sheet of a workbook is the roster comes from the workbook's own sheet list: the visible worksheets are
 * searched, hidden ones only when named (`sheet`), and when more than one visible sheet has a header row the
 * roster stops and asks which — reading one of two rosters by guess would issue the wrong certificates.
 */
import { basename, extname } from 'node:path';
import { SkillcertError } from '../core/errors.js';
import { cellText, isBlank } from './cells.js';
import { openCsv } from './csv.js';
import { HEADER_ANCHORS, headerKey, parseHeaderBlock, recogniseHeader, type HeaderMatch } from './headers.js';
import type { SourceRow } from './source.js';
import type { CsvEncoding, Field, HeaderInfo, RawCell, RawRow } from './types.js';
import { FIELD_LABELS } from './types.js';
import { openXlsx, type SheetInfo, type XlsxLimits, type XlsxWorkbook } from './xlsx.js';

export interface OpenRosterOptions {
  /** How many rows of each sheet to search for the header row (default 30). */
  readonly headerScanRows?: number;
  /**
   * The worksheet that holds the roster, by the name on its tab (`--sheet NAME`); the only way a hidden sheet is
   * read. Without it the roster is the one visible worksheet with a header row.
   */
  readonly sheet?: string;
  /** Bounds of the .xlsx reader (default XLSX_LIMITS; tests lower them). */
  readonly limits?: Partial<XlsxLimits>;
  /** A read that makes no progress for this long fails (ms; default 30 s). */
  readonly stallMs?: number;
}

export interface OpenRoster {
  readonly header: HeaderInfo;
  /** The data rows below the header, blank rows and the notes block at the end left out. Single use. */
  readonly rows: AsyncGenerator<RawRow, void, undefined>;
  /** Releases the file when the rows are not read to the end. */
  close(): Promise<void>;
}

export type RosterFormat = 'xlsx' | 'csv';

export function rosterFormat(file: string): RosterFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.xls') {
    throw new SkillcertError('E_ROSTER', `roster ${basename(file)} is an old .xls workbook; open it in Excel or WPS and save it as .xlsx`);
  }
  throw new SkillcertError('E_ROSTER', `roster ${basename(file)}: expected a .xlsx or .csv file but received "${ext || 'no extension'}"; save the roster as .xlsx`);
}

/** The notes block under the Sichuan 申报汇总表 and similar sign-off lines end the data. */
const TRAILER = /^(备注|附注|注[:：]|说明[:：]|填表人|制表人|审核人|经办人|负责人|单位负责人)/;

function rowTexts(cells: readonly (RawCell | undefined)[]): string[] {
  const out: string[] = [];
  cells.forEach((c, i) => {
    out[i] = cellText(c);
  });
  return out;
}

type Rows = AsyncGenerator<SourceRow, void, undefined>;

interface Best {
  readonly known: number;
  readonly where: string;
  readonly names: string[];
}

interface Found {
  readonly match: HeaderMatch;
  readonly row: SourceRow;
  readonly preamble: string[];
}

/**
 * Reads a sheet's first `scan` rows for the header row. Leaves `rows` positioned just after it when found, so the
 * data rows follow from the same read.
 */
async function findHeader(rows: Rows, scan: number, where: (r: SourceRow) => string): Promise<{ found?: Found; best?: Best }> {
  const preamble: string[] = [];
  let best: Best | undefined;
  for (let scanned = 0; scanned < scan; scanned++) {
    const next = await rows.next();
    if (next.done) break;
    const r = next.value;
    const texts = rowTexts(r.cells);
    const m = recogniseHeader(texts, where(r));
    if (typeof m !== 'number') return { found: { match: m, row: r, preamble }, ...(best ? { best } : {}) };
    if (m > 0 && (!best || m > best.known)) best = { known: m, where: where(r), names: texts.map((t) => t.trim()).filter(Boolean) };
    const line = texts.filter((t) => t.trim() !== '').join('\t');
    if (line) preamble.push(line);
  }
  return best ? { best } : {};
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

/** The sheets to search: the one named, or every visible worksheet. */
function sheetsToSearch(book: XlsxWorkbook, name: string, wanted: string | undefined): SheetInfo[] {
  const all = book.sheets;
  if (wanted !== undefined) {
    const s = all.find((x) => x.name === wanted) ?? all.find((x) => x.name.toLowerCase() === wanted.toLowerCase());
    if (s) return [s];
    const list = all.map((x) => `"${x.name}"${x.state === 'visible' ? '' : ` (${x.state === 'veryHidden' ? 'very hidden' : 'hidden'})`}`).join(', ');
    throw new SkillcertError('E_ROSTER', `roster ${name} has no sheet named "${wanted}"; its sheets are ${list || 'none'} — give one of these names to --sheet`, { field: 'sheet' });
  }
  // Chart, dialog and macro sheets hold no cells; a sheet of unknown kind is tried, and fails clearly if it is broken.
  const sheets = all.filter((x) => x.kind === 'worksheet' || x.kind === 'unknown');
  if (sheets.length === 0) throw new SkillcertError('E_ROSTER', `roster ${name} has no worksheet; put the roster on a worksheet and save it as .xlsx`);
  const visible = sheets.filter((x) => x.state === 'visible');
  if (visible.length === 0) {
    throw new SkillcertError('E_ROSTER', `roster ${name} has no visible worksheet (${quoted(sheets.map((x) => x.name))} ${sheets.length === 1 ? 'is' : 'are all'} hidden); unhide the roster sheet in Excel or WPS, or name it with --sheet NAME`, { field: 'sheet' });
  }
  return visible;
}

/**
 * Opens a roster and finds its header. Throws one SkillcertError('E_ROSTER') when the file cannot be
 * read, has no recognisable header row or more than one sheet with one, before any row is handed out.
 * The rows end with an E_ROSTER when there is not a single data row under the header.
 */
export async function openRoster(file: string, opts: OpenRosterOptions = {}): Promise<OpenRoster> {
  const format = rosterFormat(file);
  const scan = opts.headerScanRows ?? 30;
  const name = basename(file);
  const stall = opts.stallMs !== undefined ? { stallMs: opts.stallMs } : {};

  let source: Rows;
  let book: XlsxWorkbook | undefined;
  let encoding: CsvEncoding | undefined;
  let found: Found | undefined;
  let best: Best | undefined;
  let searched: string;
  let hiddenNote = '';

  if (format === 'csv') {
    if (opts.sheet !== undefined) throw new SkillcertError('E_USAGE', `Expected an .xlsx roster for --sheet "${opts.sheet}" but received a CSV file (${name}), which has no sheets; leave out --sheet`);
    const csv = await openCsv(file, stall);
    encoding = csv.encoding;
    source = csv.rows();
    try {
      ({ found, best } = await findHeader(source, scan, (r) => `${name} row ${r.rowNo}`));
    } catch (err) {
      await source.return(undefined);
      throw err;
    }
    searched = 'the file';
  } else {
    book = await openXlsx(file, { ...stall, ...(opts.limits ? { limits: opts.limits } : {}) });
    const hits: { sheet: SheetInfo; rows: Rows; found: Found }[] = [];
    try {
      const sheets = sheetsToSearch(book, name, opts.sheet);
      for (const sheet of sheets) {
        const rows = book.rows(sheet);
        const result = await findHeader(rows, scan, (r) => `${name} sheet "${r.sheet}" row ${r.rowNo}`);
        if (result.found) hits.push({ sheet, rows, found: result.found });
        else await rows.return(undefined);
        if (result.best && (!best || result.best.known > best.known)) best = result.best;
      }
      if (hits.length > 1) {
        throw new SkillcertError(
          'E_ROSTER',
          `roster ${name} has a header row on ${hits.length} visible sheets: ${hits.map((h) => `"${h.sheet.name}" (row ${h.found.row.rowNo})`).join(', ')}; say which sheet is the roster with --sheet NAME (e.g. --sheet "${hits[0]!.sheet.name}"), or delete or hide the other sheets`,
          { field: 'sheet', sheets: hits.map((h) => h.sheet.name) },
        );
      }
      const hidden = book.sheets.filter((s) => s.state !== 'visible' && s.kind === 'worksheet');
      if (opts.sheet === undefined && hidden.length > 0) hiddenNote = ` Hidden sheets were not searched (${quoted(hidden.map((s) => s.name))}); name one with --sheet NAME if it is the roster.`;
      searched = opts.sheet !== undefined ? `sheet "${sheets[0]!.name}"` : 'every visible sheet';
    } catch (err) {
      for (const h of hits) await h.rows.return(undefined);
      await book.close();
      throw err;
    }
    const hit = hits[0];
    if (hit) {
      found = hit.found;
      source = hit.rows;
    } else {
      source = (async function* () {})();
    }
  }

  const release = async () => {
    await source.return(undefined);
    await book?.close();
  };

  if (!found) {
    await release();
    const wanted = HEADER_ANCHORS.map((f) => FIELD_LABELS[f]).join(' and ');
    const hint = best
      ? ` The closest was ${best.where}: ${best.names.slice(0, 12).join(', ')} — it lacks ${HEADER_ANCHORS.map((f) => FIELD_LABELS[f]).join(' or ')}.`
      : '';
    throw new SkillcertError(
      'E_ROSTER',
      `roster ${name} has no recognisable header row: looked in the first ${scan} rows of ${searched} for a row naming ${wanted} (or 身份证) and at least one more column such as 职业名称 or 职业技能等级.${hint}${hiddenNote} Add or fix the header row`,
      { field: 'header' },
    );
  }

  const { match, row: headerRow } = found;
  const block = parseHeaderBlock(found.preamble);
  const header: HeaderInfo = {
    file,
    format,
    ...(format === 'xlsx' ? { sheet: headerRow.sheet } : {}),
    ...(encoding !== undefined ? { encoding } : {}),
    headerRow: headerRow.rowNo,
    columns: match.columns,
    occupationCarriesJob: match.occupationCarriesJob,
    otherColumns: match.otherColumns,
    ...(block.title !== undefined ? { title: block.title } : {}),
    meta: block.meta,
    preamble: found.preamble,
    date1904: headerRow.date1904,
  };

  const fields = Object.entries(match.columns) as [Field, { col: number; header: string }][];
  const headerKeys = new Map(fields.map(([f, c]) => [f, headerKey(c.header)]));
  const rowsSource = source;

  async function* rows(): AsyncGenerator<RawRow, void, undefined> {
    let trailer = false;
    let handedOut = 0;
    try {
      for (;;) {
        const next = await rowsSource.next();
        if (next.done) break;
        const r = next.value;
        const cells: Partial<Record<Field, RawCell>> = {};
        let filled = 0;
        let repeatedHeader = true;
        for (const [f, c] of fields) {
          const cell = r.cells[c.col];
          if (!isBlank(cell)) {
            cells[f] = cell!;
            if (f !== 'seq') filled++;
          }
          if (repeatedHeader && headerKey(cellText(cell)) !== headerKeys.get(f)) repeatedHeader = false;
        }
        if (filled === 0) continue; // blank row, or a template row that only has its 序号
        if (repeatedHeader) continue; // the header printed again (page breaks in the template)
        const first = r.cells.find((c) => !isBlank(c));
        const idBlank = isBlank(cells.idNo);
        if (idBlank && first && TRAILER.test(cellText(first).trim())) trailer = true;
        if (trailer && idBlank) continue;
        handedOut++;
        yield { rowNo: r.rowNo, cells };
      }
    } finally {
      await release();
    }
    // Known only at the end: a header with nothing under it is a mistake, never a batch of no certificates.
    if (handedOut === 0) {
      const where = header.sheet !== undefined ? ` sheet "${header.sheet}"` : '';
      throw new SkillcertError(
        'E_ROSTER',
        `roster ${name}${where} has a header row (row ${header.headerRow}) but no data rows; put one row per person under the header${format === 'xlsx' ? ' (or name the sheet that has them with --sheet NAME)' : ''} and run again`,
        { field: 'rows' },
      );
    }
  }

  const gen = rows();
  return {
    header,
    rows: gen,
    async close() {
      await gen.return(undefined);
      await release();
    },
  };
}
