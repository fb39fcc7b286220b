/**
 * The QR code read from the page's own drawing operators, not from a render: stamp/qr.ts drawQr paints the symbol
 * as one fill of axis-aligned rectangles on a white quiet zone. The rectangles around the QR box are painted, in
 * drawing order, into a small bitmap (so a symbol pasted over another one is what is read, as on paper); the
 * module grid is rebuilt from it (the symbol's dark bounding box and the narrowest rectangle give the module
 * size) and the module matrix is decoded by ZXing's QR decoder. A box that holds anything but
 * rectangle fills (an image, text, a curve, a shading) is "not vector": the caller renders the page instead.
 */
import { createRequire } from 'node:module';
import { intersects, markHits, type Box, type Mark, type PageDrawing, type Rect } from './page.js';

export type VectorQr =
  | { readonly ok: true; readonly text: string; readonly modules: number; readonly rectangles: number }
  | { readonly ok: false; readonly reason: string };

const NOT_RECTANGLES: Record<Mark['kind'], string> = {
  fill: 'a filled shape that is not rectangles', stroke: 'a stroked path', image: 'an image', shading: 'a shading', annotation: 'an annotation', 'hiding text': 'text',
};
/** No certificate QR has modules below 0.2 pt (0.07 mm): smaller rectangles are not a printed symbol. */
const MIN_MODULE_PT = 0.2;

/** Decodes the QR code drawn within `area` (page space, points: the sheet's QR box with its quiet zone). */
export function qrFromDrawing(drawing: PageDrawing, area: Box): VectorQr {
  const rects: { r: Rect; dark: boolean }[] = [];
  for (const m of drawing.marks) {
    if (!markHits(m, area)) continue;
    if (m.kind !== 'fill' || !m.rects) return { ok: false, reason: `the QR box holds ${NOT_RECTANGLES[m.kind]}` };
    for (const r of m.rects) rects.push({ r, dark: m.dark === true });
  }
  if (drawing.glyphs.some((g) => intersects(g.box, area))) return { ok: false, reason: 'the QR box holds text' };
  // A version-40 symbol has 31,329 modules; more rectangles than that are no symbol drawn by a certificate writer.
  if (rects.length > 40_000) return { ok: false, reason: `${rects.length} rectangles are drawn in the QR box` };
  const dark = rects.filter((x) => x.dark && x.r.w > 0 && x.r.h > 0);
  if (dark.length === 0) return { ok: false, reason: 'no dark rectangles are drawn in the QR box' };
  let unit = Infinity;
  for (const { r } of dark) unit = Math.min(unit, r.w, r.h);
  if (unit < MIN_MODULE_PT) return { ok: false, reason: `a rectangle of ${unit.toFixed(3)} pt is smaller than any printed QR module` };

  // Paint everything in drawing order at 4 samples a module, then read the symbol off that picture.
  const scale = 4 / unit;
  const w = Math.ceil((area.x1 - area.x0) * scale);
  const h = Math.ceil((area.y1 - area.y0) * scale);
  if (w * h > 4_000_000) return { ok: false, reason: 'the QR box is too finely drawn to read' };
  const pic = new Uint8Array(w * h);
  for (const { r, dark: d } of rects) {
    const c0 = Math.max(0, Math.round((r.x - area.x0) * scale));
    const c1 = Math.min(w, Math.round((r.x + r.w - area.x0) * scale));
    const r0 = Math.max(0, Math.round((area.y1 - (r.y + r.h)) * scale));
    const r1 = Math.min(h, Math.round((area.y1 - r.y) * scale));
    for (let row = r0; row < r1; row++) pic.fill(d ? 1 : 0, row * w + c0, row * w + Math.max(c0, c1));
  }
  // The symbol: the bounding box of what is dark in the final picture (the finder patterns sit in three corners).
  let top = h, bottom = -1, left = w, right = -1;
  for (let row = 0; row < h; row++) {
    const line = pic.subarray(row * w, row * w + w);
    const first = line.indexOf(1);
    if (first < 0) continue;
    const last = line.lastIndexOf(1);
    top = Math.min(top, row);
    bottom = row;
    left = Math.min(left, first);
    right = Math.max(right, last);
  }
  if (bottom < 0) return { ok: false, reason: 'nothing dark is left visible in the QR box' };
  // The module size from the top-left finder pattern: its top edge is a dark run of 7 modules. (Not from the
  // narrowest rectangle: rectangles of a symbol painted over may be narrower than the visible symbol's modules.)
  let run = 0;
  while (left + run <= right && pic[top * w + left + run] === 1) run++;
  const modulePx = run / 7;
  const estimate = (right - left + 1) / modulePx;
  const estimateY = (bottom - top + 1) / modulePx;
  // The run is whole pixels: snap to the nearest symbol size (17 + 4 × version) that both sides agree with.
  const size = 17 + 4 * Math.round((estimate - 17) / 4);
  if (Math.abs(estimate - size) > 1.5 || Math.abs(estimateY - size) > 1.5 || size < 21 || size > 177) {
    return { ok: false, reason: `the dark area of the QR box is ${estimate.toFixed(1)} × ${estimateY.toFixed(1)} modules, not a QR symbol (21-177 modules a side, 17 + 4 × version)` };
  }
  // The module matrix, sampled at each module's centre.
  const matrix = new Uint8Array(size * size);
  const cell = (right - left + 1) / size;
  const cellY = (bottom - top + 1) / size;
  for (let mr = 0; mr < size; mr++) {
    const py = Math.min(h - 1, Math.floor(top + (mr + 0.5) * cellY));
    for (let mc = 0; mc < size; mc++) matrix[mr * size + mc] = pic[py * w + Math.min(w - 1, Math.floor(left + (mc + 0.5) * cell))]!;
  }
  const text = decodeMatrix(matrix, size);
  if (text === undefined) return { ok: false, reason: `the ${size} × ${size} module matrix drawn in the QR box does not decode` };
  return { ok: true, text, modules: size, rectangles: dark.length };
}

/**
 * ZXing's QR decoder and the few classes that feed it, required one by one: the package's index loads every format
 * and the browser readers (300-380 ms of CPU at each start of `skillcert verify` and of each service thread,
 * against 60-80 ms for these). The package has no exports map; its CommonJS build is the one pinned in package-lock.json.
 */
const zxing = createRequire(import.meta.url);
const { default: QRCodeReader } = zxing('@zxing/library/cjs/core/qrcode/QRCodeReader.js') as typeof import('@zxing/library/cjs/core/qrcode/QRCodeReader.js');
const { default: BinaryBitmap } = zxing('@zxing/library/cjs/core/BinaryBitmap.js') as typeof import('@zxing/library/cjs/core/BinaryBitmap.js');
const { default: GlobalHistogramBinarizer } = zxing('@zxing/library/cjs/core/common/GlobalHistogramBinarizer.js') as typeof import('@zxing/library/cjs/core/common/GlobalHistogramBinarizer.js');
const { default: RGBLuminanceSource } = zxing('@zxing/library/cjs/core/RGBLuminanceSource.js') as typeof import('@zxing/library/cjs/core/RGBLuminanceSource.js');
const { default: DecodeHintType } = zxing('@zxing/library/cjs/core/DecodeHintType.js') as typeof import('@zxing/library/cjs/core/DecodeHintType.js');

const reader = new QRCodeReader();
const PURE = new Map<(typeof DecodeHintType)[keyof typeof DecodeHintType], unknown>([
  [DecodeHintType.PURE_BARCODE, true],
  [DecodeHintType.CHARACTER_SET, 'UTF-8'],
]);

/**
 * The module matrix decoded by ZXing's QR decoder as a "pure barcode" (a picture of 1 px a module with a 4-module
 * quiet zone: the modules are read off it, no finder search): format and version information, unmasking, Reed-
 * Solomon correction and the segments, as a scanner does after it has located the symbol. jsQR, which this
 * replaced, has no entry for a known matrix and spent ~7 ms of a verification's ~30 in its finder search.
 */
function decodeMatrix(matrix: Uint8Array, size: number): string | undefined {
  const side = size + 8;
  const luminance = new Uint8ClampedArray(side * side).fill(255);
  for (let mr = 0; mr < size; mr++) {
    for (let mc = 0; mc < size; mc++) if (matrix[mr * size + mc] === 1) luminance[(mr + 4) * side + mc + 4] = 0;
  }
  try {
    return reader.decode(new BinaryBitmap(new GlobalHistogramBinarizer(new RGBLuminanceSource(luminance, side, side))), PURE).getText();
  } catch {
    // ZXing throws its own exceptions (NotFound, Checksum, Format) for a matrix that is no readable symbol.
    return undefined;
  }
}
