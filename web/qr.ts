/**
 * The QR code verified in the browser, offline: base45 (pipeline/stamp/base45.ts, shared with the signing side)
 * → COSE_Sign1 (cbor2, the same library the signing side encodes with) → ES256 or PS256 signature checked with
 * WebCrypto against the organisation certificates of trust.json (jose's importX509 reads the certificate).
 * The format is pipeline/stamp/qr.ts's: <address>?n=<number>#SC1:<base45(COSE_Sign1)>, the number bound into the
 * signature as external_aad, the claims a CBOR map with integer keys.
 */
import { decode as cborDecode, encode as cborEncode, Tag } from 'cbor2';
import { importX509 } from 'jose';
import { decodeBase45 } from '../pipeline/stamp/base45.js';

export interface Organisation {
  readonly orgCode: string;
  readonly name: { readonly zh: string; readonly en: string };
  readonly certificates: readonly string[];
}

export interface TrustList {
  readonly organisations: readonly Organisation[];
}

export interface QrClaims {
  readonly number: string;
  readonly name: string;
  readonly idMasked: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: number;
  readonly issueDate: string;
  readonly orgCode: string;
  /** Claim 8, the status list index (absent in older certificates). */
  readonly statusIndex?: number;
}

export interface PageCheck {
  readonly id: string;
  readonly ok: boolean | null;
  readonly message: string;
}

export interface QrResult {
  readonly checks: PageCheck[];
  readonly claims?: QrClaims;
  readonly organisation?: Organisation;
  readonly address?: string;
}

export const QR_PREFIX = 'SC1:';
const ALG: Record<number, 'ES256' | 'PS256'> = { [-7]: 'ES256', [-37]: 'PS256' };

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

interface Parsed {
  readonly address: string;
  readonly number: string;
  readonly alg: 'ES256' | 'PS256';
  readonly kid: Uint8Array;
  readonly claims: QrClaims;
  readonly toBeSigned: Uint8Array;
  readonly signature: Uint8Array;
}

function parse(address: string, number: string, payload: string): Parsed {
  if (!/^[0-9A-Z]{1,40}$/.test(number)) throw new RangeError('the address has no certificate number (?n=…)');
  const cose = decodeBase45(payload);
  const tagged = cborDecode(cose, { preferMap: true }) as unknown;
  if (!(tagged instanceof Tag) || Number(tagged.tag) !== 18 || !Array.isArray(tagged.contents) || tagged.contents.length !== 4) throw new RangeError('the payload is not a COSE_Sign1');
  const [protectedBytes, , payloadBytes, signature] = tagged.contents as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(payloadBytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw new RangeError('the COSE_Sign1 elements are not byte strings');
  const header = cborDecode(protectedBytes, { preferMap: true }) as unknown;
  if (!(header instanceof Map)) throw new RangeError('the COSE protected header is not a map');
  const alg = ALG[header.get(1) as number];
  if (!alg) throw new RangeError(`COSE algorithm ${String(header.get(1))} is not ES256 or PS256`);
  const kid = header.get(4);
  if (!(kid instanceof Uint8Array) || kid.length !== 8) throw new RangeError('the COSE kid is not 8 bytes');
  const claims = cborDecode(payloadBytes, { preferMap: true }) as unknown;
  if (!(claims instanceof Map)) throw new RangeError('the payload is not a CBOR map');
  const str = (k: number) => {
    const v = claims.get(k);
    if (typeof v !== 'string') throw new RangeError(`claim ${k} is missing or not text`);
    return v;
  };
  const level = claims.get(5);
  const date = String(claims.get(6));
  if (![1, 2, 3, 4, 5].includes(level as number) || !/^\d{8}$/.test(date)) throw new RangeError('the level or issue date claim is malformed');
  const index = claims.get(8);
  const statusIndex = typeof index === 'number' && Number.isInteger(index) && index >= 0 ? index : undefined;
  const toBeSigned = cborEncode(['Signature1', protectedBytes, new TextEncoder().encode(number), payloadBytes]);
  return {
    address,
    number,
    alg,
    kid,
    toBeSigned,
    signature,
    claims: {
      number,
      name: str(1),
      idMasked: str(2),
      occupation: str(3),
      job: str(4),
      level: level as number,
      issueDate: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`,
      orgCode: str(7),
      ...(statusIndex !== undefined ? { statusIndex } : {}),
    },
  };
}

/**
 * The readings of a fragment as the browser holds it. The URL parser percent-encodes a space in a fragment as
 * %20 and leaves a "%" alone, and base45 has both: each "%20" is a space or the three characters "%20". Every
 * reading is tried (few: a code has a handful of spaces); the signature decides.
 */
export function fragmentReadings(fragment: string, max = 256): string[] {
  const parts = fragment.split('%20');
  if (parts.length === 1) return [fragment];
  const gaps = parts.length - 1;
  const out: string[] = [];
  for (let m = 0; m < 2 ** gaps && out.length < max; m++) {
    out.push(parts.reduce((acc, p, i) => (i === 0 ? p : acc + ((m >> (i - 1)) & 1 ? '%20' : ' ') + p)));
  }
  return out;
}

async function keyFor(pem: string, alg: 'ES256' | 'PS256'): Promise<{ key: CryptoKey; kid: string } | undefined> {
  try {
    const key = await importX509(pem, alg, { extractable: true });
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', key));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', spki));
    return { key, kid: hex(digest.subarray(0, 8)) };
  } catch {
    return undefined; // a certificate of the other key type
  }
}

async function verifySignature(p: Parsed, trust: TrustList): Promise<{ organisation?: Organisation; ok: boolean }> {
  const kid = hex(p.kid);
  for (const org of trust.organisations) {
    for (const pem of org.certificates) {
      const k = await keyFor(pem, p.alg);
      if (!k || k.kid !== kid) continue;
      const params = p.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSA-PSS', saltLength: 32 };
      const ok = await crypto.subtle.verify(params, k.key, p.signature as BufferSource, p.toBeSigned as BufferSource);
      if (ok && org.orgCode === p.claims.orgCode) return { organisation: org, ok };
      if (ok) return { ok: false };
    }
  }
  return { ok: false };
}

/** Verifies a whole QR text (from a photo) or the parts of a landing URL (address with ?n=, and the fragment). */
export async function verifyQr(input: { text: string } | { address: string; number: string; fragment: string }, trust: TrustList): Promise<QrResult> {
  let address: string;
  let number: string;
  let readings: string[];
  if ('text' in input) {
    const hash = input.text.indexOf(`#${QR_PREFIX}`);
    if (hash < 0) return { checks: [{ id: 'qr.format', ok: false, message: `not a skillcert QR code: no "#${QR_PREFIX}" payload` }] };
    address = input.text.slice(0, hash);
    try {
      number = new URL(address).searchParams.get('n') ?? '';
    } catch {
      return { checks: [{ id: 'qr.format', ok: false, message: 'the address part of the QR code is not a URL' }] };
    }
    readings = [input.text.slice(hash + 1 + QR_PREFIX.length)];
  } else {
    ({ address, number } = input);
    if (!input.fragment.startsWith(QR_PREFIX)) return { checks: [{ id: 'qr.format', ok: false, message: `no "#${QR_PREFIX}" payload in the address` }] };
    readings = fragmentReadings(input.fragment.slice(QR_PREFIX.length));
  }
  let firstError = 'the payload cannot be read';
  let parsedAny: Parsed | undefined;
  for (const r of readings) {
    let p: Parsed;
    try {
      p = parse(address, number, r);
    } catch (err) {
      firstError = (err as Error).message;
      continue;
    }
    parsedAny ??= p;
    const v = await verifySignature(p, trust);
    if (v.ok && v.organisation) {
      return {
        claims: p.claims,
        organisation: v.organisation,
        address,
        checks: [
          { id: 'qr.format', ok: true, message: `a skillcert QR payload (${p.alg}) for certificate ${number}` },
          { id: 'qr.signature', ok: true, message: `signed by ${v.organisation.name.zh} (${v.organisation.orgCode}), an organisation of the trust list; the number and the holder data are as signed` },
        ],
      };
    }
  }
  if (!parsedAny) return { checks: [{ id: 'qr.format', ok: false, message: `the QR code cannot be read: ${firstError}` }] };
  return {
    address,
    checks: [
      { id: 'qr.format', ok: true, message: `a skillcert QR payload (${parsedAny.alg}) for certificate ${number}` },
      { id: 'qr.signature', ok: false, message: `the QR signature does not verify against the trust list (key id ${hex(parsedAny.kid)}): the payload or the number was changed, or the signer is not a trusted organisation` },
    ],
  };
}
