/**
 * Reading and checking a CMS SignedData (RFC 5652) with one SignerInfo: used for the PDF signature and
 * for the RFC 3161 timestamp token inside it. Written independently of the signing code on purpose.
 */
import { createHash, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { children, encodingOf, hashOfOid, hashOfSignatureOid, isContextTag, octetsOf, OID, type HashName } from '../pki/asn1.js';
import { certFromDer, cn, type Cert } from '../pki/chain.js';

export interface ParsedCms {
  readonly signedData: pkijs.SignedData;
  readonly signerInfo: pkijs.SignerInfo;
  readonly certs: readonly Cert[];
  readonly signer?: Cert;
  readonly digestAlgorithm: string;
  readonly hash?: HashName;
  readonly signatureValue: Buffer;
  readonly signedAttrs?: Map<string, asn1js.AsnType[]>;
  readonly unsignedAttrs: Map<string, asn1js.AsnType[]>;
  /** eContent for an encapsulated (non-detached) CMS, e.g. the TSTInfo of a timestamp token. */
  readonly eContent?: Buffer;
  readonly eContentType: string;
}

function attrMap(attrs: pkijs.SignedAndUnsignedAttributes | undefined): Map<string, asn1js.AsnType[]> {
  const m = new Map<string, asn1js.AsnType[]>();
  for (const a of attrs?.attributes ?? []) m.set(a.type, a.values as asn1js.AsnType[]);
  return m;
}

/** The certificates of a SignedData ([0] IMPLICIT CertificateSet) as they are encoded in it; other choices skipped. */
function certificateEncodings(signedData: asn1js.AsnType): Buffer[] {
  const set = children(signedData, 'SignedData').find((n) => isContextTag(n, 0));
  return set ? children(set, 'certificates').filter((c) => c instanceof asn1js.Sequence).map(encodingOf) : [];
}

/** Parses a ContentInfo holding SignedData; throws an Error whose message says what is wrong. */
export function parseCms(der: Uint8Array, extraCerts: readonly Cert[] = []): ParsedCms {
  const ci = pkijs.ContentInfo.fromBER(der);
  if (ci.contentType !== OID.signedData) throw new Error(`content type is ${ci.contentType}, expected SignedData (${OID.signedData})`);
  const sd = new pkijs.SignedData({ schema: ci.content });
  if (sd.signerInfos.length !== 1) throw new Error(`${sd.signerInfos.length} SignerInfos; expected exactly one`);
  const si = sd.signerInfos[0]!;
  const certs = certificateEncodings(ci.content).map(certFromDer);
  const sid = si.sid;
  const matches = (c: Cert) => {
    if (sid instanceof pkijs.IssuerAndSerialNumber) return c.pkijs.issuer.isEqual(sid.issuer) && c.pkijs.serialNumber.isEqual(sid.serialNumber);
    // [0] SubjectKeyIdentifier
    const ski = c.pkijs.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue as asn1js.OctetString | undefined;
    const want = Buffer.from((sid as asn1js.Primitive).valueBlock.valueHexView);
    return !!ski && Buffer.from(ski.valueBlock.valueHexView).equals(want);
  };
  const signer = certs.find(matches) ?? extraCerts.find(matches);
  const eContent = sd.encapContentInfo.eContent ? octetsOf(sd.encapContentInfo.eContent, 'eContent') : undefined;
  return {
    signedData: sd,
    signerInfo: si,
    certs,
    ...(signer ? { signer } : {}),
    digestAlgorithm: si.digestAlgorithm.algorithmId,
    ...(hashOfOid(si.digestAlgorithm.algorithmId) ? { hash: hashOfOid(si.digestAlgorithm.algorithmId)! } : {}),
    signatureValue: Buffer.from(si.signature.valueBlock.valueHexView),
    ...(si.signedAttrs ? { signedAttrs: attrMap(si.signedAttrs) } : {}),
    unsignedAttrs: attrMap(si.unsignedAttrs),
    ...(eContent ? { eContent } : {}),
    eContentType: sd.encapContentInfo.eContentType,
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
  if (p.signerInfo.signedAttrs) {
    // The signature covers the attributes encoded as a SET (0x31), not with the [0] tag of the SignerInfo.
    data = Buffer.from(p.signerInfo.signedAttrs.encodedValue);
    data[0] = 0x31;
  } else if (content) {
    data = content;
  } else {
    return { ok: false, message: 'no signed attributes and no content to check the signature against' };
  }
  const alg = p.signerInfo.signatureAlgorithm;
  const key: KeyObject = p.signer.x509.publicKey;
  const id = alg.algorithmId;
  let ok: boolean;
  try {
    if (id === OID.rsassaPss) {
      const params = new pkijs.RSASSAPSSParams({ schema: alg.algorithmParams });
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
