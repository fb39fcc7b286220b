/**
 * Ingest: a roster file (.xlsx or .csv) → the detected header and an async generator of raw rows.
 * The header row is found by its names below any title rows (SPEC §3); the rows above it are kept
 * as the header block (seed 001: 大赛名称, 大赛牵头主办单位名称, 经办人, 制表日期 …).
 */
import { basename, extname } from 'node:path';
import { SkillcertError } from '../errors.js';
import { cellText, isBlank } from './cells.js';
import { csvSource } from './csv.js';
import { HEADER_ANCHORS, headerKey, parseHeaderBlock, recogniseHeader, type HeaderMatch } from './headers.js';
import type { SourceRow } from './source.js';
import type { Field, HeaderInfo, RawCell, RawRow } from './types.js';
import { FIELD_LABELS } from './types.js';
import { xlsxSource } from './xlsx.js';

export interface OpenRosterOptions {
  /** How many rows of each sheet to search for the header row (default 30). */
  readonly headerScanRows?: number;
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

/**
 * Opens a roster and finds its header. Throws one SkillcertError('E_ROSTER') when the file cannot be
 * read or has no recognisable header row, before any row is handed out.
 */
export async function openRoster(file: string, opts: OpenRosterOptions = {}): Promise<OpenRoster> {
  const format = rosterFormat(file);
  const scan = opts.headerScanRows ?? 30;
  const source = format === 'xlsx' ? xlsxSource(file) : csvSource(file);
  const name = basename(file);

  let sheet: string | undefined;
  let scanned = 0;
  let preamble: string[] = [];
  let best: { known: number; where: string; names: string[] } | undefined;
  let found: { match: HeaderMatch; row: SourceRow; preamble: string[] } | undefined;
  let sheetCount = 0;

  try {
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      const r = next.value;
      if (r.sheet !== sheet || sheetCount === 0) {
        sheet = r.sheet;
        sheetCount++;
        scanned = 0;
        preamble = [];
      }
      if (scanned >= scan) continue; // past the search window of this sheet: read on to the next sheet
      scanned++;
      const texts = rowTexts(r.cells);
      const where = format === 'csv' ? `${name} row ${r.rowNo}` : `${name} sheet "${r.sheet}" row ${r.rowNo}`;
      const m = recogniseHeader(texts, where);
      if (typeof m !== 'number') {
        found = { match: m, row: r, preamble };
        break;
      }
      if (m > 0 && (!best || m > best.known)) {
        best = { known: m, where, names: texts.map((t) => t.trim()).filter(Boolean) };
      }
      const line = texts.filter((t) => t.trim() !== '').join('\t');
      if (line) preamble.push(line);
    }
  } catch (err) {
    await source.return(undefined);
    throw err;
  }

  if (!found) {
    await source.return(undefined);
    const wanted = HEADER_ANCHORS.map((f) => FIELD_LABELS[f]).join(' and ');
    const hint = best
      ? ` The closest was ${best.where}: ${best.names.slice(0, 12).join(', ')} — it lacks ${HEADER_ANCHORS.map((f) => FIELD_LABELS[f]).join(' or ')}.`
      : '';
    throw new SkillcertError(
      'E_ROSTER',
      `roster ${name} has no recognisable header row: looked in the first ${scan} rows of ${format === 'csv' ? 'the file' : 'every sheet'} for a row naming ${wanted} (or 身份证) and at least one more column such as 职业名称 or 职业技能等级.${hint} Add or fix the header row`,
      { field: 'header' },
    );
  }

  const { match, row: headerRow } = found;
  const block = parseHeaderBlock(found.preamble);
  const header: HeaderInfo = {
    file,
    format,
    ...(format === 'xlsx' ? { sheet: headerRow.sheet } : {}),
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

  async function* rows(): AsyncGenerator<RawRow, void, undefined> {
    let trailer = false;
    try {
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        const r = next.value;
        if (r.sheet !== headerRow.sheet) return; // only the sheet that carries the header is the roster
        const cells: Partial<Record<Field, RawCell>> = {};
        let filled = 0;
        let repeatedHeader = true;
        for (const [f, c] of fields) {
          const cell = r.cells[c.col];
          if (!isBlank(cell)) {
            cells[f] = cell!;
            if (f !== 'seq') filled++;
          }
          if (headerKey(cellText(cell)) !== headerKeys.get(f)) repeatedHeader = false;
        }
        if (filled === 0) continue; // blank row, or a template row that only has its 序号
        if (repeatedHeader) continue; // the header printed again (page breaks in the template)
        const first = r.cells.find((c) => !isBlank(c));
        const idBlank = isBlank(cells.idNo);
        if (idBlank && first && TRAILER.test(cellText(first).trim())) trailer = true;
        if (trailer && idBlank) continue;
        yield { rowNo: r.rowNo, cells };
      }
    } finally {
      await source.return(undefined);
    }
  }

  const gen = rows();
  return {
    header,
    rows: gen,
    async close() {
      await gen.return(undefined);
      await source.return(undefined);
    },
  };
}
