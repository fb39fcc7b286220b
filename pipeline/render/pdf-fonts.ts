/**
 * pdf-lib ↔ fontkit 2 adapter, for the documents still drawn with pdf-lib (the bundle's receipts and forms).
 * pdf-lib expects the fontkit 1 API of its fork `@pdf-lib/fontkit`, whose 1.1.1 corrupts CJK subsets (pdf-lib
 * issue 1232); upstream fontkit 2 subsets correctly but names `encodeStream()` `encode()`. The adapter also hands
 * pdf-lib the font already parsed by the FontSet instead of parsing the bytes again for every document (~60 ms for
 * a CJK face), and subsets TrueType faces by copying glyph bytes (subset.ts) instead of through fontkit.
 */
import { Readable } from 'node:stream';
import * as fontkit from '../fonts/fontkit.js';
import type { PDFDocument } from '../pdf/lib.js';
import type { Face } from '../fonts/index.js';
import { useNativeDeflate } from './pdf-native.js';
import { hasTrueTypeOutlines, TrueTypeSubset } from './subset.js';

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];

// Every document that embeds our fonts goes through this adapter: deflate natively in all of them.
useNativeDeflate();

const faces = new WeakMap<Uint8Array, Face>();
const patched = new WeakSet<object>();

/** Makes `face.bytes` resolve to its parsed font (and its glyph-copying subsets) when pdf-lib embeds it. */
export function rememberFace(face: Face): void {
  faces.set(face.bytes, face);
}

/**
 * pdf-lib encodes text through `font.layout()`, which runs OpenType shaping (GSUB/GPOS of a 29,000-glyph CJK
 * face: most of the time of a certificate) and may apply ligatures and kerning that the layout engine and
 * Chromium do not. Plain code point → glyph mapping with default advances is what both renderers draw.
 */
function plainLayout(font: fontkit.Font) {
  return (text: string) => {
    const glyphs = [...text].map((ch) => font.glyphForCodePoint(ch.codePointAt(0)!));
    const positions = glyphs.map((g) => ({ xAdvance: g.advanceWidth, yAdvance: 0, xOffset: 0, yOffset: 0 }));
    return { glyphs, positions, advanceWidth: positions.reduce((w, p) => w + p.xAdvance, 0) };
  };
}

/** What pdf-lib's CustomFontSubsetEmbedder calls on a subset. */
interface PdfLibSubset {
  includeGlyph(glyph: number | { id: number }): number;
  encodeStream(): Readable;
  readonly cff: boolean;
}

function patch(font: fontkit.Font, face: Face | undefined): fontkit.Font {
  if (patched.has(font)) return font;
  (font as unknown as { layout: unknown }).layout = plainLayout(font);
  const createSubset = font.createSubset.bind(font);
  (font as unknown as { createSubset: () => PdfLibSubset }).createSubset = () => {
    if (face && hasTrueTypeOutlines(face)) {
      const subset = new TrueTypeSubset(face);
      return {
        includeGlyph: (glyph) => subset.include(typeof glyph === 'number' ? glyph : glyph.id),
        encodeStream: () => Readable.from([Buffer.from(subset.encode())]),
        cff: false,
      };
    }
    // fontkit's own subset (CFF outlines); its `cff` is the CFF table, which pdf-lib only tests for truth.
    const subset = createSubset() as unknown as { encode(): Uint8Array } & Omit<PdfLibSubset, 'encodeStream'>;
    return Object.assign(subset, { encodeStream: () => Readable.from([Buffer.from(subset.encode())]) });
  };
  patched.add(font);
  return font;
}

export const fontkitAdapter: Fontkit = {
  create(data: Uint8Array) {
    const face = faces.get(data);
    const font = face?.font ?? (fontkit.create(Buffer.from(data)) as fontkit.Font);
    return patch(font, face) as unknown as ReturnType<Fontkit['create']>;
  },
};
