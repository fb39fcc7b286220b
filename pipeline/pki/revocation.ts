/**
 * Revocation data (RFC 6960 OCSP, RFC 5280 CRLs) for a certificate path built by chain.ts: where a certificate says
 * its status is published (AIA OCSP, CRL distribution points), the OCSP request for it, and the status that an OCSP
 * response or a CRL gives it — with the response's or list's signature checked against the certificate's issuer
 * (or an OCSP responder the issuer delegated to). pkijs reads and writes the ASN.1; node:crypto checks signatures.
 * A codec and a judgement, no I/O: fetching is the signer's (sign/revocation.ts), the verifier reads the file's DSS.
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import * as asn1js from './asn1js.js';
import * as pkijs from './pkijs.js';
import { hashOfSignatureOid, OID, toDer } from './asn1.js';
import { certFromDer, cn, type Cert } from './chain.js';
import { once, remember, rememberBytes } from '../core/memo.js';
import { isoTime } from '../core/time.js';

const AIA = '1.3.6.1.5.5.7.1.1';
const AD_OCSP = '1.3.6.1.5.5.7.48.1';
const CRL_DP = '2.5.29.31';
const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';

const uriOf = (g: pkijs.GeneralName | undefined): string | undefined => (g && g.type === 6 && typeof g.value === 'string' ? g.value : undefined);

/** The OCSP responder addresses in the certificate's Authority Information Access. */
export function ocspUrls(c: Cert): string[] {
  const ext = c.pkijs.extensions?.find((e) => e.extnID === AIA)?.parsedValue as pkijs.InfoAccess | undefined;
  return (ext?.accessDescriptions ?? []).filter((d) => d.accessMethod === AD_OCSP).flatMap((d) => uriOf(d.accessLocation) ?? []);
}

/** The CRL addresses of the certificate's CRL distribution points (full names that are URIs). */
export function crlUrls(c: Cert): string[] {
  const ext = c.pkijs.extensions?.find((e) => e.extnID === CRL_DP)?.parsedValue as pkijs.CRLDistributionPoints | undefined;
  return (ext?.distributionPoints ?? []).flatMap((dp) => (Array.isArray(dp.distributionPoint) ? dp.distributionPoint.flatMap((g) => uriOf(g) ?? []) : []));
}

export const isSelfSigned = (c: Cert): boolean => c.x509.checkIssued(c.x509) && c.x509.verify(c.x509.publicKey);

/** The issuer's public key as the BIT STRING contents that OCSP's issuerKeyHash is taken over. */
function issuerKeyBits(issuer: Cert): Buffer {
  return Buffer.from(issuer.pkijs.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
}

function certId(cert: Cert, issuer: Cert): pkijs.CertID {
  const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();
  return new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha1, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha1(toDer(issuer.pkijs.subject.toSchema())) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(issuerKeyBits(issuer)) }),
    serialNumber: cert.pkijs.serialNumber,
  });
}

/** An OCSP request (DER) for one certificate; SHA-1 CertID, as every responder understands (RFC 6960 §4.1.1). */
export function ocspRequest(cert: Cert, issuer: Cert): Buffer {
  const req = new pkijs.OCSPRequest();
  req.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId(cert, issuer) })];
  return toDer(req.toSchema(true));
}

export type RevocationStatus = 'good' | 'revoked' | 'unknown';

export interface StatusFinding {
  readonly status: RevocationStatus;
  readonly source: 'ocsp' | 'crl';
  /** When the status was known: the OCSP thisUpdate or the CRL's thisUpdate. */
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revokedAt?: Date;
  readonly message: string;
  /** The certificates that signed the evidence (an OCSP responder's own), for the DSS and their own checks. */
  readonly evidenceCerts: readonly Cert[];
}

/** An X.509-style signature (certificate, CRL, OCSP response) over `tbs`; RSA PKCS#1 v1.5 or ECDSA. */
function x509SignatureOk(alg: pkijs.AlgorithmIdentifier, tbs: Uint8Array, sig: Uint8Array, key: KeyObject): boolean {
  const hash = hashOfSignatureOid(alg.algorithmId);
  if (!hash) return false;
  try {
    return cryptoVerify(hash, tbs, key, sig);
  } catch {
    return false;
  }
}

/**
 * Parsed OCSP responses and CRLs by the SHA-256 of their DER, and their signature checks by signer: a file's DSS
 * holds every response and list once, and each is asked about every certificate of every path in the file (signer,
 * CA, TSAs); a service sees the same CA's CRL in every upload. Bounded like chain.ts's certificate cache.
 */
interface ParsedOcsp {
  readonly basic: pkijs.BasicOCSPResponse | string;
  /** The certificates the response carries (delegated responders), parsed once. */
  readonly included: readonly Cert[];
  readonly signedBy: WeakMap<Cert, boolean>;
}
interface ParsedCrl {
  readonly crl: pkijs.CertificateRevocationList | undefined;
  /** Revoked serial numbers (hex) → revocation date. */
  readonly revoked: ReadonlyMap<string, Date>;
  readonly signedBy: WeakMap<Cert, boolean>;
}
const MEMO_MAX = 512;
const ocspMemo = new Map<string, ParsedOcsp>();
const crlMemo = new Map<string, ParsedCrl>();

const serialHex = (n: asn1js.Integer): string => Buffer.from(n.valueBlock.valueHexView).toString('hex');

/** The parsed Basic OCSP response of a DER OCSPResponse, or an Error message. */
export function parseOcsp(der: Uint8Array): pkijs.BasicOCSPResponse | string {
  return ocspOf(der).basic;
}

function ocspOf(der: Uint8Array): ParsedOcsp {
  return rememberBytes(ocspMemo, der, MEMO_MAX, () => {
    const basic = readOcsp(der);
    const included = typeof basic === 'string' ? [] : (basic.certs ?? []).map((c) => certFromDer(toDer(c.toSchema())));
    return { basic, included, signedBy: new WeakMap() };
  });
}

function readOcsp(der: Uint8Array): pkijs.BasicOCSPResponse | string {
  try {
    const resp = pkijs.OCSPResponse.fromBER(der);
    const status = resp.responseStatus.valueBlock.valueDec;
    if (status !== 0) return `the OCSP responder answered status ${status} (not successful)`;
    if (!resp.responseBytes || resp.responseBytes.responseType !== OCSP_BASIC) return 'the OCSP response is not a basic response';
    return pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView);
  } catch (err) {
    return `the OCSP response cannot be read: ${(err as Error).message}`;
  }
}

function crlOf(der: Uint8Array): ParsedCrl {
  return rememberBytes(crlMemo, der, MEMO_MAX, () => {
    let crl: pkijs.CertificateRevocationList | undefined;
    try {
      crl = pkijs.CertificateRevocationList.fromBER(der);
    } catch {
      crl = undefined;
    }
    const revoked = new Map((crl?.revokedCertificates ?? []).map((r) => [serialHex(r.userCertificate), r.revocationDate.value] as const));
    return { crl, revoked, signedBy: new WeakMap() };
  });
}

/** The hashes of an issuer's name and key that a CertID carries, once per issuer and hash. */
const issuerHashes = new WeakMap<Cert, Map<string, { name: Buffer; key: Buffer }>>();
function hashesOf(issuer: Cert, hash: 'sha1' | 'sha256'): { name: Buffer; key: Buffer } {
  const digest = (b: Uint8Array) => createHash(hash).update(b).digest();
  return remember(once(issuerHashes, issuer, () => new Map()), hash, 2, () => ({ name: digest(toDer(issuer.pkijs.subject.toSchema())), key: digest(issuerKeyBits(issuer)) }));
}

function sameCertId(a: pkijs.CertID, cert: Cert, issuer: Cert): boolean {
  const hash = a.hashAlgorithm.algorithmId === OID.sha1 ? 'sha1' : a.hashAlgorithm.algorithmId === OID.sha256 ? 'sha256' : undefined;
  if (!hash || !a.serialNumber.isEqual(cert.pkijs.serialNumber)) return false;
  const h = hashesOf(issuer, hash);
  return Buffer.from(a.issuerNameHash.valueBlock.valueHexView).equals(h.name) && Buffer.from(a.issuerKeyHash.valueBlock.valueHexView).equals(h.key);
}

/** The status of `cert` in one OCSP response, when the response is about it and signed by its issuer or a delegate. */
export function statusFromOcsp(der: Uint8Array, cert: Cert, issuer: Cert): StatusFinding | undefined {
  const parsed = ocspOf(der);
  const basic = parsed.basic;
  if (typeof basic === 'string') return undefined;
  const single = basic.tbsResponseData.responses.find((r) => sameCertId(r.certID, cert, issuer));
  if (!single) return undefined;
  // The signer: the issuer itself, or a certificate in the response that the issuer gave id-kp-OCSPSigning.
  const delegated = parsed.included.filter((c) => {
    const eku = c.pkijs.extensions?.find((e) => e.extnID === OID.extKeyUsage)?.parsedValue as pkijs.ExtKeyUsage | undefined;
    return !!eku?.keyPurposes.includes(KP_OCSP_SIGNING) && c.x509.checkIssued(issuer.x509) && safeVerify(c, issuer);
  });
  const tbs = basic.tbsResponseData.tbsView;
  const sig = basic.signature.valueBlock.valueHexView;
  const signer = [issuer, ...delegated].find((s) => once(parsed.signedBy, s, () => x509SignatureOk(basic.signatureAlgorithm, tbs, sig, s.x509.publicKey)));
  if (!signer) return undefined;
  const st = single.certStatus as asn1js.BaseBlock;
  const tag = st.idBlock.tagNumber;
  const thisUpdate = single.thisUpdate;
  const nextUpdate = single.nextUpdate;
  const by = signer === issuer ? `"${cn(issuer)}"` : `the responder "${cn(signer)}" delegated by "${cn(issuer)}"`;
  const base = { source: 'ocsp' as const, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}), evidenceCerts: signer === issuer ? [] : [signer] };
  if (tag === 0) return { ...base, status: 'good', message: `OCSP (${by}, ${isoTime(thisUpdate)}): "${cn(cert)}" is good` };
  if (tag === 1) {
    const time = (st as asn1js.Constructed).valueBlock.value[0] as asn1js.GeneralizedTime;
    const revokedAt = time.toDate();
    return { ...base, status: 'revoked', revokedAt, message: `OCSP (${by}, ${isoTime(thisUpdate)}): "${cn(cert)}" was revoked on ${isoTime(revokedAt)}` };
  }
  return { ...base, status: 'unknown', message: `OCSP (${by}): the responder does not know "${cn(cert)}"` };
}

/** Whether the responder certificate is exempt from its own revocation check (id-pkix-ocsp-nocheck). */
export const hasOcspNoCheck = (c: Cert): boolean => !!c.pkijs.extensions?.some((e) => e.extnID === OCSP_NOCHECK);

function safeVerify(child: Cert, issuer: Cert): boolean {
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/** The status of `cert` from one CRL, when the list is its issuer's and signed by it. */
export function statusFromCrl(der: Uint8Array, cert: Cert, issuer: Cert): StatusFinding | undefined {
  const parsed = crlOf(der);
  const crl = parsed.crl;
  if (!crl || !crl.issuer.isEqual(cert.pkijs.issuer)) return undefined;
  if (!once(parsed.signedBy, issuer, () => x509SignatureOk(crl.signature, crl.tbsView, crl.signatureValue.valueBlock.valueHexView, issuer.x509.publicKey))) return undefined;
  const thisUpdate = crl.thisUpdate.value;
  const nextUpdate = crl.nextUpdate?.value;
  const base = { source: 'crl' as const, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}), evidenceCerts: [] };
  const revokedAt = parsed.revoked.get(serialHex(cert.pkijs.serialNumber));
  if (revokedAt) {
    return { ...base, status: 'revoked', revokedAt, message: `CRL of "${cn(issuer)}" (${isoTime(thisUpdate)}): "${cn(cert)}" was revoked on ${isoTime(revokedAt)}` };
  }
  return { ...base, status: 'good', message: `CRL of "${cn(issuer)}" (${isoTime(thisUpdate)}): "${cn(cert)}" is not revoked` };
}

export interface RevocationData {
  readonly ocsps: readonly Uint8Array[];
  readonly crls: readonly Uint8Array[];
}

/**
 * The best status of `cert` from the data: a revocation wins over any "good"; otherwise the freshest finding
 * (OCSP before CRL at the same time). Undefined when nothing there speaks of it.
 */
export function revocationStatus(cert: Cert, issuer: Cert, data: RevocationData): StatusFinding | undefined {
  const found = [
    ...data.ocsps.map((d) => statusFromOcsp(d, cert, issuer)),
    ...data.crls.map((d) => statusFromCrl(d, cert, issuer)),
  ].filter((f): f is StatusFinding => !!f);
  const revoked = found.filter((f) => f.status === 'revoked').sort((a, b) => a.revokedAt!.getTime() - b.revokedAt!.getTime())[0];
  if (revoked) return revoked;
  return found.filter((f) => f.status === 'good').sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime() || (a.source === 'ocsp' ? -1 : 1))[0] ?? found[0];
}

/** Certificates inside OCSP responses (delegated responders), so they can join the DSS. */
export function ocspCertificates(der: Uint8Array): Cert[] {
  return [...ocspOf(der).included];
}
