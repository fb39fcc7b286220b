/**
 * What page 1 of a PDF actually draws, in drawing order, read from its content streams (no rendering): every
 * visible glyph with its Unicode text and its box, and every other mark — filled and stroked paths (with their
 * rectangles when they are axis-aligned rectangles, as the QR code's modules are), images, shadings and annotation
 * appearances — each with its box in page space (PDF points, origin bottom-left) and a sequence number, so that a
 * check can tell what was drawn over what.
 *
 * Why not pdf.js: its operator list converts every embedded font for rendering (sanitising glyf tables) and decodes
 * every image, 40–65 ms CPU per certificate measured on the demo output, and its legacy build replaces
 * Array.prototype.push process-wide with a slower polyfill. A verifier needs positions, widths and ToUnicode, not
 * glyph outlines or pixels: this interpreter reads the operators of ISO 32000-1 §8–9 over pdf-lib's object model
 * (the same parse the signature check uses) in ~2 ms. What it does not model is on the safe side for the checks:
 * clipping paths and transparency are ignored, so a mark counts as drawn wherever its path reaches.
 */
import { inflateSync } from 'node:zlib';
import {
  decodePDFRawStream, PDFArray, PDFDict, PDFName, PDFNumber, PDFRawStream, PDFRef, PDFStream, type PDFDocument, type PDFObject,
} from '../pdf/lib.js';

export interface Box { readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number }
export interface Rect { readonly x: number; readonly y: number; readonly w: number; readonly h: number }

export interface Glyph {
  readonly seq: number;
  readonly text: string;
  /** Origin on the baseline, page space. */
  readonly x: number;
  readonly y: number;
  /** The glyph's box (advance width × 0.2 em below to 0.8 em above the baseline), page space. */
  readonly box: Box;
  /** Font size in page space (points). */
  readonly size: number;
  /** false for invisible text (render mode 3 or 7) and text in (near) white: it hides, it does not print. */
  readonly visible: boolean;
}

export interface Mark {
  readonly seq: number;
  readonly kind: 'fill' | 'stroke' | 'image' | 'shading' | 'annotation' | 'hiding text';
  readonly box: Box;
  /** For fills whose every subpath is an axis-aligned rectangle: those rectangles, page space. */
  readonly rects?: readonly Rect[];
  /** For fills and strokes: the paint is dark (luminance below one half). */
  readonly dark?: boolean;
  /** For strokes: the box of each segment with half the line width around it (a frame does not cover what it frames). */
  readonly parts?: readonly Box[];
}

export interface PageDrawing {
  readonly media: Box;
  readonly glyphs: readonly Glyph[];
  readonly marks: readonly Mark[];
}

type M = [number, number, number, number, number, number];
const IDENTITY: M = [1, 0, 0, 1, 0, 0];
/** a × b: first a, then b (PDF's row-vector convention). */
const mul = (a: M, b: M): M => [
  a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
  a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
  a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5],
];
const apply = (m: M, x: number, y: number): [number, number] => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];

function boxOf(points: readonly (readonly [number, number])[]): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { x0, y0, x1, y1 };
}
const transformedBox = (m: M, b: Box): Box => boxOf([apply(m, b.x0, b.y0), apply(m, b.x1, b.y0), apply(m, b.x0, b.y1), apply(m, b.x1, b.y1)]);

export const intersects = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** Whether a mark reaches into a box: its box, or for a stroke one of its segments. */
export const markHits = (m: Mark, b: Box): boolean => intersects(m.box, b) && (!m.parts || m.parts.some((p) => intersects(p, b)));

// ---- tokens --------------------------------------------------------------------------------------------------

/** An operand: number, name (`{ name }`), string (bytes as a latin1 string, `{ str }`), array, dictionary (Map), boolean/null. */
type Operand = number | { name: string } | { str: string } | Operand[] | Map<string, Operand> | boolean | null;
const DELIM = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
const isWhite = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;

class Lexer {
  i = 0;
  /** The content as a latin1 string: one byte a character, sliced without copying bytes around. */
  constructor(readonly s: string) {}

  private word(): string {
    const s = this.s;
    const start = this.i;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (isWhite(c) || DELIM.has(c)) break;
      this.i++;
    }
    return s.slice(start, this.i);
  }

  /** The next token: an operand, an operator ({ op }), or undefined at the end. */
  next(): Operand | { op: string } | undefined {
    const s = this.s;
    for (;;) {
      while (this.i < s.length && isWhite(s.charCodeAt(this.i))) this.i++;
      if (this.i >= s.length) return undefined;
      if (s.charCodeAt(this.i) === 0x25) {
        while (this.i < s.length && s.charCodeAt(this.i) !== 0x0a && s.charCodeAt(this.i) !== 0x0d) this.i++;
        continue;
      }
      break;
    }
    const c = s.charCodeAt(this.i);
    if (c === 0x2f) {
      this.i++;
      const w = this.word();
      return { name: w.includes('#') ? w.replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : w };
    }
    if (c === 0x28) return { str: this.literal() };
    if (c === 0x3c) {
      if (s.charCodeAt(this.i + 1) === 0x3c) {
        this.i += 2;
        return this.dict();
      }
      const end = s.indexOf('>', this.i);
      const hex = s.slice(this.i + 1, end < 0 ? s.length : end).replace(/[^0-9a-fA-F]/g, '');
      this.i = end < 0 ? s.length : end + 1;
      return { str: Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex').toString('latin1') };
    }
    if (c === 0x5b) {
      this.i++;
      const arr: Operand[] = [];
      for (;;) {
        const t = this.next();
        if (t === undefined || (typeof t === 'object' && t !== null && 'op' in t && t.op === ']')) return arr;
        if (typeof t === 'object' && t !== null && 'op' in t) continue;
        arr.push(t);
      }
    }
    if (c === 0x5d || c === 0x7b || c === 0x7d || c === 0x29) {
      this.i++;
      return { op: String.fromCharCode(c) };
    }
    if (c === 0x3e) {
      this.i += s.charCodeAt(this.i + 1) === 0x3e ? 2 : 1;
      return { op: '>>' };
    }
    const word = this.word();
    if (word.length === 0) {
      this.i++;
      return { op: s[this.i - 1]! };
    }
    const first = word.charCodeAt(0);
    if ((first >= 0x30 && first <= 0x39) || first === 0x2d || first === 0x2b || first === 0x2e) {
      const v = Number(word);
      if (!Number.isNaN(v)) return v;
    }
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return { op: word };
  }

  private dict(): Map<string, Operand> {
    const d = new Map<string, Operand>();
    let key: string | undefined;
    for (;;) {
      const t = this.next();
      if (t === undefined) return d;
      if (typeof t === 'object' && t !== null && 'op' in t) {
        if (t.op === '>>') return d;
        continue;
      }
      if (key === undefined) {
        if (typeof t === 'object' && t !== null && 'name' in t) key = t.name;
      } else {
        d.set(key, t);
        key = undefined;
      }
    }
  }

  private literal(): string {
    const s = this.s;
    let depth = 1;
    let out = '';
    this.i++;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i++);
      if (c === 0x5c) {
        const e = s.charCodeAt(this.i++);
        if (Number.isNaN(e)) break;
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2 && s.charCodeAt(this.i) >= 0x30 && s.charCodeAt(this.i) <= 0x37; k++) v = v * 8 + s.charCodeAt(this.i++) - 0x30;
          out += String.fromCharCode(v & 0xff);
        } else if (e === 0x0d) {
          if (s.charCodeAt(this.i) === 0x0a) this.i++;
        } else if (e !== 0x0a) {
          out += ({ 0x6e: '\n', 0x72: '\r', 0x74: '\t', 0x62: '\b', 0x66: '\f' } as Record<number, string>)[e] ?? String.fromCharCode(e);
        }
        continue;
      }
      if (c === 0x28) depth++;
      if (c === 0x29 && --depth === 0) break;
      out += String.fromCharCode(c);
    }
    return out;
  }

  /** After BI: the inline image's dictionary up to ID, then its data up to EI. */
  skipInlineImage(): void {
    this.dict();
    const s = this.s;
    // "ID" then one white-space byte, then data ending in white-space "EI" followed by a delimiter or the end.
    const id = s.indexOf('ID', this.i);
    let j = id < 0 ? s.length : id + 3;
    for (; j < s.length - 1; j++) {
      if (s.charCodeAt(j) === 0x45 && s.charCodeAt(j + 1) === 0x49 && isWhite(s.charCodeAt(j - 1)) && (j + 2 >= s.length || isWhite(s.charCodeAt(j + 2)) || DELIM.has(s.charCodeAt(j + 2)))) break;
    }
    this.i = Math.min(s.length, j + 2);
  }
}

// ---- fonts ---------------------------------------------------------------------------------------------------

interface FontInfo {
  /** Bytes per character code: 2 for Type0 (Identity-H and the CJK CMaps we meet), 1 for simple fonts. */
  readonly codeBytes: 1 | 2;
  readonly width: (code: number) => number;
  readonly unicode: (code: number) => string;
}

function streamBytes(s: PDFObject | undefined): Uint8Array {
  if (!(s instanceof PDFRawStream)) return new Uint8Array(0);
  const filter = s.dict.get(PDFName.of('Filter'));
  const only = filter instanceof PDFName ? filter : filter instanceof PDFArray && filter.size() === 1 ? filter.get(0) : undefined;
  if (only === PDFName.of('FlateDecode') && !s.dict.has(PDFName.of('DecodeParms'))) return inflateSync(s.contents);
  if (filter === undefined) return s.contents;
  return decodePDFRawStream(s).decode();
}

const num = (o: PDFObject | undefined, dflt: number) => (o instanceof PDFNumber ? o.asNumber() : dflt);

const MAX_CMAP_ENTRIES = 100_000;

/** A ToUnicode CMap's bfchar and bfrange entries (ISO 32000-1 §9.10.3). */
function parseToUnicode(bytes: Uint8Array): Map<number, string> {
  const map = new Map<number, string>();
  const text = Buffer.from(bytes).toString('latin1');
  const utf16 = (hex: string) => {
    const b = Buffer.from(hex.length % 4 ? hex.padStart(Math.ceil(hex.length / 4) * 4, '0') : hex, 'hex');
    return b.swap16().toString('utf16le');
  };
  for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const m of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>/g)) map.set(parseInt(m[1]!, 16), utf16(m[2]!));
  }
  for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const m of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(?:<([0-9a-fA-F]+)>|\[([^\]]*)\])/g)) {
      const lo = parseInt(m[1]!, 16);
      // A hostile CMap could ask for millions of entries: a font of a certificate maps a few thousand at most.
      if (map.size > MAX_CMAP_ENTRIES) break;
      const hi = Math.min(parseInt(m[2]!, 16), lo + 0xffff, lo + MAX_CMAP_ENTRIES - map.size);
      if (m[3] !== undefined) {
        const base = Buffer.from(m[3].length % 4 ? m[3].padStart(Math.ceil(m[3].length / 4) * 4, '0') : m[3], 'hex');
        for (let c = lo; c <= hi; c++) {
          const b = Buffer.from(base);
          b.writeUInt16BE((b.readUInt16BE(b.length - 2) + (c - lo)) & 0xffff, b.length - 2);
          map.set(c, Buffer.from(b).swap16().toString('utf16le'));
        }
      } else {
        const items = [...m[4]!.matchAll(/<([0-9a-fA-F]*)>/g)].map((x) => utf16(x[1]!));
        items.forEach((u, k) => map.set(lo + k, u));
      }
    }
  }
  return map;
}

function fontInfo(font: PDFDict): FontInfo {
  const toUnicodeObj = font.lookup(PDFName.of('ToUnicode'));
  const toUnicode = toUnicodeObj instanceof PDFStream ? parseToUnicode(streamBytes(toUnicodeObj)) : undefined;
  if (font.get(PDFName.of('Subtype')) === PDFName.of('Type0')) {
    const desc = font.lookupMaybe(PDFName.of('DescendantFonts'), PDFArray)?.lookup(0);
    const cid = desc instanceof PDFDict ? desc : undefined;
    const dw = num(cid?.lookup(PDFName.of('DW')), 1000);
    const widths = new Map<number, number>();
    const w = cid?.lookupMaybe(PDFName.of('W'), PDFArray);
    for (let i = 0; w && i < w.size(); ) {
      const first = num(w.lookup(i), NaN);
      const next = w.lookup(i + 1);
      if (next instanceof PDFArray) {
        for (let k = 0; k < next.size(); k++) widths.set(first + k, num(next.lookup(k), dw));
        i += 2;
      } else {
        const last = num(next, NaN);
        const v = num(w.lookup(i + 2), dw);
        for (let c = first; c <= last && c - first < 0x10000; c++) widths.set(c, v);
        i += 3;
      }
    }
    // Identity-H/V: the code is the CID. (Other CMaps would map codes to CIDs; certificates do not use them.)
    return { codeBytes: 2, width: (c) => (widths.get(c) ?? dw) / 1000, unicode: (c) => toUnicode?.get(c) ?? '\ufffd' };
  }
  const firstChar = num(font.lookup(PDFName.of('FirstChar')), 0);
  const widthsArr = font.lookupMaybe(PDFName.of('Widths'), PDFArray);
  const missing = num(font.lookupMaybe(PDFName.of('FontDescriptor'), PDFDict)?.lookup(PDFName.of('MissingWidth')), 500);
  const widths = widthsArr ? widthsArr.asArray().map((x) => num(x instanceof PDFRef ? font.context.lookup(x) : x, missing)) : [];
  return {
    codeBytes: 1,
    width: (c) => (widths[c - firstChar] ?? missing) / 1000,
    // Without a ToUnicode map a simple font's codes are taken as Latin-1 (WinAnsi and Standard agree on letters).
    unicode: (c) => toUnicode?.get(c) ?? String.fromCharCode(c),
  };
}

// ---- the interpreter -----------------------------------------------------------------------------------------

interface GState {
  ctm: M;
  fillDark: boolean;
  fillLight: boolean;
  strokeDark: boolean;
  lineWidth: number;
  font?: FontInfo;
  fontSize: number;
  charSpacing: number;
  wordSpacing: number;
  hScale: number;
  leading: number;
  rise: number;
  render: number;
}

/** Luminance of a colour given as gray, RGB or CMYK components. */
function luminance(c: readonly number[]): number {
  if (c.length === 1) return c[0]!;
  if (c.length === 3) return 0.299 * c[0]! + 0.587 * c[1]! + 0.114 * c[2]!;
  if (c.length === 4) return (1 - Math.min(1, c[0]! + c[3]!)) * 0.299 + (1 - Math.min(1, c[1]! + c[3]!)) * 0.587 + (1 - Math.min(1, c[2]! + c[3]!)) * 0.114;
  return 0;
}

const MAX_FORM_DEPTH = 8;

class Interpreter {
  seq = 0;
  readonly glyphs: Glyph[] = [];
  readonly marks: Mark[] = [];
  private readonly fonts = new Map<PDFDict, FontInfo>();

  constructor(private readonly doc: PDFDocument) {}

  private font(resources: PDFDict | undefined, name: string): FontInfo | undefined {
    const dict = resources?.lookupMaybe(PDFName.of('Font'), PDFDict)?.lookup(PDFName.of(name));
    if (!(dict instanceof PDFDict)) return undefined;
    let f = this.fonts.get(dict);
    if (!f) this.fonts.set(dict, (f = fontInfo(dict)));
    return f;
  }

  run(content: string, resources: PDFDict | undefined, start: GState, depth: number): void {
    const lex = new Lexer(content);
    const stack: GState[] = [];
    let g: GState = { ...start };
    let ops: Operand[] = [];
    // Path in user space, as subpaths of points; `rects` while every subpath is an axis-aligned rectangle.
    let path: [number, number][][] = [];
    let pathRects: Rect[] | undefined = [];
    let current: [number, number] = [0, 0];
    let tm: M = IDENTITY;
    let tlm: M = IDENTITY;
    const n = (i: number) => (typeof ops[i] === 'number' ? (ops[i] as number) : 0);

    const endPath = (kind: 'fill' | 'stroke' | 'both' | 'none') => {
      if (kind !== 'none' && path.length > 0) {
        const pts = path.flat().map(([x, y]) => apply(g.ctm, x, y));
        let box = boxOf(pts);
        let parts: Box[] | undefined;
        if (kind !== 'fill') {
          const half = (g.lineWidth * Math.hypot(g.ctm[0], g.ctm[1])) / 2 || 0.5;
          const grow = (b: Box): Box => ({ x0: b.x0 - half, y0: b.y0 - half, x1: b.x1 + half, y1: b.y1 + half });
          box = grow(box);
          // Only a stroke alone is seen as its outline; a filled and stroked path covers its inside too.
          if (kind === 'stroke') {
            parts = [];
            for (const sp of path) {
              const dev = sp.map(([x, y]) => apply(g.ctm, x, y));
              // Each segment, and the closing one (a rectangle, or a subpath closed by h or s).
              for (let k = 0; k < dev.length; k++) parts.push(grow(boxOf([dev[k]!, dev[(k + 1) % dev.length]!])));
            }
          }
        }
        const axisAligned = g.ctm[1] === 0 && g.ctm[2] === 0;
        const rects = kind === 'fill' && axisAligned && pathRects
          ? pathRects.map((r) => {
            const b = transformedBox(g.ctm, { x0: r.x, y0: r.y, x1: r.x + r.w, y1: r.y + r.h });
            return { x: b.x0, y: b.y0, w: b.x1 - b.x0, h: b.y1 - b.y0 };
          })
          : undefined;
        this.marks.push({ seq: this.seq++, kind: kind === 'stroke' ? 'stroke' : 'fill', box, ...(rects ? { rects } : {}), ...(parts ? { parts } : {}), dark: kind === 'stroke' ? g.strokeDark : g.fillDark });
      }
      path = [];
      pathRects = [];
    };
    const closeSubpathRect = () => {
      // A subpath m l l l (h) whose four corners form an axis-aligned rectangle counts as a rectangle.
      const sp = path[path.length - 1];
      if (!pathRects || !sp) return;
      const pts = sp.length === 5 && sp[4]![0] === sp[0]![0] && sp[4]![1] === sp[0]![1] ? sp.slice(0, 4) : sp;
      if (pts.length !== 4) {
        pathRects = undefined;
        return;
      }
      const xs = new Set(pts.map((p) => p[0]));
      const ys = new Set(pts.map((p) => p[1]));
      const edgesAligned = pts.every((p, k) => {
        const q = pts[(k + 1) % 4]!;
        return p[0] === q[0] || p[1] === q[1];
      });
      if (xs.size !== 2 || ys.size !== 2 || !edgesAligned) {
        pathRects = undefined;
        return;
      }
      const [xa, xb] = [...xs].sort((a, b) => a - b) as [number, number];
      const [ya, yb] = [...ys].sort((a, b) => a - b) as [number, number];
      pathRects.push({ x: xa, y: ya, w: xb - xa, h: yb - ya });
    };
    let openPoly = false;
    const flushPoly = () => {
      if (openPoly) closeSubpathRect();
      openPoly = false;
    };

    const show = (bytes: string) => {
      const f = g.font;
      if (!f) return;
      const step = f.codeBytes;
      for (let i = 0; i + step <= bytes.length; i += step) {
        const code = step === 2 ? (bytes.charCodeAt(i) << 8) | bytes.charCodeAt(i + 1) : bytes.charCodeAt(i);
        const w0 = f.width(code);
        const trm = mul([g.fontSize * g.hScale, 0, 0, g.fontSize, 0, g.rise], mul(tm, g.ctm));
        const [x, y] = apply(trm, 0, 0);
        const box = transformedBox(trm, { x0: 0, y0: -0.2, x1: w0 || 0.5, y1: 0.8 });
        const size = Math.hypot(trm[2], trm[3]);
        const mode = g.render;
        const invisible = mode === 3 || mode === 7;
        const visible = !invisible && !(g.fillLight && (mode === 0 || mode === 4));
        const text = f.unicode(code);
        const seq = this.seq++;
        this.glyphs.push({ seq, text, x, y, box, size, visible });
        // Text in white over something hides it: it counts as a mark over whatever it covers.
        if (!visible && !invisible) this.marks.push({ seq, kind: 'hiding text', box });
        const tx = (w0 * g.fontSize + g.charSpacing + (step === 1 && code === 32 ? g.wordSpacing : 0)) * g.hScale;
        tm = mul([1, 0, 0, 1, tx, 0], tm);
      }
    };

    for (let tok = lex.next(); tok !== undefined; tok = lex.next()) {
      if (tok === null || typeof tok !== 'object' || !('op' in tok)) {
        ops.push(tok);
        continue;
      }
      const op = tok.op;
      if (op !== 'm' && op !== 'l' && op !== 'h' && op !== 'c' && op !== 'v' && op !== 'y') flushPoly();
      switch (op) {
        case 'q': stack.push({ ...g }); break;
        case 'Q': g = stack.pop() ?? g; break;
        case 'cm': g.ctm = mul([n(0), n(1), n(2), n(3), n(4), n(5)], g.ctm); break;
        case 'w': g.lineWidth = n(0); break;
        case 'g': case 'rg': case 'k': case 'sc': case 'scn': {
          const comps = ops.filter((o): o is number => typeof o === 'number');
          const lum = comps.length ? luminance(comps) : 0;
          g.fillDark = lum < 0.5;
          g.fillLight = lum > 0.9;
          break;
        }
        case 'G': case 'RG': case 'K': case 'SC': case 'SCN': {
          const comps = ops.filter((o): o is number => typeof o === 'number');
          g.strokeDark = (comps.length ? luminance(comps) : 0) < 0.5;
          break;
        }
        case 'cs': g.fillDark = true; g.fillLight = false; break;
        case 'CS': g.strokeDark = true; break;
        case 'm': flushPoly(); current = [n(0), n(1)]; path.push([current]); openPoly = true; break;
        case 'l': current = [n(0), n(1)]; (path[path.length - 1] ?? (path.push([]), path[path.length - 1]!)).push(current); break;
        case 'c': current = [n(4), n(5)]; path[path.length - 1]?.push([n(0), n(1)], [n(2), n(3)], current); pathRects = undefined; break;
        case 'v': current = [n(2), n(3)]; path[path.length - 1]?.push([n(0), n(1)], current); pathRects = undefined; break;
        case 'y': current = [n(2), n(3)]; path[path.length - 1]?.push([n(0), n(1)], current); pathRects = undefined; break;
        case 'h': flushPoly(); break;
        case 're': {
          const [x, y, w, h] = [n(0), n(1), n(2), n(3)];
          path.push([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]);
          pathRects?.push({ x: Math.min(x, x + w), y: Math.min(y, y + h), w: Math.abs(w), h: Math.abs(h) });
          current = [x, y];
          break;
        }
        case 'f': case 'F': case 'f*': endPath('fill'); break;
        case 'S': case 's': endPath('stroke'); break;
        case 'B': case 'B*': case 'b': case 'b*': endPath('both'); break;
        case 'n': endPath('none'); break;
        case 'W': case 'W*': break;
        case 'BT': tm = IDENTITY; tlm = IDENTITY; break;
        case 'ET': break;
        case 'Tf': {
          const name = ops[0];
          g.font = typeof name === 'object' && name !== null && 'name' in name ? this.font(resources, name.name) : undefined;
          g.fontSize = n(1);
          break;
        }
        case 'Tc': g.charSpacing = n(0); break;
        case 'Tw': g.wordSpacing = n(0); break;
        case 'Tz': g.hScale = n(0) / 100; break;
        case 'TL': g.leading = n(0); break;
        case 'Ts': g.rise = n(0); break;
        case 'Tr': g.render = n(0); break;
        case 'Td': tlm = mul([1, 0, 0, 1, n(0), n(1)], tlm); tm = tlm; break;
        case 'TD': g.leading = -n(1); tlm = mul([1, 0, 0, 1, n(0), n(1)], tlm); tm = tlm; break;
        case 'Tm': tlm = [n(0), n(1), n(2), n(3), n(4), n(5)]; tm = tlm; break;
        case 'T*': tlm = mul([1, 0, 0, 1, 0, -g.leading], tlm); tm = tlm; break;
        case 'Tj': case "'": case '"': {
          if (op !== 'Tj') {
            tlm = mul([1, 0, 0, 1, 0, -g.leading], tlm);
            tm = tlm;
          }
          if (op === '"') {
            g.wordSpacing = n(0);
            g.charSpacing = n(1);
          }
          const s = ops[ops.length - 1];
          if (typeof s === 'object' && s !== null && 'str' in s) show(s.str);
          break;
        }
        case 'TJ': {
          const arr = ops[0];
          if (!Array.isArray(arr)) break;
          for (const item of arr) {
            if (typeof item === 'number') tm = mul([1, 0, 0, 1, (-item / 1000) * g.fontSize * g.hScale, 0], tm);
            else if (typeof item === 'object' && item !== null && 'str' in item) show(item.str);
          }
          break;
        }
        case 'Do': {
          const name = ops[0];
          if (typeof name !== 'object' || name === null || !('name' in name)) break;
          const xo = resources?.lookupMaybe(PDFName.of('XObject'), PDFDict)?.lookup(PDFName.of(name.name));
          if (!(xo instanceof PDFRawStream)) break;
          const sub = xo.dict.get(PDFName.of('Subtype'));
          if (sub === PDFName.of('Image')) {
            this.marks.push({ seq: this.seq++, kind: 'image', box: transformedBox(g.ctm, { x0: 0, y0: 0, x1: 1, y1: 1 }) });
          } else if (sub === PDFName.of('Form') && depth < MAX_FORM_DEPTH) {
            const mArr = xo.dict.lookupMaybe(PDFName.of('Matrix'), PDFArray)?.asArray().map((x) => num(x, 0));
            const matrix: M = mArr && mArr.length === 6 ? (mArr as M) : IDENTITY;
            const res = xo.dict.lookupMaybe(PDFName.of('Resources'), PDFDict) ?? resources;
            this.run(Buffer.from(streamBytes(xo)).toString('latin1'), res, { ...g, ctm: mul(matrix, g.ctm) }, depth + 1);
          }
          break;
        }
        case 'BI': lex.skipInlineImage(); this.marks.push({ seq: this.seq++, kind: 'image', box: transformedBox(g.ctm, { x0: 0, y0: 0, x1: 1, y1: 1 }) }); break;
        // A shading fills the clip region, which is not tracked: it counts as covering the whole page.
        case 'sh': this.marks.push({ seq: this.seq++, kind: 'shading', box: { x0: -Infinity, y0: -Infinity, x1: Infinity, y1: Infinity } }); break;
        default: break;
      }
      ops = [];
    }
  }

  /** Annotations with an appearance, drawn after the page's contents over their rectangles (hidden ones excepted). */
  annotations(page: PDFDict): void {
    const annots = page.lookupMaybe(PDFName.of('Annots'), PDFArray);
    for (let i = 0; annots && i < annots.size(); i++) {
      const a = annots.lookup(i);
      if (!(a instanceof PDFDict)) continue;
      const flags = num(a.lookup(PDFName.of('F')), 0);
      if (flags & 0b100010) continue; // Hidden (2) or NoView (32)
      const ap = a.lookupMaybe(PDFName.of('AP'), PDFDict)?.lookup(PDFName.of('N'));
      const rect = a.lookupMaybe(PDFName.of('Rect'), PDFArray)?.asArray().map((x) => num(x, 0));
      if (!ap || !rect || rect.length !== 4) continue;
      const box = boxOf([[rect[0]!, rect[1]!], [rect[2]!, rect[3]!]]);
      if (box.x1 - box.x0 > 0 && box.y1 - box.y0 > 0) this.marks.push({ seq: this.seq++, kind: 'annotation', box });
    }
  }

  contents(page: PDFDict): string {
    const c = page.lookup(PDFName.of('Contents'));
    const parts = c instanceof PDFArray ? c.asArray().map((x) => this.doc.context.lookup(x)) : [c];
    // Streams are joined with a space between them (ISO 32000-1 §7.8.2: a token never spans two streams).
    return parts.map((p) => Buffer.from(streamBytes(p)).toString('latin1')).join(' ');
  }
}

/** Reads what the first page draws. Throws (from pdf-lib) only when the page tree itself cannot be read. */
export function readPage(doc: PDFDocument): PageDrawing {
  const page = doc.getPage(0);
  const node = page.node;
  const mb = page.getMediaBox();
  const it = new Interpreter(doc);
  const start: GState = { ctm: IDENTITY, fillDark: true, fillLight: false, strokeDark: true, lineWidth: 1, fontSize: 0, charSpacing: 0, wordSpacing: 0, hScale: 1, leading: 0, rise: 0, render: 0 };
  it.run(it.contents(node), node.Resources(), start, 0);
  it.annotations(node);
  return { media: { x0: mb.x, y0: mb.y, x1: mb.x + mb.width, y1: mb.y + mb.height }, glyphs: it.glyphs, marks: it.marks };
}

