/** The claim map of a QR text, read with cbor2 apart from the codec under test. */
import { decode, Tag } from 'cbor2';
import { decodeBase45 } from '../../pipeline/stamp/base45.js';
import { QR_PREFIX } from '../../pipeline/stamp/qr.js';

export function cborEncodedClaims(text: string): Map<number, unknown> {
  const cose = decode(decodeBase45(text.slice(text.indexOf(`#${QR_PREFIX}`) + 1 + QR_PREFIX.length))) as Tag;
  const payload = (cose.contents as Uint8Array[])[2]!;
  return decode(payload, { preferMap: true }) as Map<number, unknown>;
}
