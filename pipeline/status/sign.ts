/**
 * The signing side of the status lists (Node): the organisation's key signs the credential built by
 * credential.ts, with its certificate in x5c so that a verifier holding only the trust list can check it.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { CompactSign } from 'jose';
import { encodeList } from './bitstring.js';
import { STATUS_LIST_TYP, statusListCredential, type StatusPurpose } from './credential.js';

/** The organisation's key and certificate (LoadedSigner from pipeline/sign fits, as for the QR code). */
export interface StatusListSigner {
  readonly key: KeyObject;
  readonly certificate: X509Certificate;
}

export interface StatusListInput {
  readonly orgCode: string;
  readonly purpose: StatusPurpose;
  /** The indexes whose bit is set (revoked, or suspended). */
  readonly indexes: Iterable<number>;
  /** The list length in bits (listBits of the highest index allocated); default the W3C minimum. */
  readonly bits?: number;
  readonly validFrom: Date;
  readonly validUntil: Date;
}

/** ES256 for an EC P-256 key, PS256 for RSA: the algorithms the QR code uses with the same keys. */
export function statusListAlg(key: KeyObject): 'ES256' | 'PS256' {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1' && curve !== 'P-256') throw new RangeError(`Expected an EC P-256 key for ES256 but received curve ${String(curve)}`);
    return 'ES256';
  }
  if (key.asymmetricKeyType === 'rsa') return 'PS256';
  throw new RangeError(`Expected an EC P-256 or RSA key for the status list signature but received ${String(key.asymmetricKeyType)}`);
}

/** The compact JWS of one organisation's status list for one purpose. */
export async function signStatusList(input: StatusListInput, signer: StatusListSigner): Promise<string> {
  const alg = statusListAlg(signer.key);
  const encodedList = await encodeList(input.indexes, input.bits);
  const vc = statusListCredential({ orgCode: input.orgCode, purpose: input.purpose, encodedList, validFrom: input.validFrom, validUntil: input.validUntil });
  return new CompactSign(new TextEncoder().encode(JSON.stringify(vc)))
    .setProtectedHeader({ alg, typ: STATUS_LIST_TYP, x5c: [signer.certificate.raw.toString('base64')] })
    .sign(signer.key);
}
