/**
 * The CBOR the QR code's signer writes (RFC 8949 §4.2.2 preferred serialisation: every head in its shortest form;
 * maps in the order given): unsigned and negative safe integers, text and byte strings, arrays, maps and tags —
 * the whole of what a COSE_Sign1 of the payload holds. Decoding, which meets other people's bytes, stays cbor2's.
 *
 * Why not cbor2's encode, which wrote these bytes before: it builds a Writer from its 23 options for every call, and
 * another for each map key, ~40 µs each (`new Writer({...defaultEncodeOptions})` 37-44 µs against 3 µs with no
 * options, measured on the 2-core VM): 50-110 µs a value, ~0.5 ms of a certificate's ~10 in the worker for three
 * values of a hundred bytes. test/stamp/cbor.test.ts checks the bytes against cbor2's for every shape written here.
 */

/** A CBOR tag around a value (COSE_Sign1 is tag 18). */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export type CborValue = number | string | Uint8Array | readonly CborValue[] | ReadonlyMap<number | string, CborValue> | CborTag;

const text = new TextEncoder();

function head(out: number[], major: number, n: number): void {
  const m = major << 5;
  if (n < 24) out.push(m | n);
  else if (n < 0x100) out.push(m | 24, n);
  else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff);
  else if (n < 0x100000000) out.push(m | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  else {
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    out.push(m | 27, hi >>> 24, (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff);
  }
}

function write(out: number[], v: CborValue): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`Expected a safe integer for CBOR but received ${v}`);
    if (v >= 0) head(out, 0, v);
    else head(out, 1, -1 - v);
  } else if (typeof v === 'string') {
    const bytes = text.encode(v);
    head(out, 3, bytes.length);
    for (const b of bytes) out.push(b);
  } else if (v instanceof Uint8Array) {
    head(out, 2, v.length);
    for (const b of v) out.push(b);
  } else if (v instanceof CborTag) {
    head(out, 6, v.tag);
    write(out, v.value);
  } else if (v instanceof Map) {
    head(out, 5, v.size);
    for (const [k, x] of v) {
      write(out, k);
      write(out, x);
    }
  } else if (Array.isArray(v)) {
    head(out, 4, v.length);
    for (const x of v) write(out, x);
  } else {
    throw new TypeError(`Expected a CBOR value of the QR payload's kinds but received ${Object.prototype.toString.call(v)}`);
  }
}

export function encodeCbor(v: CborValue): Buffer {
  const out: number[] = [];
  write(out, v);
  return Buffer.from(out);
}
