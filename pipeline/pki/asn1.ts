/**
 * Small ASN.1 helpers over asn1js and the object identifiers that signing and verifying share.
 * (The verifier imports these too: they are a codec, not a stage.)
 */
import * as asn1js from './asn1js.js';

export const OID = {
  // PKCS#7 / CMS content types (RFC 5652)
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  encryptedData: '1.2.840.113549.1.7.6',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  // CMS attributes
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  // digests
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // signatures
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  // certificates
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const HASH_BY_OID: Record<string, HashName> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export function hashOfOid(oid: string): HashName | undefined {
  return HASH_BY_OID[oid];
}

/** The hash of a signature algorithm that names one (ECDSA and PKCS#1 v1.5 with SHA-2). */
const SIGNATURE_HASH: Record<string, HashName> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
};

export function hashOfSignatureOid(oid: string): HashName | undefined {
  return SIGNATURE_HASH[oid];
}

export function oidOfHash(hash: HashName): string {
  return OID[hash];
}

/**
 * Parses exactly one DER/BER element; trailing bytes (e.g. the zero padding of /Contents) are not part of it.
 * OCTET and BIT STRINGs stay bytes: asn1js otherwise tries to parse each of them as nested ASN.1 (signatures,
 * keys, digests), a third of parsing a CMS; where a string holds ASN.1 (eContent, a PKCS#12 bag) it is parsed as such.
 */
export function parseAsn1(bytes: Uint8Array, what: string): asn1js.AsnType {
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parsed = asn1js.fromBER(view, { parseEmbedded: false });
  if (parsed.offset === -1) throw new Error(`${what} is not valid ASN.1: ${parsed.result.error}`);
  return parsed.result;
}

/**
 * The length of the first BER/DER element in `bytes` (tag + length + value), or -1 when there is none.
 * Handles the indefinite lengths that NSS (poppler, Firefox) and some Windows tools write in CMS.
 */
export function derElementLength(bytes: Uint8Array): number {
  if (bytes.length < 2) return -1;
  const first = bytes[1]!;
  if (first < 0x80) return 2 + first <= bytes.length ? 2 + first : -1;
  const n = first & 0x7f;
  if (n === 0) {
    const parsed = asn1js.fromBER(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return parsed.offset === -1 ? -1 : parsed.offset;
  }
  if (n > 4 || bytes.length < 2 + n) return -1;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + bytes[2 + i]!;
  return 2 + n + len <= bytes.length ? 2 + n + len : -1;
}

export function children(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  const v = (node as asn1js.Constructed | undefined)?.valueBlock?.value;
  if (!Array.isArray(v)) throw new Error(`${what}: expected a constructed ASN.1 value`);
  return v as asn1js.AsnType[];
}

export function oidOf(node: asn1js.AsnType | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) throw new Error(`${what}: expected an OBJECT IDENTIFIER`);
  return node.valueBlock.toString();
}

export function intOf(node: asn1js.AsnType | undefined, what: string): number {
  if (!(node instanceof asn1js.Integer)) throw new Error(`${what}: expected an INTEGER`);
  return node.valueBlock.valueDec;
}

/** The bytes of an OCTET STRING, primitive or constructed (BER), or of an implicitly tagged one. */
export function octetsOf(node: asn1js.AsnType | undefined, what: string): Buffer {
  if (!node) throw new Error(`${what}: missing`);
  const n = node as asn1js.BaseBlock & { valueBlock: { value?: asn1js.AsnType[]; valueHexView?: Uint8Array } };
  if (n.idBlock.isConstructed) {
    const parts = (n.valueBlock.value ?? []).map((c, i) => octetsOf(c, `${what}[${i}]`));
    return Buffer.concat(parts);
  }
  const hex = n.valueBlock.valueHexView;
  if (!hex) throw new Error(`${what}: expected an OCTET STRING`);
  return Buffer.from(hex);
}

/** The single value inside a context-specific explicit tag [n]. */
export function explicit(node: asn1js.AsnType | undefined, tag: number, what: string): asn1js.AsnType {
  const b = node as asn1js.BaseBlock | undefined;
  if (!b || b.idBlock.tagClass !== 3 || b.idBlock.tagNumber !== tag) throw new Error(`${what}: expected [${tag}]`);
  const inner = children(node, what)[0];
  if (!inner) throw new Error(`${what}: [${tag}] is empty`);
  return inner;
}

export function isContextTag(node: asn1js.AsnType | undefined, tag: number): boolean {
  const b = node as asn1js.BaseBlock | undefined;
  return !!b && b.idBlock.tagClass === 3 && b.idBlock.tagNumber === tag;
}

export function toDer(node: { toBER(sizeOnly?: boolean): ArrayBuffer }): Buffer {
  return Buffer.from(node.toBER(false));
}

/**
 * The bytes a value parsed by asn1js was read from (it keeps them), else its encoding: a certificate or token found
 * inside a CMS is handed on as it came, not encoded anew (asn1js's toBER was a few per cent of a verification).
 */
export function encodingOf(node: asn1js.AsnType): Buffer {
  const view = (node as asn1js.BaseBlock).valueBeforeDecodeView;
  return view && view.byteLength > 0 ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : toDer(node);
}
