/**
 * A face embedded as a subset Type 0 font (PDF 32000 §9.7): /Identity-H encoding, CIDs = glyph ids of the subset,
 * widths of the glyphs used, and a ToUnicode CMap from the code points actually drawn, so text extraction gives
 * back exactly the text the layout placed. The same objects pdf-lib writes for a subset custom font, without
 * going through a PDFDocument (render/subset.ts says why the subset itself is made here).
 */
import { CERTIFICATE_LEVEL, flate } from './pdf-native.js';
import { PDFArray, PDFName, PDFNumber, PDFRawStream, PDFString, type PDFContext, type PDFRef } from '../pdf/lib.js';
import { type Face, glyphOf } from '../fonts/index.js';
import { subsetOf, type Subsetter } from './subset.js';
import { remember } from '../core/memo.js';

/** Font-wide values of the font descriptor, in glyph space (1000 units per em), computed once per face. */
interface Descriptor {
  readonly scale: number;
  readonly flags: number;
  readonly bbox: readonly number[];
  readonly italicAngle: number;
  readonly ascent: number;
  readonly descent: number;
  readonly capHeight: number;
  readonly xHeight: number;
}

const descriptors = new WeakMap<Face, Descriptor>();

function descriptorOf(face: Face): Descriptor {
  let d = descriptors.get(face);
  if (d) return d;
  const f = face.font;
  const scale = 1000 / f.unitsPerEm;
  // PDF 32000 §9.8.2 flags as pdf-lib (after pdfkit) derives them: symbolic (not the standard Latin set), serif and
  // script from the OS/2 family class, fixed pitch from post, italic from head.macStyle.
  const familyClass = (f as unknown as { 'OS/2'?: { sFamilyClass?: number } })['OS/2']?.sFamilyClass ?? 0;
  const post = (f as unknown as { post?: { isFixedPitch?: number } }).post;
  const head = (f as unknown as { head?: { macStyle?: { italic?: boolean } } }).head;
  const flags = (post?.isFixedPitch ? 1 : 0) | (familyClass >= 1 && familyClass <= 7 ? 2 : 0) | 4 | (familyClass === 10 ? 8 : 0) | (head?.macStyle?.italic ? 64 : 0);
  d = {
    scale,
    flags,
    bbox: [f.bbox.minX * scale, f.bbox.minY * scale, f.bbox.maxX * scale, f.bbox.maxY * scale],
    italicAngle: f.italicAngle,
    ascent: f.ascent * scale,
    descent: f.descent * scale,
    capHeight: (f.capHeight || f.ascent) * scale,
    xHeight: (f.xHeight || 0) * scale,
  };
  descriptors.set(face, d);
  return d;
}

/** UTF-16BE hex of a code point, as a ToUnicode CMap writes it (a surrogate pair above U+FFFF). */
function utf16Hex(cp: number): string {
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  if (cp < 0x10000) return hex(cp);
  const v = cp - 0x10000;
  return hex(0xd800 + (v >> 10)) + hex(0xdc00 + (v & 0x3ff));
}

/** A subset's streams and widths, the same for every certificate that draws the same code points with the face. */
interface Written {
  readonly file: Buffer;
  readonly length1: number;
  readonly cff: boolean;
  readonly widths: readonly number[];
  readonly toUnicode: Buffer;
}

/**
 * Subsets written, by face and the code points of their CIDs: certificates of one batch draw the same Latin letters
 * and digits again and again (the number, the dates, the occupation's English name), so their Latin subset is made
 * and deflated once, not once a certificate; a name's CJK subset rarely repeats and ages out.
 */
const written = new Map<string, Written>();
const WRITTEN_MAX = 256;

export class EmbeddedFont {
  private readonly subset: Subsetter;
  /** The code point first drawn with each subset glyph (index = CID). */
  private readonly unicode: number[] = [];

  constructor(
    readonly face: Face,
    /** The font's /BaseFont: a subset tag, a plus sign and the PostScript name (§9.6.4). */
    readonly baseFont: string,
    /**
     * Every text this font will encode, when known: their glyphs are numbered by glyph id (each drawn with its
     * lowest code point), so the same code points always make the same subset, which is then written once.
     */
    texts: readonly string[] = [],
  ) {
    this.subset = subsetOf(face);
    const byGlyph = new Map<number, number>();
    for (const text of texts) {
      for (const ch of text) {
        const cp = ch.codePointAt(0)!;
        const gid = glyphOf(face, cp).id;
        const known = byGlyph.get(gid);
        if (known === undefined || cp < known) byGlyph.set(gid, cp);
      }
    }
    for (const [gid, cp] of [...byGlyph].sort((a, b) => a[0] - b[0])) this.unicode[this.subset.include(gid)] ??= cp;
  }

  /** The string operand of Tj for `text`: one two-byte CID per character, in this font's subset. */
  encode(text: string): string {
    let hex = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const cid = this.subset.include(glyphOf(this.face, cp).id);
      this.unicode[cid] ??= cp;
      hex += cid.toString(16).padStart(4, '0');
    }
    return `<${hex}>`;
  }

  /** Registers the font's objects (Type 0 font, CIDFont, descriptor, font file, ToUnicode) in `ctx`. */
  write(ctx: PDFContext): PDFRef {
    const d = descriptorOf(this.face);
    // The CIDs' code points (a composite glyph's components, never drawn, have none) fix the subset's glyphs.
    const key = `${this.face.file}|${this.face.postscriptName}|${Array.from(this.unicode, (cp) => cp ?? '-').join(',')}`;
    const w = remember(written, key, WRITTEN_MAX, (): Written => {
      const file = this.subset.encode();
      const widths: number[] = [];
      for (let cid = 1; cid < this.unicode.length; cid++) widths.push(this.subset.advance(cid) * d.scale);
      return {
        file: flate(file, CERTIFICATE_LEVEL),
        length1: file.length,
        cff: this.subset.cff,
        widths,
        toUnicode: flate(Buffer.from(this.cmap(), 'latin1'), CERTIFICATE_LEVEL),
      };
    });
    const fontFile = ctx.register(PDFRawStream.of(ctx.obj(w.cff ? { Subtype: 'CIDFontType0C', Filter: 'FlateDecode' } : { Length1: w.length1, Filter: 'FlateDecode' }), w.file));
    const descriptor = ctx.register(
      ctx.obj({
        Type: 'FontDescriptor',
        FontName: this.baseFont,
        Flags: d.flags,
        FontBBox: [...d.bbox],
        ItalicAngle: d.italicAngle,
        Ascent: d.ascent,
        Descent: d.descent,
        CapHeight: d.capHeight,
        XHeight: d.xHeight,
        StemV: 0,
        [w.cff ? 'FontFile3' : 'FontFile2']: fontFile,
      }),
    );
    // W: the widths of CIDs 1 to the highest drawn, in one run (the subset numbers glyphs consecutively; a
    // composite glyph's components, never drawn themselves, may sit in between); CID 0 takes /DW.
    const widths = PDFArray.withContext(ctx);
    for (const width of w.widths) widths.push(PDFNumber.of(width));
    const cidFont = ctx.register(
      ctx.obj({
        Type: 'Font',
        Subtype: w.cff ? 'CIDFontType0' : 'CIDFontType2',
        CIDToGIDMap: 'Identity',
        BaseFont: this.baseFont,
        CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
        FontDescriptor: descriptor,
        W: [1, widths],
      }),
    );
    const toUnicode = ctx.register(PDFRawStream.of(ctx.obj({ Filter: 'FlateDecode' }), w.toUnicode));
    return ctx.register(
      ctx.obj({
        Type: 'Font',
        Subtype: 'Type0',
        BaseFont: PDFName.of(this.baseFont),
        Encoding: 'Identity-H',
        DescendantFonts: [cidFont],
        ToUnicode: toUnicode,
      }),
    );
  }

  /** The ToUnicode CMap (Adobe technical note 5411): one bfchar per CID drawn, at most 100 per block. */
  private cmap(): string {
    const entries: string[] = [];
    this.unicode.forEach((cp, cid) => entries.push(`<${cid.toString(16).padStart(4, '0')}> <${utf16Hex(cp)}>`));
    const blocks: string[] = [];
    for (let i = 0; i < entries.length; i += 100) {
      const block = entries.slice(i, i + 100);
      blocks.push(`${block.length} beginbfchar\n${block.join('\n')}\nendbfchar`);
    }
    return [
      '/CIDInit /ProcSet findresource begin',
      '12 dict begin',
      'begincmap',
      '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
      '/CMapName /Adobe-Identity-UCS def',
      '/CMapType 2 def',
      '1 begincodespacerange',
      '<0000> <FFFF>',
      'endcodespacerange',
      ...blocks,
      'endcmap',
      'CMapName currentdict /CMap defineresource pop',
      'end',
      'end',
    ].join('\n');
  }
}
