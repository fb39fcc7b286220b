/**
 * A small drawing kit for the bundle's A4 forms (receipts, sign-off sheet, filing material): positions in
 * mm from the page's top-left corner (text y = baseline, as in the parameter sheets), the FontSet's faces
 * (kai / fangsong / times) subset-embedded through the render stage's fontkit adapter, and text that is
 * measured with the same faces that draw it, so it shrinks or wraps before it could leave its box.
 */
import { createHash } from 'node:crypto';
import { flate } from '../../render/pdf-native.js';
import { type PDFEmbeddedPage, PDFDocument, type PDFFont, type PDFImage, type PDFPage, PDFRawStream } from '../../pdf/lib.js';
import { type Face, type FontSet, isCjk, type Role, widthMm } from '../../fonts/index.js';
import { fontkitAdapter, rememberFace } from '../../render/pdf-fonts.js';
import { tokenize } from '../../render/layout.js';
import { pdfNumber } from '../../render/overlay.js';

export const PT_PER_MM = 72 / 25.4;
export const MM_PER_PT = 25.4 / 72;
export const A4 = { width: 210, height: 297 } as const;

/** Which role draws Chinese and which draws Latin letters and digits. */
export interface Script {
  readonly cjk: Role;
  readonly latin: Role;
}
/** Headings and labels: 楷体 with Times New Roman, as the reference styles label their fields. */
export const LABEL: Script = { cjk: 'kai', latin: 'times' };
/** Filled-in values: 仿宋 with Times New Roman (第九条: fill-ins in 仿宋). */
export const VALUE: Script = { cjk: 'fangsong', latin: 'times' };


interface Piece { readonly text: string; readonly face: Face }

export type Align = 'left' | 'center' | 'right';

export interface TextOptions {
  readonly size: number;
  readonly script?: Script;
  readonly align?: Align;
  /** Box width in mm: with `align` center/right, x is the box's left edge; the text shrinks to fit it. */
  readonly w?: number;
  /** Smallest size the text may shrink to (default: 60 % of size). */
  readonly minSize?: number;
}

export interface Fitted {
  readonly size: number;
  readonly lines: readonly string[];
}

export interface DocMeta {
  readonly title: string;
  readonly subject?: string;
  /** Creation date, from the run's clock. */
  readonly now: Date;
  /** Seeds the subset-font tags so the same input gives the same names. */
  readonly seed: string;
}

/**
 * Texts measured and remembered, at most: a table's cells are measured several times each (fitting, then drawing)
 * and its labels on every page; a sign-off sheet's 20,000 names and numbers, all remembered, held ~40 MB.
 */
const MEMO_SIZE = 2_000;

/** Content-stream numbers, as the certificate overlay writes them. */
const n = pdfNumber;

/**
 * Drawing operators are written straight into each page's content as text, not through pdf-lib's drawText and
 * drawRectangle: those build a dozen validated operator objects per call, which made a 20,000-line sign-off sheet
 * take most of the bundle's time and hundreds of MB. A page's operators are encoded (deflated) into one
 * content stream as soon as the next page starts; drawing on a finished page later (page numbers) adds a stream.
 */
export class PdfKit {
  private readonly embedded = new Map<Face, PDFFont>();
  private current: PDFPage | undefined;
  private readonly pending = new Map<PDFPage, string[]>();
  /** Resource names of fonts and images per page. */
  private readonly names = new Map<PDFPage, Map<object, string>>();
  /**
   * Page heights in pt: pdf-lib's getHeight() looks the MediaBox up through the page tree and builds arrays on
   * every call, and the forms ask for it with every operator (0.7 GB of garbage for a 20,000-line receipt).
   */
  private readonly heights = new WeakMap<PDFPage, number>();
  /**
   * The two-byte hex code of each character in each embedded font. pdf-lib's encodeText lays out the whole string
   * and allocates per glyph for every call; a character's code in a subset never changes once it is included, so
   * each character goes through encodeText once.
   */
  private readonly codes = new Map<PDFFont, Map<string, string>>();
  private constructor(readonly doc: PDFDocument, readonly fonts: FontSet, private readonly meta: DocMeta) {}

  static async create(fonts: FontSet, meta: DocMeta): Promise<PdfKit> {
    const doc = await PDFDocument.create({ updateMetadata: false });
    doc.registerFontkit(fontkitAdapter);
    doc.setTitle(meta.title, { showInWindowTitleBar: true });
    if (meta.subject) doc.setSubject(meta.subject);
    doc.setProducer('skillcert');
    doc.setCreator('skillcert bundle');
    doc.setCreationDate(meta.now);
    doc.setModificationDate(meta.now);
    doc.setLanguage('zh-CN');
    return new PdfKit(doc, fonts, meta);
  }

  get page(): PDFPage {
    if (!this.current) throw new Error('PdfKit: call addPage() before drawing');
    return this.current;
  }

  get pageCount(): number {
    return this.doc.getPageCount();
  }

  addPage(size: { width: number; height: number } = A4): PDFPage {
    if (this.current) this.flush(this.current);
    this.current = this.doc.addPage([size.width * PT_PER_MM, size.height * PT_PER_MM]);
    this.heights.set(this.current, size.height * PT_PER_MM);
    return this.current;
  }

  private top(page: PDFPage): number {
    let h = this.heights.get(page);
    if (h === undefined) this.heights.set(page, (h = page.getHeight()));
    return h;
  }

  /** The Tj operand of `text` in `font`: each character's code from the memo, encoded by pdf-lib the first time. */
  private encode(font: PDFFont, text: string): string {
    let codes = this.codes.get(font);
    if (!codes) this.codes.set(font, (codes = new Map()));
    let hex = '';
    for (const ch of text) {
      let code = codes.get(ch);
      if (code === undefined) codes.set(ch, (code = font.encodeText(ch).asString()));
      hex += code;
    }
    return `<${hex}>`;
  }

  private ops(page: PDFPage): string[] {
    let ops = this.pending.get(page);
    if (!ops) this.pending.set(page, (ops = []));
    return ops;
  }

  /** The page's drawn operators as one deflated content stream after those it has. */
  private flush(page: PDFPage): void {
    const ops = this.pending.get(page);
    this.pending.delete(page);
    this.names.delete(page);
    if (!ops?.length) return;
    const ctx = this.doc.context;
    page.node.addContentStream(ctx.register(PDFRawStream.of(ctx.obj({ Filter: 'FlateDecode' }), flate(Buffer.from(`q\n${ops.join('\n')}\nQ\n`, 'latin1')))));
  }

  /** The page's resource name (with its slash) of a font or image, added to its resources the first time. */
  private resource(page: PDFPage, what: PDFFont | PDFImage | PDFEmbeddedPage): string {
    let names = this.names.get(page);
    if (!names) this.names.set(page, (names = new Map()));
    let name = names.get(what);
    if (!name) {
      name = ('encodeText' in what ? page.node.newFontDictionary(what.name, what.ref) : page.node.newXObject('Im', what.ref)).asString();
      names.set(what, name);
    }
    return name;
  }

  // Width is linear in the size: each text is split and measured once, at 1 pt (a sign-off sheet of
  // thousands of lines measures the same labels and numbers over and over).
  private readonly memo = new Map<string, { pieces: Piece[]; unit: number }>();

  private measured(text: string, script: Script, where: string): { pieces: Piece[]; unit: number } {
    const key = `${script.cjk}/${script.latin}/${text}`;
    let hit = this.memo.get(key);
    if (!hit) {
      const pieces = this.split(text, script, where);
      hit = { pieces, unit: pieces.reduce((w, p) => w + widthMm(p.text, p.face, 1), 0) };
      if (this.memo.size >= MEMO_SIZE) this.memo.clear();
      this.memo.set(key, hit);
    }
    return hit;
  }

  private pieces(text: string, script: Script, where: string): Piece[] {
    return this.measured(text, script, where).pieces;
  }

  private split(raw: string, script: Script, where: string): Piece[] {
    // Receipts and tables quote what the rows said, including a name character no font has (the reason its row
    // was rejected): such a character is written as its code point, never as a blank box.
    const chars = [...raw];
    const missing = new Set([
      ...this.fonts.uncovered(chars.filter((ch) => isCjk(ch)).join(''), script.cjk),
      ...this.fonts.uncovered(chars.filter((ch) => !isCjk(ch)).join(''), script.latin),
    ]);
    const text = missing.size ? chars.map((ch) => (missing.has(ch) ? `[U+${ch.codePointAt(0)!.toString(16).toUpperCase()}]` : ch)).join('') : raw;
    return this.fonts.scriptRuns(text, script.cjk, script.latin, where);
  }

  /** Width of a line of text in mm. */
  measure(text: string, size: number, script: Script = VALUE): number {
    return this.measured(text, script, 'measure').unit * size;
  }

  /**
   * Fits text in a box `w` mm wide: one line at `size`, shrinking 0.5 pt at a time to `minSize`; if it
   * still does not fit, wrapped at `minSize` into as many lines as it takes (the caller grows the row).
   */
  fit(text: string, w: number, size: number, minSize: number, script: Script = VALUE, maxLines = Infinity): Fitted {
    for (let s = size; s >= minSize - 1e-9; s -= 0.5) {
      if (this.measure(text, s, script) <= w + 1e-6) return { size: s, lines: [text] };
    }
    for (let s = minSize; ; s -= 0.5) {
      const lines = this.wrap(text, w, s, script);
      if (lines.length <= maxLines || s <= 4) return { size: s, lines };
    }
  }

  /** Greedy wrap at the line-breaking points of the render stage's tokenizer (禁则 punctuation glued on). */
  wrap(text: string, w: number, size: number, script: Script = VALUE): string[] {
    const m = (s: string) => this.measure(s, size, script);
    const lines: string[] = [];
    let line = '';
    for (const token of tokenize(text)) {
      if (m((line + token).trimEnd()) <= w + 1e-6) { line += token; continue; }
      if (line.trim()) { lines.push(line.trimEnd()); line = ''; }
      const t = token.trimStart();
      if (m(t.trimEnd()) <= w + 1e-6) { line = t; continue; }
      for (const ch of t) {
        if (line && m((line + ch).trimEnd()) > w + 1e-6) { lines.push(line.trimEnd()); line = ''; }
        line += ch;
      }
    }
    if (line.trim() || lines.length === 0) lines.push(line.trimEnd());
    return lines;
  }

  private async font(face: Face): Promise<PDFFont> {
    let f = this.embedded.get(face);
    if (!f) {
      rememberFace(face);
      const digest = createHash('sha256').update(`${this.meta.seed}/${face.postscriptName}`).digest();
      const tag = [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
      f = await this.doc.embedFont(face.bytes, { subset: true, customName: `${tag}+${face.postscriptName}` });
      this.embedded.set(face, f);
    }
    return f;
  }

  /**
   * Draws one line at (x, y baseline). With `w`, the text shrinks to fit the box and `align` places it in
   * the box [x, x + w]. Returns the size used.
   */
  async text(text: string, x: number, y: number, opts: TextOptions, page: PDFPage = this.page): Promise<number> {
    if (!text) return opts.size;
    const script = opts.script ?? VALUE;
    let size = opts.size;
    if (opts.w !== undefined) {
      size = this.fit(text, opts.w, opts.size, opts.minSize ?? opts.size * 0.6, script, 1).size;
      // Still too wide at the smallest step: scale to the box exactly rather than cross its edge.
      const unit = this.measure(text, 1, script);
      if (unit * size > opts.w) size = Math.floor((opts.w / unit) * 100) / 100;
    }
    const width = this.measure(text, size, script);
    const align = opts.align ?? 'left';
    let cx = opts.w === undefined || align === 'left' ? x : align === 'center' ? x + (opts.w - width) / 2 : x + opts.w - width;
    if (opts.w === undefined && align !== 'left') cx = align === 'center' ? x - width / 2 : x - width;
    const top = this.top(page);
    const ops = this.ops(page);
    for (const p of this.pieces(text, script, 'text')) {
      const font = await this.font(p.face);
      ops.push(`BT ${this.resource(page, font)} ${n(size)} Tf ${n(cx * PT_PER_MM)} ${n(top - y * PT_PER_MM)} Td ${this.encode(font, p.text)} Tj ET`);
      cx += widthMm(p.text, p.face, size);
    }
    return size;
  }

  /** A wrapped paragraph in [x, x + w]; returns the baseline y after the last line plus one line. */
  async paragraph(text: string, x: number, y: number, w: number, size: number, opts: { script?: Script; lineHeight?: number; indent?: number } = {}): Promise<number> {
    const script = opts.script ?? LABEL;
    const lh = opts.lineHeight ?? size * MM_PER_PT * 1.6;
    const indent = (opts.indent ?? 0) * size * MM_PER_PT;
    const first = this.wrap(text, w - indent, size, script)[0] ?? '';
    await this.text(first, x + indent, y, { size, script });
    const rest = text.slice(first.length).trimStart();
    let yy = y + lh;
    for (const line of rest ? this.wrap(rest, w, size, script) : []) {
      await this.text(line, x, yy, { size, script });
      yy += lh;
    }
    return yy;
  }

  line(x1: number, y1: number, x2: number, y2: number, opts: { width?: number; dash?: boolean; gray?: number } = {}, page: PDFPage = this.page): void {
    const top = this.top(page);
    const dash = opts.dash ? '[3 2] 0 d 0 J ' : '';
    this.ops(page).push(`q ${n(opts.gray ?? 0)} G ${n(opts.width ?? 0.5)} w ${dash}${n(x1 * PT_PER_MM)} ${n(top - y1 * PT_PER_MM)} m ${n(x2 * PT_PER_MM)} ${n(top - y2 * PT_PER_MM)} l S Q`);
  }

  /** A rectangle (mm from the top-left), outlined, and filled with grey `fill` (0 black, 1 white) when given. */
  rect(x: number, y: number, w: number, h: number, opts: { width?: number; gray?: number; fill?: number } = {}, page: PDFPage = this.page): void {
    const top = this.top(page);
    const fill = opts.fill !== undefined ? `${n(opts.fill)} g ` : '';
    this.ops(page).push(`q ${fill}${n(opts.gray ?? 0)} G ${n(opts.width ?? 0.5)} w ${n(x * PT_PER_MM)} ${n(top - (y + h) * PT_PER_MM)} ${n(w * PT_PER_MM)} ${n(h * PT_PER_MM)} re ${fill ? 'B' : 'S'} Q`);
  }

  /** An embedded image or page drawn into the box (mm from the top-left, w × h mm). */
  image(what: PDFImage | PDFEmbeddedPage, x: number, y: number, w: number, h: number, page: PDFPage = this.page): void {
    const top = this.top(page);
    this.ops(page).push(`q ${n(w * PT_PER_MM)} 0 0 ${n(h * PT_PER_MM)} ${n(x * PT_PER_MM)} ${n(top - (y + h) * PT_PER_MM)} cm ${this.resource(page, what)} Do Q`);
  }

  /** A label followed by a fill-in line: the value when known, otherwise a blank line to write on. */
  async field(label: string, value: string | undefined, x: number, y: number, w: number, size = 11): Promise<void> {
    await this.text(label, x, y, { size, script: LABEL });
    const lx = x + this.measure(label, size, LABEL) + 1;
    this.line(lx, y + 1, x + w, y + 1, { width: 0.4 });
    if (value) await this.text(value, lx + 1, y, { size, script: VALUE, w: x + w - lx - 2, minSize: size * 0.55 });
  }

  /** 第 i 页 共 n 页 at the foot of every page (but those in `skip`, 0-based), drawn once the page count is known. */
  async pageNumbers(prefix = '', skip: ReadonlySet<number> = new Set()): Promise<void> {
    const pages = this.doc.getPages();
    for (let i = 0; i < pages.length; i++) {
      if (skip.has(i)) continue;
      const p = pages[i]!;
      const wmm = p.getWidth() * MM_PER_PT;
      const hmm = p.getHeight() * MM_PER_PT;
      await this.text(`${prefix}第 ${i + 1} 页 共 ${pages.length} 页`, 0, hmm - 8, { size: 9, script: LABEL, align: 'center', w: wmm }, p);
      this.flush(p);
    }
  }

  async save(): Promise<Uint8Array> {
    for (const page of [...this.pending.keys()]) this.flush(page);
    return this.doc.save({ useObjectStreams: false });
  }
}
