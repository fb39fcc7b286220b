/**
 * CAdES detached signature (CMS SignedData, RFC 5652) for PAdES baseline B-B / B-T (ETSI EN 319 142-1):
 * signed attributes content-type, message-digest and ESS signing-certificate-v2 (RFC 5035) — and NO
 * signing-time (PAdES puts the claimed time in the signature dictionary's /M). node:crypto computes the
 * signature (native, well under a millisecond for P-256).
 *
 * Everything in the CMS but the content digest, the signature value and the timestamp token is the same for
 * every file a signer signs, so pkijs encodes those parts ONCE per signer (CmsParts) and each signature is
 * assembled from them with a few DER headers: building the pkijs object tree for every file cost ~8 ms.
 */
import { createHash, sign as cryptoSign } from 'node:crypto';
import * as asn1js from '../pki/asn1js.js';
import * as pkijs from '../pki/pkijs.js';
import { OID, toDer } from '../pki/asn1.js';
import { TAG, tlv } from '../pki/der.js';
import type { LoadedSigner } from './identity.js';

/** Computes the RFC 3161 token over a signature value; returns the TimeStampToken (a CMS ContentInfo, DER). */
export type TimestampFn = (signatureValue: Buffer) => Promise<Buffer>;

export interface CadesResult {
  /** The CMS ContentInfo, DER. */
  readonly cms: Buffer;
  /** The SignerInfo's signature value (what a timestamp is taken over). */
  readonly signatureValue: Buffer;
  readonly timestampToken?: Buffer;
}

const { SEQUENCE, SET, OCTET_STRING, CONTEXT_0, CONTEXT_1 } = TAG;

/** The DER parts of a signer's CMS that do not depend on the signed file. */
interface CmsParts {
  /** SignerInfo version, sid and digestAlgorithm: everything before the signed attributes. */
  readonly signerInfoHead: Buffer;
  /** The signed attributes other than message-digest, each one DER Attribute. */
  readonly fixedAttrs: readonly Buffer[];
  /** OBJECT IDENTIFIER of message-digest, the start of its Attribute. */
  readonly messageDigestOid: Buffer;
  readonly signatureAlgorithm: Buffer;
  /** SignedData version, digestAlgorithms, encapContentInfo and the [0] certificates. */
  readonly signedDataHead: Buffer;
  readonly signedDataOid: Buffer;
  readonly timestampAttrOid: Buffer;
}

const parts = new WeakMap<LoadedSigner, CmsParts>();

function cmsParts(signer: LoadedSigner): CmsParts {
  let p = parts.get(signer);
  if (p) return p;
  const der = (node: { toSchema(): { toBER(sizeOnly?: boolean): ArrayBuffer } }) => toDer(node.toSchema());
  const oid = (value: string) => toDer(new asn1js.ObjectIdentifier({ value }));
  const sha256 = der(new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 }));
  const cert = signer.pkijsCertificate;
  const leaf = signer.chain[0]!;
  // ESS signing-certificate-v2 (RFC 5035): SHA-256 of the signer certificate plus its issuer and serial;
  // hashAlgorithm is DEFAULT id-sha256, so DER omits it.
  const essCertIdV2 = new asn1js.Sequence({
    value: [
      new asn1js.OctetString({ valueHex: createHash('sha256').update(leaf).digest() }),
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [cert.issuer.toSchema()] })] }),
          cert.serialNumber,
        ],
      }),
    ],
  });
  const signingCertificateV2 = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
  const attr = (type: string, value: asn1js.AsnType) => der(new pkijs.Attribute({ type, values: [value] }));
  const signatureAlgorithm =
    signer.keyType === 'ec'
      ? der(new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSha256 }))
      : der(new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256WithRSA, algorithmParams: new asn1js.Null() }));
  const sid = der(new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }));
  const encapContentInfo = der(new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }));
  p = {
    signerInfoHead: Buffer.concat([toDer(new asn1js.Integer({ value: 1 })), sid, sha256]),
    fixedAttrs: [attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })), attr(OID.signingCertificateV2, signingCertificateV2)],
    messageDigestOid: oid(OID.messageDigest),
    signatureAlgorithm,
    signedDataHead: Buffer.concat([
      toDer(new asn1js.Integer({ value: 1 })),
      tlv(SET, sha256),
      encapContentInfo,
      // certificates [0] IMPLICIT SET OF Certificate, in chain order
      tlv(CONTEXT_0, ...signer.chain.map((c) => Buffer.from(c))),
    ]),
    signedDataOid: oid(OID.signedData),
    timestampAttrOid: oid(OID.signatureTimeStampToken),
  };
  parts.set(signer, p);
  return p;
}

/** The signed attributes' contents (without their SET or [0] header), in DER order. */
function signedAttributes(p: CmsParts, contentDigest: Buffer): Buffer {
  const messageDigest = tlv(SEQUENCE, p.messageDigestOid, tlv(SET, tlv(OCTET_STRING, contentDigest)));
  // DER: the elements of a SET OF are sorted by their encodings.
  return Buffer.concat([...p.fixedAttrs, messageDigest].sort(Buffer.compare));
}

function assemble(p: CmsParts, attrs: Buffer, signatureValue: Buffer, timestampToken?: Buffer): Buffer {
  const unsigned = timestampToken ? [tlv(CONTEXT_1, tlv(SEQUENCE, p.timestampAttrOid, tlv(SET, timestampToken)))] : [];
  const signerInfo = tlv(SEQUENCE, p.signerInfoHead, tlv(CONTEXT_0, attrs), p.signatureAlgorithm, tlv(OCTET_STRING, signatureValue), ...unsigned);
  const signedData = tlv(SEQUENCE, p.signedDataHead, tlv(SET, signerInfo));
  return tlv(SEQUENCE, p.signedDataOid, tlv(CONTEXT_0, signedData));
}

/** Signs the SHA-256 digest of the signed byte ranges; adds a signature timestamp (B-T) when `timestamp` is given. */
export async function createCadesSignature(signer: LoadedSigner, contentDigest: Buffer, timestamp?: TimestampFn): Promise<CadesResult> {
  const p = cmsParts(signer);
  const attrs = signedAttributes(p, contentDigest);
  // What is signed is the attributes encoded as a SET (tag 0x31), not as the [0] of the SignerInfo.
  // ECDSA: node returns the DER (r, s) that CMS wants; RSA: PKCS#1 v1.5 with SHA-256.
  const signatureValue = cryptoSign('sha256', tlv(SET, attrs), signer.key);
  const timestampToken = timestamp ? await timestamp(signatureValue) : undefined;
  return { cms: assemble(p, attrs, signatureValue, timestampToken), signatureValue, ...(timestampToken ? { timestampToken } : {}) };
}

/** The largest CMS (without timestamp) this signer can produce: the same structure with a maximum-length signature. */
export function maxCmsLength(signer: LoadedSigner): number {
  const p = cmsParts(signer);
  const maxSig = signer.keyType === 'ec' ? 72 : Math.ceil((signer.key.asymmetricKeyDetails?.modulusLength ?? 4096) / 8);
  return assemble(p, signedAttributes(p, Buffer.alloc(32)), Buffer.alloc(maxSig, 0xff)).length;
}
