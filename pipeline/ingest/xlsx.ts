/**
 * Streaming .xlsx reader: ExcelJS.stream.xlsx.WorkbookReader, so memory stays bounded for a roster
 * of hundreds of thousands of rows (worksheets that precede the shared strings in the zip are
 * buffered to a temp file by exceljs, not to memory; the shared-string table itself is cached).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import ExcelJS from 'exceljs';
import { SkillcertError } from '../errors.js';
import { fromExcelValue } from './cells.js';
import type { SourceRow } from './source.js';

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

/**
 * exceljs's streaming reader turns each chunk of an entry's XML into a string on its own, so a character that
 * straddles two chunks comes out as two U+FFFD (exceljs issues #2063 and #2084, open): in a roster of Chinese
 * names, one row in some hundreds once the shared strings or the sheet pass 16 KB. The reader's shared strings
 * and worksheets are decoded here with a StringDecoder first, which keeps such a character whole.
 */
async function* utf8(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string, void, undefined> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

{
  const reader = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as {
    _parseSharedStrings(entry: NodeJS.ReadableStream): unknown;
    _parseWorksheet(chunks: AsyncIterable<Buffer | string>, sheetNo: number): unknown;
  };
  const parseSharedStrings = reader._parseSharedStrings;
  reader._parseSharedStrings = function (this: unknown, entry) {
    entry.setEncoding('utf8');
    return parseSharedStrings.call(this, entry);
  };
  const parseWorksheet = reader._parseWorksheet;
  reader._parseWorksheet = function (this: unknown, chunks, sheetNo) {
    return parseWorksheet.call(this, utf8(chunks), sheetNo);
  };
}

interface ReaderInternals {
  properties?: { model?: { date1904?: boolean } };
}
interface SheetInternals {
  name?: string;
  state?: string;
}

/**
 * Every row of every worksheet, in order. Errors become one E_ROSTER naming the file.
 *
 * exceljs's streaming reader has, a few times under load (a batch starting Chromium and its workers), lost the
 * workbook part of a roster it had read a moment before, failing with "Cannot read properties of undefined (reading
 * 'sheets')" before the first row. That failure, and only it, is read once more from the start: the file is the same
 * and nothing has been handed out yet.
 */
export async function* xlsxSource(file: string): AsyncGenerator<SourceRow, void, undefined> {
  for (let attempt = 1; ; attempt++) {
    let rows = 0;
    try {
      for await (const row of readXlsx(file)) {
        rows++;
        yield row;
      }
      return;
    } catch (err) {
      if (rows > 0 || attempt > 1 || !lostWorkbookPart(err)) throw err;
    }
  }
}

function lostWorkbookPart(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof TypeError && /\(reading 'sheets'\)/.test(cause.message) && /workbook-reader/.test(cause.stack ?? '');
}

async function* readXlsx(file: string): AsyncGenerator<SourceRow, void, undefined> {
  await sniffXlsx(file);
  const name = basename(file);
  const stream = createReadStream(file);
  let ioError: Error | undefined;
  stream.on('error', (err) => {
    ioError = err;
  });
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles are needed to tell a date cell from a number; hyperlinks would replace cell values.
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  let sheetNo = 0;
  try {
    for await (const ws of reader) {
      sheetNo++;
      const info = ws as unknown as SheetInternals;
      const sheet = info.name ?? `Sheet${sheetNo}`;
      const hidden = info.state === 'hidden' || info.state === 'veryHidden';
      for await (const row of ws) {
        const date1904 = Boolean((reader as unknown as ReaderInternals).properties?.model?.date1904);
        const values = row.values as unknown[];
        const cells = [];
        for (let c = 1; c < values.length; c++) cells[c] = fromExcelValue(values[c]);
        yield { sheet, hidden, rowNo: row.number, cells, date1904 };
      }
    }
    if (ioError) throw ioError;
  } catch (err) {
    if (err instanceof SkillcertError) throw err;
    const why = ioError?.message ?? (err as Error).message;
    throw new SkillcertError('E_ROSTER', `cannot read roster ${name}: the workbook is damaged or not an .xlsx file (${why}); open it in Excel or WPS, save it as .xlsx and run again`, {}, { cause: err });
  } finally {
    stream.destroy();
  }
  if (sheetNo === 0) throw new SkillcertError('E_ROSTER', `roster ${name} has no worksheet; put the roster on a worksheet and save it as .xlsx`);
}
