/**
 * pdf-lib compresses streams with pako, a JavaScript deflate: it deflated font subsets, images and content streams
 * in JS (a fifth of a certificate's time in the first profile; most of the bundle's receipts and sign-off sheets,
 * whose content streams hold thousands of lines). Node's zlib does the same in native code. The output is a
 * standard FlateDecode stream either way.
 *
 * Two places deflate: PDFContext.flateStream (fonts, images) and PDFFlateStream, the base of content, object and
 * cross-reference streams, whose contents cache is filled by a pako call bound in its constructor: the cache is
 * pointed at zlib the first time it is read.
 */
import { deflateSync } from 'node:zlib';
import { PDFContext, PDFFlateStream } from '../pdf/lib.js';

/** The deflate of nothing (an empty stream), made once. */
const EMPTY = deflateSync(new Uint8Array(0), { windowBits: 9, memLevel: 3 });

/**
 * Deflate sized to the input: zlib's default state (a 32 KB window and a 128 KB hash, ~256 KB allocated and cleared per
 * call) costs more than compressing a certificate's small streams (a content stream of 1 KB, font subsets of 5-10 KB);
 * a window just larger than the input gives the same bytes in about half the time (35 against 69 µs for 1 KB).
 *
 * `level`: zlib's default 6 for what is deflated once (the template, the bundle's pages); a certificate's own streams
 * pass CERTIFICATE_LEVEL.
 */
export function flate(bytes: Uint8Array, level = 6): Buffer {
  // An empty stream (the signature widget's blank appearance) is always the same 8 bytes: no zlib state for it.
  if (bytes.length === 0) return Buffer.from(EMPTY);
  const windowBits = Math.max(9, Math.min(15, Math.ceil(Math.log2(bytes.length + 262))));
  return deflateSync(bytes, { level, windowBits, memLevel: Math.max(1, Math.min(8, windowBits - 6)) });
}

/**
 * Level 3 for the streams written anew for every certificate (two font subsets and their ToUnicode maps, the
 * overlay's content of ~15 KB, most of it the QR code's rectangles): level 6 took ~850 µs for 13.6 KB, level 3
 * ~520 µs for 14.0 KB (level 1: ~430 µs, 14.6 KB) — a third of the deflate time for 0.7 % of the file
 * (the mean certificate 97,779 → 98,466 bytes).
 */
export const CERTIFICATE_LEVEL = 3;

let done = false;

export function useNativeDeflate(): void {
  if (done) return;
  done = true;
  const proto = PDFContext.prototype as unknown as {
    stream(contents: Uint8Array, dict: Record<string, unknown>): unknown;
    flateStream(contents: Uint8Array | string, dict?: Record<string, unknown>): unknown;
  };
  proto.flateStream = function (this: typeof proto, contents, dict = {}) {
    const bytes = typeof contents === 'string' ? Buffer.from(contents, 'latin1') : contents;
    return this.stream(flate(bytes), { ...dict, Filter: 'FlateDecode' });
  };

  interface FlateInternals {
    readonly encode: boolean;
    readonly contentsCache: { populate: () => Uint8Array };
    getUnencodedContents(): Uint8Array;
  }
  const flateProto = PDFFlateStream.prototype as unknown as Record<'getContents' | 'getContentsSize', (this: FlateInternals) => unknown>;
  for (const method of ['getContents', 'getContentsSize'] as const) {
    const original = flateProto[method]!;
    flateProto[method] = function (this: FlateInternals) {
      this.contentsCache.populate = () => {
        const raw = this.getUnencodedContents();
        return this.encode ? flate(raw) : raw;
      };
      return original.call(this);
    };
  }
}
