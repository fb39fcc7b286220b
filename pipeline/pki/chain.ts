/**
 * Certificate paths to the configured trust anchors — the one chain builder, for PDF signatures, timestamps, the
 * bundle's JWS and QR keys alike — with node:crypto doing the signature checks and pkijs reading the extensions.
 * No revocation checking (no CRL/OCSP in the test identity); the registry's own revocation list is the lead's part
 * of `skillcert verify`.
 */
import { X509Certificate } from 'node:crypto';
import * as asn1js from './asn1js.js';
import * as pkijs from './pkijs.js';
import { SkillcertError } from '../core/errors.js';
import { once, rememberBytes } from '../core/memo.js';
import { OID } from './asn1.js';
import { isoTime } from '../core/time.js';
import { pemCertificates } from './pem.js';

export interface Cert {
  readonly x509: X509Certificate;
  readonly pkijs: pkijs.Certificate;
  readonly der: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Parsed certificates by the SHA-256 of their DER. Every upload from one organisation carries the same signer, CA
 * and TSA certificates, and the trust anchors are parsed for each verification: parsing them (pkijs and
 * X509Certificate) was about a sixth of one verification's CPU (--cpu-prof over verifyPdfBytes). A Cert is a pure
 * function of its bytes and nothing writes to one, so identical bytes may share it; trust is still decided per
 * verification by buildPath. Bounded, oldest out first.
 */
const parsed = new Map<string, Cert>();
const PARSED_MAX = 512;

export function certFromDer(der: Uint8Array): Cert {
  return rememberBytes(parsed, der, PARSED_MAX, () => {
    const buf = Buffer.from(der);
    const p = pkijs.Certificate.fromBER(buf);
    return { x509: new X509Certificate(buf), pkijs: p, der: buf, notBefore: p.notBefore.value, notAfter: p.notAfter.value };
  });
}

/** Trust anchors from PEM text (each string may hold several certificates). */
export function parseAnchors(pems: readonly string[]): Cert[] {
  const out: Cert[] = [];
  pems.forEach((pem, i) => {
    const blocks = pemCertificates(pem);
    if (blocks.length === 0) throw new SkillcertError('E_VERIFY', `trust anchor #${i + 1} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`);
    for (const der of blocks) {
      try {
        out.push(certFromDer(der));
      } catch (err) {
        throw new SkillcertError('E_VERIFY', `trust anchor #${i + 1} is not a readable certificate: ${(err as Error).message}`, {}, { cause: err });
      }
    }
  });
  return out;
}

export const cn = (c: Cert): string => {
  const line = c.x509.subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : c.x509.subject.replace(/\n/g, ', ');
};

export interface PathResult {
  readonly ok: boolean;
  /** Leaf first; ends with the anchor when ok. */
  readonly path: readonly Cert[];
  readonly message: string;
}

/** The longest path accepted, leaf and anchor included. */
export const MAX_PATH = 8;

/**
 * Builds leaf → … → anchor using the certificates that came with the signature as intermediates. Trust comes from
 * the anchors only: a certificate is an anchor when its DER is one of theirs; every issuer on the way is a CA
 * whose key verifies the certificate below it.
 */
export function buildPath(leaf: Cert, pool: readonly Cert[], anchors: readonly Cert[]): PathResult {
  const path: Cert[] = [leaf];
  const isAnchor = (c: Cert) => anchors.some((a) => a.der.equals(c.der));
  for (let cur = leaf; path.length < MAX_PATH; ) {
    if (isAnchor(cur)) return { ok: true, path, message: describe(path) };
    const issuedBy = (cand: Cert) => cand.x509.ca && cur.x509.checkIssued(cand.x509) && safeVerify(cur, cand);
    const anchor = anchors.find(issuedBy);
    if (anchor) {
      path.push(anchor);
      return { ok: true, path, message: describe(path) };
    }
    const next = pool.find((c) => !path.includes(c) && !c.der.equals(cur.der) && issuedBy(c));
    if (!next) {
      const selfSigned = cur.x509.checkIssued(cur.x509);
      const why = selfSigned
        ? `the chain ends at the self-signed "${cn(cur)}", which is not one of the ${anchors.length} trust anchor(s)`
        : `no issuer of "${cn(cur)}" (issuer ${cur.x509.issuer.replace(/\n/g, ', ')}) is among the ${anchors.length} trust anchor(s) or the certificates in the signature`;
      return { ok: false, path, message: `not trusted: ${why}` };
    }
    path.push(next);
    cur = next;
  }
  return { ok: false, path, message: `not trusted: the chain is longer than ${MAX_PATH} certificates` };
}

/**
 * Signature checks of a certificate by a candidate issuer, made once per pair: certFromDer hands out one Cert per DER,
 * and a B-LTA file builds the same paths again and again (its signers', its TSAs', its OCSP responders').
 */
const verifiedBy = new WeakMap<Cert, WeakMap<Cert, boolean>>();
function safeVerify(child: Cert, issuer: Cert): boolean {
  return once(once(verifiedBy, child, () => new WeakMap<Cert, boolean>()), issuer, () => {
    try {
      return child.x509.verify(issuer.x509.publicKey);
    } catch {
      return false;
    }
  });
}

function describe(path: readonly Cert[]): string {
  return `chains to the trust anchor "${cn(path[path.length - 1]!)}" (${path.map(cn).join(' → ')})`;
}

/** The first certificate of the path that is not valid at `t`, or undefined. */
export function invalidAt(path: readonly Cert[], t: Date): { cert: Cert; message: string } | undefined {
  for (const c of path) {
    if (t < c.notBefore) return { cert: c, message: `"${cn(c)}" is valid only from ${isoTime(c.notBefore)}` };
    if (t > c.notAfter) return { cert: c, message: `"${cn(c)}" expired on ${isoTime(c.notAfter)}` };
  }
  return undefined;
}

function extension(c: Cert, oid: string): pkijs.Extension | undefined {
  return c.pkijs.extensions?.find((e) => e.extnID === oid);
}

/** keyUsage allows signing documents: digitalSignature or nonRepudiation (absent keyUsage allows everything). */
export function keyUsageAllowsSigning(c: Cert): { ok: boolean; message: string } {
  const ext = extension(c, OID.keyUsage);
  if (!ext) return { ok: true, message: 'the signer certificate has no keyUsage restriction' };
  const bits = ext.parsedValue instanceof asn1js.BitString ? ext.parsedValue.valueBlock.valueHexView : new Uint8Array();
  const ds = ((bits[0] ?? 0) & 0x80) !== 0;
  const nr = ((bits[0] ?? 0) & 0x40) !== 0;
  return ds || nr
    ? { ok: true, message: `keyUsage allows signing (${[ds && 'digitalSignature', nr && 'nonRepudiation'].filter(Boolean).join(', ')})` }
    : { ok: false, message: 'keyUsage of the signer certificate has neither digitalSignature nor nonRepudiation' };
}

/** RFC 3161 §2.3: the TSA certificate has exactly one, critical, extendedKeyUsage: id-kp-timeStamping. */
export function isTimeStampingCert(c: Cert): { ok: boolean; message: string } {
  const ext = extension(c, OID.extKeyUsage);
  if (!ext) return { ok: false, message: `the TSA certificate "${cn(c)}" has no extendedKeyUsage timeStamping` };
  const purposes = (ext.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (!purposes.includes(OID.kpTimeStamping)) return { ok: false, message: `the TSA certificate "${cn(c)}" lacks extendedKeyUsage timeStamping` };
  if (!ext.critical) return { ok: false, message: `the TSA certificate's extendedKeyUsage is not critical (RFC 3161 §2.3)` };
  return { ok: true, message: 'TSA certificate has critical extendedKeyUsage timeStamping' };
}
