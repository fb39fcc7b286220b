/**
 * CAdES detached signature (CMS SignedData, RFC 5652) for PAdES baseline B-B / B-T (ETSI EN 319 142-1):
 * signed attributes content-type, message-digest and ESS signing-certificate-v2 (RFC 5035) — and NO
 * signing-time (PAdES puts the claimed time in the signature dictionary's /M). pkijs builds the structures,
 * node:crypto computes the signature (native, ~1 ms, instead of RSA in JavaScript).
 */
import { createHash, sign as cryptoSign } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID, toDer } from './asn1.js';
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

const sha256Alg = () => new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 });

function signatureAlgorithm(signer: LoadedSigner): pkijs.AlgorithmIdentifier {
  return signer.keyType === 'ec'
    ? new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSha256 })
    : new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256WithRSA, algorithmParams: new asn1js.Null() });
}

/** ESS signing-certificate-v2 (RFC 5035): SHA-256 of the signer certificate plus its issuer and serial. */
function signingCertificateV2(signer: LoadedSigner): asn1js.Sequence {
  const leaf = signer.chain[0]!;
  const cert = signer.pkijsCertificate;
  const essCertIdV2 = new asn1js.Sequence({
    value: [
      // hashAlgorithm is DEFAULT id-sha256, so DER omits it.
      new asn1js.OctetString({ valueHex: createHash('sha256').update(leaf).digest() }),
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [cert.issuer.toSchema()] })] }),
          cert.serialNumber,
        ],
      }),
    ],
  });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
}

function signedAttributes(signer: LoadedSigner, contentDigest: Buffer): pkijs.SignedAndUnsignedAttributes {
  const attrs = [
    new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
    new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: contentDigest })] }),
    new pkijs.Attribute({ type: OID.signingCertificateV2, values: [signingCertificateV2(signer)] }),
  ];
  // DER: the elements of a SET OF are sorted by their encodings.
  const sorted = attrs.map((a) => ({ a, der: toDer(a.toSchema()) })).sort((x, y) => Buffer.compare(x.der, y.der));
  return new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: sorted.map((s) => s.a) });
}

/** The bytes that are signed: the signed attributes encoded as a SET (tag 0x31), not as the [0] of SignerInfo. */
function toBeSigned(attrs: pkijs.SignedAndUnsignedAttributes): Buffer {
  const der = toDer(attrs.toSchema());
  der[0] = 0x31;
  return der;
}

function assemble(signer: LoadedSigner, attrs: pkijs.SignedAndUnsignedAttributes, signatureValue: Buffer, timestampToken?: Buffer): Buffer {
  const cert = signer.pkijsCertificate;
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
    digestAlgorithm: sha256Alg(),
    signedAttrs: attrs,
    signatureAlgorithm: signatureAlgorithm(signer),
    signature: new asn1js.OctetString({ valueHex: signatureValue }),
  });
  if (timestampToken) {
    const token = asn1js.fromBER(new Uint8Array(timestampToken));
    if (token.offset === -1) throw new Error('the timestamp token is not valid ASN.1');
    signerInfo.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({
      type: 1,
      attributes: [new pkijs.Attribute({ type: OID.signatureTimeStampToken, values: [token.result] })],
    });
  }
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [sha256Alg()],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    certificates: signer.chain.map((der) => pkijs.Certificate.fromBER(der)),
    signerInfos: [signerInfo],
  });
  const contentInfo = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
  return toDer(contentInfo.toSchema());
}

/** Signs the SHA-256 digest of the signed byte ranges; adds a signature timestamp (B-T) when `timestamp` is given. */
export async function createCadesSignature(signer: LoadedSigner, contentDigest: Buffer, timestamp?: TimestampFn): Promise<CadesResult> {
  const attrs = signedAttributes(signer, contentDigest);
  // ECDSA: node returns the DER (r, s) that CMS wants; RSA: PKCS#1 v1.5 with SHA-256.
  const signatureValue = cryptoSign('sha256', toBeSigned(attrs), signer.key);
  const timestampToken = timestamp ? await timestamp(signatureValue) : undefined;
  return { cms: assemble(signer, attrs, signatureValue, timestampToken), signatureValue, ...(timestampToken ? { timestampToken } : {}) };
}

/** The largest CMS (without timestamp) this signer can produce: the same structure with a maximum-length signature. */
export function maxCmsLength(signer: LoadedSigner): number {
  const attrs = signedAttributes(signer, Buffer.alloc(32));
  const maxSig = signer.keyType === 'ec' ? 72 : Math.ceil((signer.key.asymmetricKeyDetails?.modulusLength ?? 4096) / 8);
  return assemble(signer, attrs, Buffer.alloc(maxSig, 0xff)).length;
}
