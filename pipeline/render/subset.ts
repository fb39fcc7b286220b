/**
 * TrueType subsets for PDF embedding (FontFile2 of a CIDFontType2 with /CIDToGIDMap /Identity), by copying the
 * glyphs' bytes out of the face's `glyf` table as they are.
 *
 * fontkit's subsetter decodes every glyph, deep-clones the font's tables and re-encodes them with restructure:
 * ~1.3 ms for 30 CJK glyphs and ~2.8 ms for 20 hinted Latin ones, per certificate. A glyph's outline and
 * instructions do not change in a subset, only its number (and the numbers of a composite glyph's components),
 * so copying bytes gives the same font with the same tables fontkit writes (head, hhea, maxp, hmtx, loca, glyf,
 * and cvt, fpgm, prep when present — the tables PDF 32000 §9.9 asks of an embedded TrueType font) in ~0.1 ms.
 *
 * Faces with CFF outlines (no glyf table) keep fontkit's subsetter.
 */
import type { Face } from '../fonts/index.js';

interface Table { readonly offset: number; readonly length: number }

/** What the subsetter reads from a face, once per face. */
interface Sfnt {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly tables: ReadonlyMap<string, Table>;
  readonly glyf: Table;
  readonly longLoca: boolean;
  readonly loca: number;
  readonly hmtx: number;
  readonly numberOfHMetrics: number;
  readonly numGlyphs: number;
}

const sfnts = new WeakMap<Face, Sfnt | null>();

/** The face's TrueType tables, or null when it must go through fontkit (CFF outlines). */
function sfntOf(face: Face): Sfnt | null {
  const known = sfnts.get(face);
  if (known !== undefined) return known;
  const bytes = face.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, Table>();
  const version = view.getUint32(0);
  if (version === 0x00010000 || version === 0x74727565 /* 'true' */) {
    const n = view.getUint16(4);
    for (let i = 0; i < n; i++) {
      const at = 12 + 16 * i;
      const tag = String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
      tables.set(tag, { offset: view.getUint32(at + 8), length: view.getUint32(at + 12) });
    }
  }
  const [glyf, loca, head, hhea, hmtx, maxp] = ['glyf', 'loca', 'head', 'hhea', 'hmtx', 'maxp'].map((t) => tables.get(t));
  const sfnt =
    glyf && loca && head && hhea && hmtx && maxp
      ? {
          bytes, view, tables, glyf,
          longLoca: view.getInt16(head.offset + 50) === 1,
          loca: loca.offset,
          hmtx: hmtx.offset,
          numberOfHMetrics: view.getUint16(hhea.offset + 34),
          numGlyphs: view.getUint16(maxp.offset + 4),
        }
      : null;
  sfnts.set(face, sfnt);
  return sfnt;
}

/** A growing subset of one face, numbering glyphs from 1 in the order they are included (0 is .notdef). */
export interface Subsetter {
  /** The new glyph id — the CID drawn in the content stream — of an original glyph id, adding it when new. */
  include(gid: number): number;
  /** Advance width of a new glyph id, in font units. */
  advance(id: number): number;
  encode(): Uint8Array;
  /** true: the subset is a bare CFF font (FontFile3 /CIDFontType0C); false: a TrueType file (FontFile2). */
  readonly cff: boolean;
}

/** Whether the face has TrueType outlines, which TrueTypeSubset copies. */
export function hasTrueTypeOutlines(face: Face): boolean {
  return sfntOf(face) !== null;
}

/** A new subset of `face`: glyph bytes copied for TrueType outlines, fontkit's subsetter for CFF ones. */
export function subsetOf(face: Face): Subsetter {
  return sfntOf(face) ? new TrueTypeSubset(face) : new FontkitSubset(face);
}

class FontkitSubset implements Subsetter {
  private readonly subset: ReturnType<Face['font']['createSubset']>;
  private readonly originals: number[] = [0];
  readonly cff: boolean;

  constructor(private readonly face: Face) {
    this.subset = face.font.createSubset();
    this.cff = Boolean((this.subset as unknown as { cff?: unknown }).cff);
  }

  include(gid: number): number {
    // @types/fontkit says boolean; fontkit 2 returns the glyph's id in the subset.
    const id = this.subset.includeGlyph(this.face.font.getGlyph(gid)) as unknown as number;
    this.originals[id] = gid;
    return id;
  }

  advance(id: number): number {
    return this.face.font.getGlyph(this.originals[id]!).advanceWidth;
  }

  encode(): Uint8Array {
    return this.subset.encode();
  }
}

// Composite glyph flags (OpenType `glyf`).
const ARG_1_AND_2_ARE_WORDS = 0x0001;
const WE_HAVE_A_SCALE = 0x0008;
const MORE_COMPONENTS = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x0040;
const WE_HAVE_A_TWO_BY_TWO = 0x0080;

/**
 * A growing subset of one face: glyph 0 (.notdef) first, then glyphs in the order they are included. The new
 * glyph number is the CID drawn in the content stream.
 */
export class TrueTypeSubset implements Subsetter {
  readonly cff = false;
  private readonly sfnt: Sfnt;
  /** Original glyph ids, by new id. */
  private readonly glyphs: number[] = [];
  private readonly newIds = new Map<number, number>();

  constructor(readonly face: Face) {
    const sfnt = sfntOf(face);
    if (!sfnt) throw new RangeError(`${face.file} has no TrueType glyf outlines (or is a variable font); subset it with fontkit`);
    this.sfnt = sfnt;
    this.include(0);
  }

  /** The new id of an original glyph id, adding it (and a composite glyph's components) when new. */
  include(gid: number): number {
    const known = this.newIds.get(gid);
    if (known !== undefined) return known;
    if (gid < 0 || gid >= this.sfnt.numGlyphs) throw new RangeError(`glyph ${gid} is not in ${this.face.file} (${this.sfnt.numGlyphs} glyphs)`);
    const id = this.glyphs.length;
    this.glyphs.push(gid);
    this.newIds.set(gid, id);
    this.forEachComponent(gid, (component) => this.include(component));
    return id;
  }

  advance(id: number): number {
    return this.metrics(this.glyphs[id]!).advance;
  }

  /** The subset font file. */
  encode(): Uint8Array {
    const { sfnt } = this;
    const { bytes } = sfnt;
    const n = this.glyphs.length;

    // glyf and loca: each glyph's bytes, components renumbered, 4-byte aligned (long offsets).
    const ranges = this.glyphs.map((gid) => this.glyphRange(gid));
    const glyfLength = ranges.reduce((s, [a, b]) => s + pad4(b - a), 0);
    const glyf = new Uint8Array(glyfLength);
    const loca = new Uint8Array(4 * (n + 1));
    const locaView = new DataView(loca.buffer);
    let at = 0;
    ranges.forEach(([a, b], i) => {
      locaView.setUint32(4 * i, at);
      glyf.set(bytes.subarray(a, b), at);
      if (b > a) {
        const glyphView = new DataView(glyf.buffer, at, b - a);
        this.forEachComponent(this.glyphs[i]!, (component, pos) => glyphView.setUint16(pos, this.newIds.get(component)!));
      }
      at += pad4(b - a);
    });
    locaView.setUint32(4 * n, at);

    const hmtx = new Uint8Array(4 * n);
    const hmtxView = new DataView(hmtx.buffer);
    this.glyphs.forEach((gid, i) => {
      const m = this.metrics(gid);
      hmtxView.setUint16(4 * i, m.advance);
      hmtxView.setInt16(4 * i + 2, m.bearing);
    });

    const copy = (tag: string) => {
      const t = sfnt.tables.get(tag)!;
      return bytes.slice(t.offset, t.offset + t.length);
    };
    const head = copy('head');
    const headView = new DataView(head.buffer);
    headView.setUint32(8, 0); // checkSumAdjustment, set below
    headView.setInt16(50, 1); // indexToLocFormat: long offsets
    const hhea = copy('hhea');
    new DataView(hhea.buffer).setUint16(34, n); // numberOfHMetrics
    const maxp = copy('maxp');
    new DataView(maxp.buffer).setUint16(4, n); // numGlyphs

    const out = new Map<string, Uint8Array>([['glyf', glyf], ['head', head], ['hhea', hhea], ['hmtx', hmtx], ['loca', loca], ['maxp', maxp]]);
    for (const tag of ['cvt ', 'fpgm', 'prep']) if (sfnt.tables.has(tag)) out.set(tag, copy(tag));
    const { font, offsets } = writeSfnt(out);
    new DataView(font.buffer).setUint32(offsets.get('head')! + 8, (0xb1b0afba - checksum(font)) >>> 0);
    return font;
  }

  /** Byte range of an original glyph in the face file (empty for a glyph without outline, e.g. the space). */
  private glyphRange(gid: number): [number, number] {
    const { view, loca, longLoca, glyf } = this.sfnt;
    const start = longLoca ? view.getUint32(loca + 4 * gid) : 2 * view.getUint16(loca + 2 * gid);
    const end = longLoca ? view.getUint32(loca + 4 * gid + 4) : 2 * view.getUint16(loca + 2 * gid + 2);
    return [glyf.offset + start, glyf.offset + Math.max(start, end)];
  }

  /** Calls `f` with each component glyph id of a composite glyph and the position of that id in the glyph's bytes. */
  private forEachComponent(gid: number, f: (component: number, pos: number) => void): void {
    const [start, end] = this.glyphRange(gid);
    const { view } = this.sfnt;
    if (end - start < 10 || view.getInt16(start) >= 0) return;
    let pos = 10;
    for (;;) {
      const flags = view.getUint16(start + pos);
      f(view.getUint16(start + pos + 2), pos + 2);
      pos += 4 + (flags & ARG_1_AND_2_ARE_WORDS ? 4 : 2);
      if (flags & WE_HAVE_A_SCALE) pos += 2;
      else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) pos += 4;
      else if (flags & WE_HAVE_A_TWO_BY_TWO) pos += 8;
      if (!(flags & MORE_COMPONENTS) || start + pos + 4 > end) return;
    }
  }

  /** hmtx: glyphs past numberOfHMetrics repeat the last advance and have only a left side bearing. */
  private metrics(gid: number): { advance: number; bearing: number } {
    const { view, hmtx, numberOfHMetrics: h } = this.sfnt;
    if (gid < h) return { advance: view.getUint16(hmtx + 4 * gid), bearing: view.getInt16(hmtx + 4 * gid + 2) };
    return { advance: view.getUint16(hmtx + 4 * (h - 1)), bearing: view.getInt16(hmtx + 4 * h + 2 * (gid - h)) };
  }
}

const pad4 = (n: number) => (n + 3) & ~3;

/** The sum of a table's (or a whole font's) big-endian uint32 words, zero-padded, modulo 2^32. */
function checksum(b: Uint8Array): number {
  let sum = 0;
  const words = b.length >> 2;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < words; i++) sum = (sum + view.getUint32(4 * i)) >>> 0;
  if (b.length & 3) {
    let last = 0;
    for (let i = words * 4; i < words * 4 + 4; i++) last = (last << 8) | (i < b.length ? b[i]! : 0);
    sum = (sum + (last >>> 0)) >>> 0;
  }
  return sum;
}

/** An sfnt file from its tables: the table directory (tags in ascending order) and the 4-byte aligned tables. */
function writeSfnt(tables: ReadonlyMap<string, Uint8Array>): { font: Uint8Array; offsets: Map<string, number> } {
  const tags = [...tables.keys()].sort();
  const n = tags.length;
  let size = 12 + 16 * n;
  for (const t of tags) size += pad4(tables.get(t)!.length);
  const font = new Uint8Array(size);
  const view = new DataView(font.buffer);
  const pow = 2 ** Math.floor(Math.log2(n));
  view.setUint32(0, 0x00010000);
  view.setUint16(4, n);
  view.setUint16(6, pow * 16); // searchRange
  view.setUint16(8, Math.log2(pow)); // entrySelector
  view.setUint16(10, n * 16 - pow * 16); // rangeShift
  const offsets = new Map<string, number>();
  let at = 12 + 16 * n;
  tags.forEach((tag, i) => {
    const data = tables.get(tag)!;
    const rec = 12 + 16 * i;
    offsets.set(tag, at);
    for (let k = 0; k < 4; k++) font[rec + k] = tag.charCodeAt(k);
    view.setUint32(rec + 4, checksum(data));
    view.setUint32(rec + 8, at);
    view.setUint32(rec + 12, data.length);
    font.set(data, at);
    at += pad4(data.length);
  });
  return { font, offsets };
}
