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
import { PDFContext, PDFFlateStream } from 'pdf-lib';

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
    return this.stream(deflateSync(bytes), { ...dict, Filter: 'FlateDecode' });
  };

  interface FlateInternals {
    readonly encode: boolean;
    readonly contentsCache: { populate: () => Uint8Array };
    getUnencodedContents(): Uint8Array;
  }
  const flate = PDFFlateStream.prototype as unknown as Record<'getContents' | 'getContentsSize', (this: FlateInternals) => unknown>;
  for (const method of ['getContents', 'getContentsSize'] as const) {
    const original = flate[method]!;
    flate[method] = function (this: FlateInternals) {
      this.contentsCache.populate = () => {
        const raw = this.getUnencodedContents();
        return this.encode ? deflateSync(raw) : raw;
      };
      return original.call(this);
    };
  }
}
