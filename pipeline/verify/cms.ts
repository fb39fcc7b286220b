/**
 * Reading and checking a CMS SignedData (RFC 5652) with one SignerInfo: used for the PDF signature and
 * for the RFC 3161 timestamp token inside it. Written independently of the signing code on purpose.
 */
import { createHash, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import * as asn1js from '../pki/asn1js.js';
import * as pkijs from '../pki/pkijs.js';
import { children, encodingOf, explicit, hashOfOid, hashOfSignatureOid, isContextTag, octetsOf, OID, oidOf, parseAsn1, type HashName } from '../pki/asn1.js';
import { certFromDer, cn, type Cert } from '../pki/chain.js';

export interface ParsedCms {
  readonly certs: readonly Cert[];
  readonly signer?: Cert;
  readonly digestAlgorithm: string;
  readonly hash?: HashName;
  /** The SignerInfo's signatureAlgorithm and its parameters (RSASSA-PSS has some). */
  readonly signatureAlgorithm: string;
  readonly signatureParams?: asn1js.AsnType;
  readonly signatureValue: Buffer;
  /** The signed attributes as encoded in the SignerInfo ([0] IMPLICIT SET), which the signature covers. */
  readonly signedAttrsDer?: Buffer;
  readonly signedAttrs?: Map<string, asn1js.AsnType[]>;
  readonly unsignedAttrs: Map<string, asn1js.AsnType[]>;
  /** eContent for an encapsulated (non-detached) CMS, e.g. the TSTInfo of a timestamp token. */
  readonly eContent?: Buffer;
  readonly eContentType: string;
}

/** Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }, by type. */
function attrMap(set: asn1js.AsnType | undefined, what: string): Map<string, asn1js.AsnType[]> {
  const m = new Map<string, asn1js.AsnType[]>();
  for (const a of set ? children(set, what) : []) {
    const [type, values] = children(a, `${what} attribute`);
    m.set(oidOf(type, `${what} attribute type`), children(values, `${what} attribute values`));
  }
  return m;
}

/** The certificates of a SignedData ([0] IMPLICIT CertificateSet) as they are encoded in it; other choices skipped. */
function certificateEncodings(signedData: asn1js.AsnType): Buffer[] {
  const set = children(signedData, 'SignedData').find((n) => isContextTag(n, 0));
  return set ? children(set, 'certificates').filter((c) => c instanceof asn1js.Sequence).map(encodingOf) : [];
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
export function algorithm(node: asn1js.AsnType | undefined, what: string): { oid: string; params?: asn1js.AsnType } {
  const [oid, params] = children(node, what);
  return { oid: oidOf(oid, what), ...(params ? { params } : {}) };
}

/**
 * Parses a ContentInfo holding SignedData (DER, or the node of one already parsed); throws an Error whose message says what is wrong.
 * A walk of the asn1js tree over the few fields a verifier needs, not pkijs's SignedData: pkijs checks the whole
 * structure against its schemas and builds an object for every part, which was 4.3 ms of CPU for a certificate's
 * CMS against 0.8 ms for asn1js's parse alone (scripts/measure-verify.ts with --cpu-prof: parsing the CMS and its
 * timestamp tokens was a fifth of verifying a PDF). The certificates inside are still read by pkijs (certFromDer).
 */
export function parseCms(der: Uint8Array | asn1js.AsnType, extraCerts: readonly Cert[] = []): ParsedCms {
  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }; a timestamp token comes parsed already,
  // as an attribute value of the signature's CMS.
  const [contentType, content] = children(der instanceof Uint8Array ? parseAsn1(der, 'the CMS') : der, 'ContentInfo');
  const type = oidOf(contentType, 'ContentInfo contentType');
  if (type !== OID.signedData) throw new Error(`content type is ${type}, expected SignedData (${OID.signedData})`);
  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, certificates [0] IMPLICIT OPTIONAL,
  //   crls [1] IMPLICIT OPTIONAL, signerInfos SET OF SignerInfo }
  const signedData = explicit(content, 0, 'ContentInfo content');
  const sdParts = children(signedData, 'SignedData');
  if (!(sdParts[0] instanceof asn1js.Integer) || !(sdParts[1] instanceof asn1js.Set)) throw new Error('SignedData: expected a version and a SET of digest algorithms');
  // EncapsulatedContentInfo ::= SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
  const [eType, eWrapped] = children(sdParts[2], 'EncapsulatedContentInfo');
  const eContentType = oidOf(eType, 'eContentType');
  const eContent = eWrapped ? octetsOf(explicit(eWrapped, 0, 'eContent'), 'eContent') : undefined;
  const last = sdParts[sdParts.length - 1];
  if (sdParts.length < 4 || !(last instanceof asn1js.Set)) throw new Error('SignedData: expected a SET of SignerInfos');
  const signerInfos = children(last, 'signerInfos');
  if (signerInfos.length !== 1) throw new Error(`${signerInfos.length} SignerInfos; expected exactly one`);
  const certs = certificateEncodings(signedData).map(certFromDer);

  // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL, signatureAlgorithm,
  //   signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
  const siParts = children(signerInfos[0], 'SignerInfo');
  if (!(siParts[0] instanceof asn1js.Integer)) throw new Error('SignerInfo: expected a version');
  const sid = siParts[1];
  let i = 3;
  const signedAttrsNode = isContextTag(siParts[i], 0) ? siParts[i++] : undefined;
  const digest = algorithm(siParts[2], 'SignerInfo digestAlgorithm');
  const sigAlg = algorithm(siParts[i++], 'SignerInfo signatureAlgorithm');
  const signatureValue = octetsOf(siParts[i++], 'SignerInfo signature');
  const unsignedAttrsNode = isContextTag(siParts[i], 1) ? siParts[i] : undefined;

  // SignerIdentifier ::= CHOICE { IssuerAndSerialNumber, subjectKeyIdentifier [0] IMPLICIT OCTET STRING }
  const byIssuer = isContextTag(sid, 0) ? undefined : new pkijs.IssuerAndSerialNumber({ schema: sid });
  const ski = byIssuer ? undefined : octetsOf(sid, 'SignerInfo subjectKeyIdentifier');
  const matches = (c: Cert) => {
    if (byIssuer) return c.pkijs.issuer.isEqual(byIssuer.issuer) && c.pkijs.serialNumber.isEqual(byIssuer.serialNumber);
    const own = c.pkijs.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue as asn1js.OctetString | undefined;
    return !!own && Buffer.from(own.valueBlock.valueHexView).equals(ski!);
  };
  const signer = certs.find(matches) ?? extraCerts.find(matches);
  const hash = hashOfOid(digest.oid);
  return {
    certs,
    ...(signer ? { signer } : {}),
    digestAlgorithm: digest.oid,
    ...(hash ? { hash } : {}),
    signatureAlgorithm: sigAlg.oid,
    ...(sigAlg.params ? { signatureParams: sigAlg.params } : {}),
    signatureValue,
    ...(signedAttrsNode ? { signedAttrsDer: encodingOf(signedAttrsNode), signedAttrs: attrMap(signedAttrsNode, 'signedAttrs') } : {}),
    unsignedAttrs: attrMap(unsignedAttrsNode, 'unsignedAttrs'),
    ...(eContent ? { eContent } : {}),
    eContentType,
  };
}

/** The message-digest signed attribute, if any. */
export function messageDigestOf(p: ParsedCms): Buffer | undefined {
  const v = p.signedAttrs?.get(OID.messageDigest)?.[0];
  return v ? octetsOf(v, 'messageDigest') : undefined;
}

/** Checks the SignerInfo's signature with the signer certificate's key, over the signed attributes (or the content). */
export function verifySignerSignature(p: ParsedCms, content?: Buffer): { ok: boolean; message: string } {
  if (!p.signer) return { ok: false, message: 'the signer certificate is not in the signature' };
  if (!p.hash) return { ok: false, message: `digest algorithm ${p.digestAlgorithm} is not supported` };
  if (p.hash === 'sha1') return { ok: false, message: 'SHA-1 signatures are not accepted' };
  let data: Buffer;
  if (p.signedAttrsDer) {
    // The signature covers the attributes encoded as a SET (0x31), not with the [0] tag of the SignerInfo.
    data = Buffer.from(p.signedAttrsDer);
    data[0] = 0x31;
  } else if (content) {
    data = content;
  } else {
    return { ok: false, message: 'no signed attributes and no content to check the signature against' };
  }
  const key: KeyObject = p.signer.x509.publicKey;
  const id = p.signatureAlgorithm;
  let ok: boolean;
  try {
    if (id === OID.rsassaPss) {
      const params = new pkijs.RSASSAPSSParams({ schema: p.signatureParams });
      const hash = hashOfOid(params.hashAlgorithm.algorithmId) ?? 'sha1';
      ok = cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, p.signatureValue);
    } else {
      const hash = hashOfSignatureOid(id) ?? (id === OID.rsaEncryption || id === OID.ecPublicKey ? p.hash : undefined);
      if (!hash) return { ok: false, message: `signature algorithm ${id} is not supported` };
      ok = cryptoVerify(hash, data, key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key, p.signatureValue);
    }
  } catch (err) {
    return { ok: false, message: `the signature cannot be checked: ${(err as Error).message}` };
  }
  return ok
    ? { ok: true, message: `the signature verifies with the key of "${cn(p.signer)}"` }
    : { ok: false, message: `the signature does not verify with the key of "${cn(p.signer)}"` };
}

/** ESS signing-certificate(-v2) (RFC 5035 / RFC 2634): the signed hash of the signer certificate. */
export function essBinding(p: ParsedCms): { ok: boolean | null; present: 'v2' | 'v1' | undefined; message: string } {
  const v2 = p.signedAttrs?.get(OID.signingCertificateV2)?.[0];
  const v1 = p.signedAttrs?.get(OID.signingCertificate)?.[0];
  const attr = v2 ?? v1;
  const present = v2 ? 'v2' : v1 ? 'v1' : undefined;
  if (!attr || !present) return { ok: false, present, message: 'no ESS signing-certificate attribute binds the signer certificate' };
  if (!p.signer) return { ok: null, present, message: 'the signer certificate is not in the signature' };
  try {
    const first = children(children(attr, 'SigningCertificate')[0], 'certs')[0];
    const parts = children(first, 'ESSCertID');
    let i = 0;
    let hash: HashName = v2 ? 'sha256' : 'sha1';
    if (v2 && parts[0] instanceof asn1js.Sequence) {
      const oid = (children(parts[0], 'hashAlgorithm')[0] as asn1js.ObjectIdentifier).valueBlock.toString();
      const h = hashOfOid(oid);
      if (!h) return { ok: false, present, message: `ESS hash algorithm ${oid} is not supported` };
      hash = h;
      i = 1;
    }
    const certHash = octetsOf(parts[i], 'certHash');
    const actual = createHash(hash).update(p.signer.der).digest();
    if (!actual.equals(certHash)) {
      return { ok: false, present, message: `the ESS signing-certificate${present === 'v2' ? '-v2' : ''} names another certificate (${hash} ${certHash.toString('hex').slice(0, 16)}…, the signer's is ${actual.toString('hex').slice(0, 16)}…)` };
    }
    return { ok: true, present, message: `ESS signing-certificate${present === 'v2' ? '-v2' : ''} binds "${cn(p.signer)}" (${hash})` };
  } catch (err) {
    return { ok: false, present, message: `the ESS signing-certificate attribute cannot be read: ${(err as Error).message}` };
  }
}
