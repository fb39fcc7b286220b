/**
 * Seals as 1-bit stencil masks (/ImageMask) in their ink colour, at 600 dpi. A seal is one colour: an RGB image
 * with an 8-bit soft mask at 300 dpi cost ~50 KB a seal in every certificate; the stencil costs a few KB and
 * prints sharper (600 dpi is the printers' resolution). The colour is the seal's own mean ink colour.
 */
import { concatTransformationMatrix, drawObject, type PDFDocument, PDFName, type PDFPage, popGraphicsState, pushGraphicsState, setFillingRgbColor, setGraphicsState } from '../pdf/lib.js';
import { requireCjs } from '../core/cjs.js';
import { SkillcertError } from '../core/errors.js';

export interface Stencil {
  /** Packed 1-bit rows, MSB first, 1 = ink. */
  readonly bits: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Ink colour, 0-1 per channel. */
  readonly colour: [number, number, number];
}

const MM_PER_INCH = 25.4;

/** Reads a seal PNG (with transparency) into a stencil sized for a box of `wMm` × `hMm` at `dpi`. */
export async function sealStencil(png: Uint8Array, wMm: number, hMm: number, source: string, dpi = 600): Promise<Stencil> {
  const width = Math.round((wMm / MM_PER_INCH) * dpi);
  const height = Math.round((hMm / MM_PER_INCH) * dpi);
  // Loaded here, not with the module: the certificate workers draw stencils (drawStencil) but never make one, and
  // sharp costs a thread ~0.05 s of CPU to load (required, core/cjs.ts; imported ~0.17 s).
  const sharp = requireCjs('sharp') as typeof import('sharp').default;
  let raw: Buffer;
  try {
    raw = await sharp(png, { limitInputPixels: 40_000_000 })
      .resize({ width, height, fit: 'contain', background: { r: 255, g: 255, b: 255, alpha: 0 }, kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer();
  } catch (err) {
    throw new SkillcertError('E_PROFILE', `seal ${source} is not a readable image: ${(err as Error).message}`, { field: 'seals' }, { cause: err });
  }
  const stride = Math.ceil(width / 8);
  const bits = new Uint8Array(stride * height);
  let r = 0, g = 0, b = 0, n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      // A scan without transparency: dark-enough pixels are ink.
      const ink = raw[i + 3]! >= 128 && raw[i]! + raw[i + 1]! + raw[i + 2]! < 3 * 235;
      if (!ink) continue;
      bits[y * stride + (x >> 3)]! |= 0x80 >> (x & 7);
      r += raw[i]!; g += raw[i + 1]!; b += raw[i + 2]!; n++;
    }
  }
  if (n === 0) throw new SkillcertError('E_PROFILE', `seal ${source} has no visible ink (every pixel transparent or white)`, { field: 'seals' });
  return { bits, width, height, colour: [r / n / 255, g / n / 255, b / n / 255] };
}

/**
 * Adds the stencil to the page's resources under `name` as a form XObject that paints the mask in its ink colour
 * (and opacity), without drawing it: any page made from this one can then draw it by name alone.
 */
export function addStencil(doc: PDFDocument, page: PDFPage, name: string, s: Stencil, opacity = 1): void {
  const ctx = doc.context;
  const image = ctx.register(
    ctx.flateStream(s.bits, { Type: 'XObject', Subtype: 'Image', Width: s.width, Height: s.height, ImageMask: true, BitsPerComponent: 1, Decode: [1, 0] }),
  );
  const form = ctx.formXObject(
    [pushGraphicsState(), ...(opacity < 1 ? [setGraphicsState('GS')] : []), setFillingRgbColor(...s.colour), drawObject('Im'), popGraphicsState()],
    {
      BBox: [0, 0, 1, 1],
      Resources: { XObject: { Im: image }, ...(opacity < 1 ? { ExtGState: { GS: { Type: 'ExtGState', ca: opacity, CA: opacity } } } : {}) },
    },
  );
  page.node.setXObject(PDFName.of(name), ctx.register(form));
}

/** Draws a stencil added with addStencil into a rectangle in PDF points (on a pdf-lib page or the overlay). */
export function drawStencil(page: Pick<PDFPage, 'pushOperators'>, name: string, rect: { x: number; y: number; width: number; height: number }): void {
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(rect.width, 0, 0, rect.height, rect.x, rect.y), drawObject(name), popGraphicsState());
}
