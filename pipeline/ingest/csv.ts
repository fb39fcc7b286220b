/**
 * A small streaming CSV reader (RFC 4180 plus what Excel and WPS write): quoted fields with "" escapes and line
 * breaks inside quotes, CRLF / LF / CR line ends, comma- or tab-separated. No CSV package is a declared
 * dependency, so this is careful code rather than a guess at one. Every record is one spreadsheet row, so a
 * quoted line break does not shift row numbers.
 *
 * Encoding: "CSV" from Excel on Chinese Windows is GBK unless the user picks "CSV UTF-8", and nothing in the file
 * says which. A file is UTF-8 (with or without a BOM) when all of its bytes decode as UTF-8, otherwise GB18030
 * (of which GBK is a subset) when they decode as that; UTF-16 with a BOM is what Excel's "Unicode text" writes.
 * The decision is made by a first streaming pass over the whole file — a bounded sniff would take a GBK file
 * whose first Chinese character comes after the sniff for UTF-8 — so it is final before any row is handed out.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { SkillcertError } from '../core/errors.js';
import { DEFAULT_STALL_MS, stalled, watchedChunks } from './io.js';
import type { SourceRow } from './source.js';
import type { CsvEncoding, RawCell } from './types.js';

const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

/** Incremental parser: feed text, take whole records; `end()` flushes the last one. */
export class CsvParser {
  private state = S.FieldStart;
  private field = '';
  private record: string[] = [];
  private lastWasCR = false;
  /** Record number (1-based) of the record being read, for the unterminated-quote message. */
  private recordNo = 1;
  constructor(private readonly delimiter = ',') {}

  feed(text: string): string[][] {
    const out: string[][] = [];
    const d = this.delimiter;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (this.lastWasCR) {
        this.lastWasCR = false;
        if (ch === '\n' && this.state !== S.Quoted) continue; // CRLF is one line end
      }
      switch (this.state) {
        case S.FieldStart:
          if (ch === '"') this.state = S.Quoted;
          else if (ch === d) this.pushField();
          else if (ch === '\r' || ch === '\n') this.endRecord(out, ch);
          else {
            this.field += ch;
            this.state = S.Unquoted;
          }
          break;
        case S.Unquoted:
          if (ch === d) this.pushField();
          else if (ch === '\r' || ch === '\n') this.endRecord(out, ch);
          else this.field += ch; // a stray quote inside an unquoted field is kept, as Excel does
          break;
        case S.Quoted:
          if (ch === '"') this.state = S.QuoteInQuoted;
          else this.field += ch;
          break;
        case S.QuoteInQuoted:
          if (ch === '"') {
            this.field += '"';
            this.state = S.Quoted;
          } else if (ch === d) this.pushField();
          else if (ch === '\r' || ch === '\n') this.endRecord(out, ch);
          else {
            // "abc"def: Excel reads abcdef
            this.field += ch;
            this.state = S.Unquoted;
          }
          break;
      }
    }
    return out;
  }

  end(): string[][] {
    if (this.state === S.Quoted) {
      throw new Error(`row ${this.recordNo}: a quoted field is never closed (a " is missing)`);
    }
    if (this.state === S.FieldStart && this.field === '' && this.record.length === 0) return [];
    const out: string[][] = [];
    this.endRecord(out, '\n');
    return out;
  }

  private pushField(): void {
    this.record.push(this.field);
    this.field = '';
    this.state = S.FieldStart;
  }

  private endRecord(out: string[][], ch: string): void {
    this.pushField();
    out.push(this.record);
    this.record = [];
    this.recordNo++;
    this.lastWasCR = ch === '\r';
  }
}

function toCells(fields: readonly string[]): (RawCell | undefined)[] {
  const cells: (RawCell | undefined)[] = [];
  fields.forEach((text, i) => {
    cells[i + 1] = text === '' ? undefined : { kind: 'text', text };
  });
  return cells;
}

export interface CsvFile {
  /** The encoding the file was read in. */
  readonly encoding: CsvEncoding;
  /** Every record as a SourceRow; each call reads the file again. */
  rows(): AsyncGenerator<SourceRow, void, undefined>;
}

const SAVE_AS = 'in Excel use "Save as → CSV UTF-8", in WPS choose UTF-8 encoding, or save the roster as .xlsx';

function cannotOpen(name: string, err: unknown): SkillcertError {
  const e = err as NodeJS.ErrnoException;
  return new SkillcertError('E_ROSTER', `cannot open roster ${name}: ${e.code ?? e.message}; check the path`, {}, { cause: err });
}

/** Opens a CSV roster: decides its encoding (a pass over the whole file) and refuses what is not text. */
export async function openCsv(file: string, opts: { readonly stallMs?: number } = {}): Promise<CsvFile> {
  const name = basename(file);
  const stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
  const encoding = await detectEncoding(file, name, stallMs);
  return { encoding, rows: () => csvRows(file, name, encoding, stallMs) };
}

async function firstBytes(file: string, name: string): Promise<Buffer> {
  try {
    const fh = await open(file, 'r');
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw cannotOpen(name, err);
  }
}

async function* fileChunks(file: string, name: string, stallMs: number): AsyncGenerator<Buffer, void, undefined> {
  try {
    yield* watchedChunks(createReadStream(file), stallMs, () => stalled(name, 'the file', stallMs));
  } catch (err) {
    if (err instanceof SkillcertError) throw err;
    throw cannotOpen(name, err);
  }
}

function notText(name: string, offset: number): SkillcertError {
  return new SkillcertError(
    'E_ROSTER',
    `roster ${name} is not a text file (it has a NUL byte at offset ${offset.toLocaleString('en-US')}); a CSV roster is text — ${SAVE_AS} (UTF-16 text without a byte-order mark cannot be told from binary data)`,
  );
}

/** Whether the whole file decodes in `encoding`; NUL bytes (or NUL characters in UTF-16) refuse the file. */
async function decodesAs(file: string, name: string, stallMs: number, encoding: CsvEncoding): Promise<boolean> {
  const decoder = new TextDecoder(encoding, { fatal: true });
  const wide = encoding.startsWith('utf-16');
  let offset = 0;
  try {
    for await (const chunk of fileChunks(file, name, stallMs)) {
      const text = decoder.decode(chunk, { stream: true });
      if (wide) {
        if (text.includes('\0')) throw notText(name, offset + 2 * text.indexOf('\0'));
      } else {
        const nul = chunk.indexOf(0);
        if (nul >= 0) throw notText(name, offset + nul);
      }
      offset += chunk.length;
    }
    decoder.decode();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return false;
    throw err;
  }
}

async function detectEncoding(file: string, name: string, stallMs: number): Promise<CsvEncoding> {
  const head = await firstBytes(file, name);
  if (head.length === 0) throw new SkillcertError('E_ROSTER', `roster ${name} is empty (0 bytes); export the roster again`);
  if (head.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw new SkillcertError('E_ROSTER', `roster ${name} is a zip file, probably an .xlsx workbook named .csv; rename it to .xlsx and run again`);
  }
  if (head.equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw new SkillcertError('E_ROSTER', `roster ${name} is an old .xls workbook named .csv; open it in Excel or WPS and save it as .xlsx`);
  }
  const utf16 = head[0] === 0xff && head[1] === 0xfe ? 'utf-16le' : head[0] === 0xfe && head[1] === 0xff ? 'utf-16be' : undefined;
  if (utf16) {
    if (await decodesAs(file, name, stallMs, utf16)) return utf16;
    throw new SkillcertError('E_ROSTER', `roster ${name} starts with a UTF-16 byte-order mark but is not valid UTF-16 text; ${SAVE_AS}`);
  }
  if (await decodesAs(file, name, stallMs, 'utf-8')) return 'utf-8';
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    throw new SkillcertError('E_ROSTER', `roster ${name} starts with a UTF-8 byte-order mark but is not valid UTF-8 text (it is damaged or two encodings were mixed); ${SAVE_AS}`);
  }
  if (await decodesAs(file, name, stallMs, 'gb18030')) return 'gb18030';
  throw new SkillcertError('E_ROSTER', `roster ${name} is neither UTF-8 nor GBK/GB18030 text; ${SAVE_AS}`);
}

async function* csvRows(file: string, name: string, encoding: CsvEncoding, stallMs: number): AsyncGenerator<SourceRow, void, undefined> {
  // The UTF decoders drop their byte-order mark; GB18030's (84 31 95 33) decodes to U+FEFF and is dropped below.
  const decoder = new TextDecoder(encoding, { fatal: true });
  let parser: CsvParser | undefined;
  let rowNo = 0;
  let start = true;
  const row = (rec: string[]): SourceRow => ({ sheet: '', rowNo: ++rowNo, cells: toCells(rec), date1904: false });
  try {
    for await (const chunk of fileChunks(file, name, stallMs)) {
      let text = decoder.decode(chunk, { stream: true });
      if (start && text) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        start = false;
      }
      if (!text) continue;
      // Excel writes commas; a tab-separated export ("Unicode text") is recognised by its first line.
      parser ??= new CsvParser(/^[^\n,]*\t/.test(text) ? '\t' : ',');
      for (const rec of parser.feed(text)) yield row(rec);
    }
    const tail = decoder.decode();
    parser ??= new CsvParser(',');
    for (const rec of [...parser.feed(tail), ...parser.end()]) yield row(rec);
  } catch (err) {
    if (err instanceof SkillcertError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw new SkillcertError('E_ROSTER', `cannot read roster ${name}: it is no longer ${encoding} text after row ${rowNo} (the file changed while it was read); run again`, {}, { cause: err });
    }
    throw new SkillcertError('E_ROSTER', `cannot read roster ${name}: ${(err as Error).message}; fix the file and run again`, {}, { cause: err });
  }
}
