/**
 * pdf-lib compresses streams with pako, a JavaScript deflate: for every certificate it deflated its font subsets
 * and images in JS (a fifth of a certificate's time in the profile). Node's zlib does the same in native code.
 * The output is a standard FlateDecode stream either way.
 */
import { deflateSync } from 'node:zlib';
import { PDFContext } from 'pdf-lib';

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
}
