/**
 * pdf-lib ↔ fontkit 2 adapter. pdf-lib expects the fontkit 1 API of its fork `@pdf-lib/fontkit`, whose 1.1.1
 * corrupts CJK subsets (pdf-lib issue 1232); upstream fontkit 2 subsets correctly but names `encodeStream()`
 * `encode()`. The adapter also hands pdf-lib the font already parsed by the FontSet instead of parsing the
 * bytes again for every document (~60 ms for a CJK face).
 */
import { Readable } from 'node:stream';
import * as fontkit from 'fontkit';
import type { PDFDocument } from 'pdf-lib';
import type { Face } from '../fonts/index.js';

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];

const parsed = new WeakMap<Uint8Array, fontkit.Font>();
const patched = new WeakSet<object>();

/** Makes `face.bytes` resolve to its parsed font when pdf-lib embeds it. */
export function rememberFace(face: Face): void {
  parsed.set(face.bytes, face.font);
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

function patchSubset(font: fontkit.Font): fontkit.Font {
  if (patched.has(font)) return font;
  (font as unknown as { layout: unknown }).layout = plainLayout(font);
  const createSubset = font.createSubset.bind(font);
  (font as unknown as { createSubset: () => unknown }).createSubset = () => {
    const subset = createSubset() as unknown as { encode(): Uint8Array; encodeStream?: () => Readable };
    subset.encodeStream = () => Readable.from([Buffer.from(subset.encode())]);
    return subset;
  };
  patched.add(font);
  return font;
}

export const fontkitAdapter: Fontkit = {
  create(data: Uint8Array) {
    const font = parsed.get(data) ?? (fontkit.create(Buffer.from(data)) as fontkit.Font);
    return patchSubset(font) as unknown as ReturnType<Fontkit['create']>;
  },
};
