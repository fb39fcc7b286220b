/**
 * The bitstring of a W3C Bitstring Status List v1.0 (https://www.w3.org/TR/vc-bitstring-status-list/): one bit
 * per certificate, at the certificate's status list index (QR claim 8); a set bit means "revoked" in the
 * revocation list and "suspended" in the suspension list.
 *
 * encodedList = "u" + base64url(gzip(bitstring)) (Multibase base64url without padding), index 0 = the most
 * significant bit of byte 0, at least 131,072 bits (16 KB) so that one list hides each certificate among many
 * (herd privacy: a verifier fetches the whole list, never asks about one certificate).
 *
 * Pure: no `node:` import. gzip is the platform's CompressionStream / DecompressionStream (Node 18+, every current
 * browser), base64url is jose's (which runs in both too), so the verification page runs this same file.
 */
import { base64url } from 'jose';
import { SkillcertError } from '../core/errors.js';

/** The W3C minimum length, in bits: 16 KB. */
export const STATUS_LIST_BITS = 131_072;

/**
 * The longest list a verifier accepts once decompressed: 16 MB = 134 million certificates of one organisation,
 * far above any; gzip of zeros shrinks ~1000 times, so a small download must not be allowed to fill memory.
 */
export const MAX_LIST_BYTES = 16 * 1024 * 1024;

const fail = (message: string): never => {
  throw new SkillcertError('E_VERIFY', message, { field: 'encodedList' });
};

/** The list size for an organisation whose highest index is `highest`: the minimum, or whole multiples of it. */
export function listBits(highest: number | undefined): number {
  if (highest === undefined || highest < 0) return STATUS_LIST_BITS;
  return Math.ceil((highest + 1) / STATUS_LIST_BITS) * STATUS_LIST_BITS;
}

/** The bitstring with the given indexes set, gzip-compressed, as a Multibase base64url string ("u…"). */
export async function encodeList(indexes: Iterable<number>, bits: number = STATUS_LIST_BITS): Promise<string> {
  if (!Number.isInteger(bits) || bits < STATUS_LIST_BITS || bits % 8 !== 0) {
    throw new RangeError(`Expected a list length of at least ${STATUS_LIST_BITS} bits, a multiple of 8, but received ${bits}`);
  }
  const list = new Uint8Array(bits / 8);
  for (const index of indexes) {
    if (!Number.isInteger(index) || index < 0 || index >= bits) {
      throw new RangeError(`Expected a status list index from 0 to ${bits - 1} but received ${index}`);
    }
    list[index >> 3]! |= 0x80 >> (index & 7);
  }
  const gzipped = await new Response(new Blob([list]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
  return `u${base64url.encode(new Uint8Array(gzipped))}`;
}

/** The bitstring of an encodedList; throws E_VERIFY when it is not base64url gzip, too short or too long. */
export async function decodeList(encoded: string): Promise<Uint8Array> {
  if (typeof encoded !== 'string' || !encoded.startsWith('u')) fail('the status list is not Multibase base64url (it must start with "u")');
  let gzipped: Uint8Array;
  try {
    gzipped = base64url.decode(encoded.slice(1));
  } catch {
    return fail('the status list is not valid base64url');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = new Blob([gzipped]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      size += r.value.byteLength;
      if (size > MAX_LIST_BYTES) {
        await reader.cancel();
        fail(`the status list decompresses to more than ${MAX_LIST_BYTES} bytes; it is not a list this verifier accepts`);
      }
      chunks.push(r.value);
    }
  } catch (err) {
    if (err instanceof SkillcertError) throw err;
    fail(`the status list is not valid gzip: ${(err as Error).message}`);
  }
  if (size * 8 < STATUS_LIST_BITS) fail(`the status list has ${size * 8} bits, fewer than the ${STATUS_LIST_BITS} a list must have (herd privacy)`);
  const list = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    list.set(c, at);
    at += c.byteLength;
  }
  return list;
}

/** The bit at `index` (0 = most significant bit of byte 0); a RangeError when the list is shorter. */
export function bitAt(list: Uint8Array, index: number): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= list.length * 8) {
    throw new RangeError(`Expected a status list index from 0 to ${list.length * 8 - 1} but received ${index}`);
  }
  return (list[index >> 3]! & (0x80 >> (index & 7))) !== 0;
}
