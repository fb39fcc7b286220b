/**
 * DER by hand, for the two places on the per-certificate path where a profile showed asn1js/pkijs as the cost:
 * assembling a CMS from parts encoded once (sign/cms.ts: the pkijs object tree cost ~8 ms a file) and reading a
 * TSA's answer (sign/tsa.ts: pkijs's parse ~11 ms a token, asn1js's alone ~3 ms, because both build an object for
 * every node of the certificates inside). Everything else reads and writes ASN.1 with asn1js / pkijs (pki/asn1.ts).
 * Definite lengths only: DER, which is what RFC 3161 and CMS signers send.
 */

/** A DER length: short form below 128, else the long form with its byte count. */
export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: tag, length, and the concatenated contents. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, OID: 0x06, SEQUENCE: 0x30, SET: 0x31, CONTEXT_0: 0xa0, CONTEXT_1: 0xa1 } as const;

/** An element found in a buffer: its tag byte, where it starts, where its value starts, where it ends. */
export interface Element {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** The element at `at` (single-byte tags, definite lengths); throws naming `what` when it is not one. */
export function elementAt(bytes: Uint8Array, at: number, what: string, limit = bytes.length): Element {
  if (at + 2 > limit) throw new Error(`${what}: truncated`);
  const tag = bytes[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error(`${what}: multi-byte tags are not expected here`);
  const first = bytes[at + 1]!;
  let length = first;
  let valueStart = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0) throw new Error(`${what}: an indefinite length (BER), not DER`);
    if (n > 4 || at + 2 + n > limit) throw new Error(`${what}: a bad length`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[at + 2 + i]!;
    valueStart = at + 2 + n;
  }
  const end = valueStart + length;
  if (end > limit) throw new Error(`${what}: ${length} bytes announced, ${limit - valueStart} there`);
  return { tag, start: at, valueStart, end };
}

/** The elements inside a constructed element, in order. */
export function elementsIn(bytes: Uint8Array, parent: Element, what: string): Element[] {
  if (!(parent.tag & 0x20)) throw new Error(`${what}: expected a constructed element`);
  const out: Element[] = [];
  for (let at = parent.valueStart; at < parent.end; ) {
    const e = elementAt(bytes, at, `${what}[${out.length}]`, parent.end);
    out.push(e);
    at = e.end;
  }
  return out;
}

/** The element's value bytes (a view, not a copy). */
export const valueOf = (bytes: Uint8Array, e: Element): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset + e.valueStart, e.end - e.valueStart);

/** The whole element's bytes, header included (a view). */
export const bytesOf = (bytes: Uint8Array, e: Element): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset + e.start, e.end - e.start);

/** A small non-negative INTEGER's value. */
export function smallIntOf(bytes: Uint8Array, e: Element, what: string): number {
  if (e.tag !== TAG.INTEGER || e.end - e.valueStart > 6) throw new Error(`${what}: expected a small INTEGER`);
  return valueOf(bytes, e).reduce((n, b) => n * 256 + b, 0);
}
