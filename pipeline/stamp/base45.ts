/**
 * Base45 (RFC 9285), the encoding of the EU Digital COVID Certificate: its 45 characters are exactly the
 * QR alphanumeric set, so the payload packs 5.5 bits per character instead of 8 in byte mode.
 * Written here rather than taken from the `base45` package because that decoder silently accepts
 * characters outside the alphabet and triplets above 65535, which RFC 9285 §4.2 requires to be rejected.
 */
export const BASE45_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

const VALUE = new Map([...BASE45_ALPHABET].map((c, i) => [c, i]));

export function encodeBase45(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i]! * 256 + bytes[i + 1]!;
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    out += BASE45_ALPHABET[c]! + BASE45_ALPHABET[d]! + BASE45_ALPHABET[e]!;
  }
  if (bytes.length % 2 === 1) {
    const n = bytes[bytes.length - 1]!;
    out += BASE45_ALPHABET[n % 45]! + BASE45_ALPHABET[Math.floor(n / 45)]!;
  }
  return out;
}

export function decodeBase45(text: string): Buffer {
  if (text.length % 3 === 1) throw new RangeError(`Expected a base45 string whose length is not 1 mod 3 but received ${text.length} characters`);
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3);
    const v = [...chunk].map((ch, j) => {
      const x = VALUE.get(ch);
      if (x === undefined) throw new RangeError(`invalid base45 character ${JSON.stringify(ch)} at ${i + j}`);
      return x;
    });
    if (v.length === 3) {
      const n = v[0]! + v[1]! * 45 + v[2]! * 2025;
      if (n > 0xffff) throw new RangeError(`base45 triplet ${JSON.stringify(chunk)} at ${i} is ${n}, above 65535`);
      out.push(n >> 8, n & 0xff);
    } else {
      const n = v[0]! + v[1]! * 45;
      if (n > 0xff) throw new RangeError(`base45 pair ${JSON.stringify(chunk)} at ${i} is ${n}, above 255`);
      out.push(n);
    }
  }
  return Buffer.from(out);
}
