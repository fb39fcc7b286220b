/**
 * A small streaming CSV reader (RFC 4180 plus what Excel and WPS write): UTF-8 with or without a
 * BOM, quoted fields with "" escapes and line breaks inside quotes, CRLF / LF / CR line ends.
 * No CSV package is a declared dependency, so this is careful code rather than a guess at one.
 * Every record is one spreadsheet row, so a quoted line break does not shift row numbers.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { SkillcertError } from '../errors.js';
import type { RawCell } from './types.js';
import type { SourceRow } from './source.js';

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

/** Every record of a UTF-8 CSV file as a SourceRow. */
export async function* csvSource(file: string): AsyncGenerator<SourceRow, void, undefined> {
  const name = basename(file);
  // fatal: a GBK file (what "CSV" means in Excel on Chinese Windows) fails instead of becoming mojibake.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parser: CsvParser | undefined;
  let rowNo = 0;
  const stream = createReadStream(file);
  let any = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      any = any || chunk.length > 0;
      const text = decoder.decode(chunk, { stream: true });
      // Excel writes commas; a tab-separated export is recognised by its first line.
      parser ??= new CsvParser(/^[^\n,]*\t/.test(text) ? '\t' : ',');
      for (const rec of parser.feed(text)) yield { sheet: '', hidden: false, rowNo: ++rowNo, cells: toCells(rec), date1904: false };
    }
    const tail = decoder.decode();
    parser ??= new CsvParser(',');
    for (const rec of [...parser.feed(tail), ...parser.end()]) yield { sheet: '', hidden: false, rowNo: ++rowNo, cells: toCells(rec), date1904: false };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e instanceof TypeError && e.code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw new SkillcertError('E_ROSTER', `roster ${name} is not UTF-8 text (after row ${rowNo}); it is probably GBK — in Excel use "Save as → CSV UTF-8", in WPS choose UTF-8 encoding, or save as .xlsx`, {}, { cause: err });
    }
    if (e.code) throw new SkillcertError('E_ROSTER', `cannot open roster ${name}: ${e.code}; check the path`, {}, { cause: err });
    throw new SkillcertError('E_ROSTER', `cannot read roster ${name}: ${e.message}; fix the file and run again`, {}, { cause: err });
  } finally {
    stream.destroy();
  }
  if (!any) throw new SkillcertError('E_ROSTER', `roster ${name} is empty (0 bytes); export the roster again`);
}
