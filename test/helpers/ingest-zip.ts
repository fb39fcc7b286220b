/**
 * Zip and OOXML builders for the .xlsx reader's tests: workbooks written part by part with yazl (in the order a
 * given program writes them, stored or deflated, with hidden sheets, cells without `r` …), zips rewritten, bytes
 * flipped by a seeded PRNG, and the file descriptors a process holds on a file.
 */
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import yazl from 'yazl';

export type Part = readonly [name: string, content: string | Buffer | (() => Readable)];

/** Writes a zip with the parts in the order given; `store` names parts written uncompressed (or true for all). */
export async function writeZip(file: string, parts: readonly Part[], opts: { store?: readonly string[] | boolean } = {}): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of parts) {
    const compress = !(opts.store === true || (Array.isArray(opts.store) && opts.store.includes(name)));
    const options = { compress, mtime: new Date('2026-11-20T00:00:00Z') };
    if (typeof content === 'function') zip.addReadStream(content(), name, options);
    else zip.addBuffer(Buffer.from(content), name, options);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  await writeFile(file, Buffer.concat(chunks));
  return file;
}

/** The parts of a zip, in zip order. */
export async function readZip(file: string): Promise<[string, Buffer][]> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true });
  const out: [string, Buffer][] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (e: yauzl.Entry) => {
      if (e.fileName.endsWith('/')) return zip.readEntry();
      zip.openReadStream(e, (err, s) => {
        if (err) return reject(err);
        const bufs: Buffer[] = [];
        s.on('data', (b: Buffer) => bufs.push(b));
        s.on('error', reject);
        s.on('end', () => {
          out.push([e.fileName, Buffer.concat(bufs)]);
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return out;
}

/** Rewrites a zip: parts reordered by `order`, changed by `replace`, some stored. */
export async function rezip(
  src: string,
  dest: string,
  opts: { order?: (names: string[]) => string[]; replace?: Readonly<Record<string, string | Buffer>>; store?: readonly string[] | boolean } = {},
): Promise<string> {
  const parts = new Map(await readZip(src));
  const names = opts.order ? opts.order([...parts.keys()]) : [...parts.keys()];
  return writeZip(dest, names.map((n) => [n, opts.replace?.[n] ?? parts.get(n)!] as const), opts.store !== undefined ? { store: opts.store } : {});
}

/** Parts in the order exceljs writes them (workbook.xml last) or LibreOffice and openpyxl do (workbook.xml first). */
export function workbookLast(names: string[]): string[] {
  return [...names.filter((n) => n !== 'xl/workbook.xml'), 'xl/workbook.xml'];
}
export function workbookFirst(names: string[]): string[] {
  const first = ['[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels'].filter((n) => names.includes(n));
  return [...first, ...names.filter((n) => !first.includes(n))];
}

const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

export interface SheetSpec {
  readonly name: string;
  readonly state?: 'hidden' | 'veryHidden';
  /** The content of <sheetData>, written by hand. */
  readonly data: string;
}

export interface BookSpec {
  /** Raw <si> contents, e.g. '<t>姓名</t>' or '<r><t>阿依</t></r><rPh><t>アイ</t></rPh>'. */
  readonly shared?: readonly string[];
  /** Custom number formats by id, e.g. { 164: 'yyyy"年"m"月"d"日"' }. */
  readonly numFmts?: Readonly<Record<number, string>>;
  /** numFmtId of each cell style, index = `s` (style 0 should stay 0, General). */
  readonly cellXfs?: readonly number[];
  readonly date1904?: boolean;
  /** Put xl/workbook.xml first in the zip (LibreOffice, openpyxl) instead of last (exceljs). */
  readonly workbookFirst?: boolean;
  /** Parts written uncompressed. */
  readonly store?: readonly string[] | boolean;
}

/** Escapes text for XML. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A row of inline-string cells without `r` attributes (the row has none either unless `r` is given). */
export function inlineRow(texts: readonly string[], r?: number): string {
  return `<row${r ? ` r="${r}"` : ''}>${texts.map((t) => `<c t="inlineStr"><is><t>${esc(t)}</t></is></c>`).join('')}</row>`;
}

export function sheetXml(data: string): string {
  return `${DECL}<worksheet ${NS}><sheetData>${data}</sheetData></worksheet>`;
}

/** The parts of a minimal but complete workbook. */
export function bookParts(sheets: readonly SheetSpec[], spec: BookSpec = {}): Part[] {
  const sheetParts: Part[] = sheets.map((s, i) => [`xl/worksheets/sheet${i + 1}.xml`, sheetXml(s.data)]);
  const rels = [
    ...sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`),
    `<Relationship Id="rIdS" Type="${REL}/styles" Target="styles.xml"/>`,
    ...(spec.shared ? [`<Relationship Id="rIdT" Type="${REL}/sharedStrings" Target="/xl/sharedStrings.xml"/>`] : []),
  ];
  const workbook = `${DECL}<workbook ${NS}><workbookPr${spec.date1904 ? ' date1904="1"' : ''}/><sheets>${sheets
    .map((s, i) => `<sheet name="${esc(s.name)}" sheetId="${i + 1}"${s.state ? ` state="${s.state}"` : ''} r:id="rId${i + 1}"/>`)
    .join('')}</sheets></workbook>`;
  const fmts = Object.entries(spec.numFmts ?? {});
  const styles = `${DECL}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${
    fmts.length ? `<numFmts count="${fmts.length}">${fmts.map(([id, code]) => `<numFmt numFmtId="${id}" formatCode="${esc(code)}"/>`).join('')}</numFmts>` : ''
  }<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs>${(spec.cellXfs ?? [0]).map((id) => `<xf numFmtId="${id}" xfId="0" applyNumberFormat="1"/>`).join('')}</cellXfs>` +
    `<dxfs count="1"><dxf><numFmt numFmtId="14" formatCode="yyyy-mm-dd"/></dxf></dxfs></styleSheet>`;
  const meta: Part[] = [
    ['[Content_Types].xml', `${DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>`],
    ['_rels/.rels', `${DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
  ];
  const wb: Part[] = [
    ['xl/workbook.xml', workbook],
    ['xl/_rels/workbook.xml.rels', `${DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join('')}</Relationships>`],
  ];
  const rest: Part[] = [
    ['xl/styles.xml', styles],
    ...(spec.shared ? [['xl/sharedStrings.xml', `${DECL}<sst ${NS} count="${spec.shared.length}">${spec.shared.map((s) => `<si>${s}</si>`).join('')}</sst>`] as Part] : []),
  ];
  return spec.workbookFirst ? [...meta, ...wb, ...rest, ...sheetParts] : [...meta, ...sheetParts, ...rest, ...wb];
}

export async function writeBook(file: string, sheets: readonly SheetSpec[], spec: BookSpec = {}): Promise<string> {
  return writeZip(file, bookParts(sheets, spec), spec.store !== undefined ? { store: spec.store } : {});
}

/** Sets fields of a central-directory entry (e.g. a lying uncompressed size or compression method). */
export function patchCentralEntry(zip: Buffer, name: string, fields: { uncompressedSize?: number; method?: number; flags?: number }): Buffer {
  const out = Buffer.from(zip);
  const want = Buffer.from(name);
  for (let i = out.length - 46; i >= 0; i--) {
    if (out.readUInt32LE(i) !== 0x02014b50) continue;
    const n = out.readUInt16LE(i + 28);
    if (!out.subarray(i + 46, i + 46 + n).equals(want)) continue;
    if (fields.flags !== undefined) out.writeUInt16LE(fields.flags, i + 8);
    if (fields.method !== undefined) out.writeUInt16LE(fields.method, i + 10);
    if (fields.uncompressedSize !== undefined) out.writeUInt32LE(fields.uncompressedSize, i + 24);
    return out;
  }
  throw new Error(`no central directory entry ${name}`);
}

/** The offset of the stored (uncompressed) data of `text` inside a zip written with the part stored. */
export function offsetOf(zip: Buffer, text: string): number {
  const i = zip.indexOf(Buffer.from(text));
  if (i < 0) throw new Error(`${text} is not in the zip's bytes`);
  return i;
}

/** mulberry32: a small seeded PRNG, so that "random" damage is the same in every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy with `count` bytes at random offsets XORed with a random non-zero value. */
export function flipBytes(bytes: Buffer, rnd: () => number, count: number, from = 0): { bytes: Buffer; offsets: number[] } {
  const out = Buffer.from(bytes);
  const offsets: number[] = [];
  for (let k = 0; k < count; k++) {
    const at = from + Math.floor(rnd() * (out.length - from));
    out[at]! ^= 1 + Math.floor(rnd() * 255);
    offsets.push(at);
  }
  return { bytes: out, offsets };
}

/** How many file descriptors of this process are open on `file` (Linux /proc; undefined elsewhere). */
export function fdsOn(file: string): number | undefined {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return undefined;
  }
  const target = realpathSync(file);
  let n = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Waits until no descriptor is open on `file` (yauzl closes its fd asynchronously), at most `ms`. */
export async function fdsClosed(file: string, ms = 2000): Promise<number | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const n = fdsOn(file);
    if (!n || Date.now() > end) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
}
