/**
 * The manifest's signature: a JWS (RFC 7515) with detached content (Appendix F) over manifest.json's exact
 * bytes, in compact form `header..signature`, the signer's certificate chain in `x5c`. ES256 for P-256
 * keys (ES384 / ES512 for P-384 / P-521), RS256 or PS256 for RSA. Independent of pipeline/sign: any
 * node:crypto key with its certificate will do, so the bundle can be signed by whoever holds the key.
 */
import { constants, createHash, createPublicKey, type KeyObject, sign as cryptoSign, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { SkillcertError } from '../errors.js';

export interface ManifestSigner {
  readonly privateKey: KeyObject;
  /** The signer's certificate (PEM); further certificates in the same text are taken as its chain. */
  readonly certificatePem: string;
  /** Intermediate certificates, signer's issuer first. */
  readonly chainPem?: readonly string[];
  /** For RSA keys: RS256 (default, PKCS #1 v1.5) or PS256 (RSASSA-PSS). */
  readonly rsaAlgorithm?: 'RS256' | 'PS256';
}

export type JwsAlg = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'PS256';

export interface JwsHeader {
  readonly alg: JwsAlg;
  readonly typ?: string;
  readonly cty?: string;
  readonly x5c: readonly string[];
  readonly 'x5t#S256'?: string;
}

const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;

/** DER of every certificate in a PEM text. */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(PEM_CERT)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

const CURVE_ALG: Record<string, { alg: JwsAlg; hash: string }> = {
  prime256v1: { alg: 'ES256', hash: 'sha256' },
  secp384r1: { alg: 'ES384', hash: 'sha384' },
  secp521r1: { alg: 'ES512', hash: 'sha512' },
};

function algFor(key: KeyObject, rsa: 'RS256' | 'PS256'): JwsAlg {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const hit = CURVE_ALG[curve];
    if (!hit) throw new SkillcertError('E_SIGN', `the manifest signing key is on curve ${curve || 'unknown'}; use a P-256 key (ES256), or P-384 / P-521`, { field: 'signer' });
    return hit.alg;
  }
  if (type === 'rsa') return rsa;
  if (type === 'rsa-pss') return 'PS256';
  throw new SkillcertError('E_SIGN', `the manifest signing key is ${String(type)}; use an EC P-256 key (ES256) or an RSA key (RS256/PS256)`, { field: 'signer' });
}

function hashOf(alg: JwsAlg): string {
  return alg.endsWith('384') ? 'sha384' : alg.endsWith('512') ? 'sha512' : 'sha256';
}

function signWith(alg: JwsAlg, key: KeyObject, data: Buffer): Buffer {
  if (alg.startsWith('ES')) return cryptoSign(hashOf(alg), data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'PS256') return cryptoSign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return cryptoSign('sha256', data, key);
}

function verifyWith(alg: JwsAlg, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  if (alg.startsWith('ES')) return cryptoVerify(hashOf(alg), data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (alg === 'PS256') return cryptoVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  return cryptoVerify('sha256', data, key, sig);
}

const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });

/** Signs `payload` (the manifest's bytes, as they are on disk) and returns the compact detached JWS. */
export function signDetached(payload: Uint8Array, signer: ManifestSigner): string {
  const chain = [...pemCertificates(signer.certificatePem), ...(signer.chainPem ?? []).flatMap(pemCertificates)];
  if (chain.length === 0) throw new SkillcertError('E_SIGN', 'the manifest signer has no certificate: certificatePem holds no -----BEGIN CERTIFICATE----- block', { field: 'signer.certificatePem' });
  const leaf = new X509Certificate(chain[0]!);
  if (!spki(createPublicKey(signer.privateKey)).equals(spki(leaf.publicKey))) {
    throw new SkillcertError('E_SIGN', `the manifest signing key does not belong to the certificate ${leaf.subject.replace(/\n/g, ', ')}; pass the key and certificate of the same identity`, { field: 'signer' });
  }
  const alg = algFor(signer.privateKey, signer.rsaAlgorithm ?? 'RS256');
  const header: JwsHeader = { alg, typ: 'JOSE', cty: 'json', x5c: chain.map((d) => d.toString('base64')), 'x5t#S256': b64url(createHash('sha256').update(chain[0]!).digest()) };
  const protectedB64 = b64url(JSON.stringify(header));
  const input = Buffer.from(`${protectedB64}.${b64url(payload)}`, 'ascii');
  return `${protectedB64}..${b64url(signWith(alg, signer.privateKey, input))}`;
}

export interface JwsResult {
  readonly ok: boolean;
  readonly reason: string;
  readonly header?: JwsHeader;
  /** x5c as certificates, signer first. */
  readonly certificates: readonly X509Certificate[];
}

const ALGS: readonly JwsAlg[] = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256'];

/** Checks a compact detached JWS over `payload`: the form, the algorithm against the key, the signature. */
export function verifyDetached(jws: string, payload: Uint8Array): JwsResult {
  const fail = (reason: string, header?: JwsHeader, certificates: X509Certificate[] = []): JwsResult => ({ ok: false, reason, ...(header ? { header } : {}), certificates });
  const parts = jws.trim().split('.');
  if (parts.length !== 3) return fail(`manifest.json.jws is not a compact JWS (expected 3 parts separated by dots, found ${parts.length})`);
  if (parts[1] !== '') return fail('manifest.json.jws carries its payload; expected detached content (header..signature) over manifest.json');
  let header: JwsHeader;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as JwsHeader;
  } catch {
    return fail('the JWS header is not base64url JSON');
  }
  if (!ALGS.includes(header.alg)) return fail(`the JWS algorithm ${JSON.stringify(header.alg)} is not accepted (expected one of ${ALGS.join(', ')})`, header);
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) return fail('the JWS header has no x5c certificate chain', header);
  let certificates: X509Certificate[];
  try {
    certificates = header.x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch (err) {
    return fail(`an x5c certificate cannot be read: ${(err as Error).message}`, header);
  }
  const key = certificates[0]!.publicKey;
  const type = key.asymmetricKeyType;
  const wantEc = header.alg.startsWith('ES');
  if (wantEc !== (type === 'ec') || (!wantEc && type !== 'rsa' && type !== 'rsa-pss')) {
    return fail(`the JWS says ${header.alg} but the x5c certificate holds a ${String(type)} key`, header, certificates);
  }
  if (wantEc && CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? '']?.alg !== header.alg) {
    return fail(`the JWS says ${header.alg} but the certificate's key is on ${String(key.asymmetricKeyDetails?.namedCurve)}`, header, certificates);
  }
  const input = Buffer.from(`${parts[0]}.${b64url(payload)}`, 'ascii');
  let good = false;
  try {
    good = verifyWith(header.alg, key, input, Buffer.from(parts[2]!, 'base64url'));
  } catch {
    good = false;
  }
  if (!good) return fail('the signature does not verify over manifest.json: the manifest was changed after it was signed, or was signed by another key', header, certificates);
  return { ok: true, reason: `signature ${header.alg} verifies over manifest.json`, header, certificates };
}

export interface ChainResult {
  readonly ok: boolean;
  readonly reason: string;
  /** Subjects from the signer up to the anchor. */
  readonly path: readonly string[];
}

const subjectOf = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ');

function validAt(c: X509Certificate, at: Date): string | undefined {
  const from = new Date(c.validFrom);
  const to = new Date(c.validTo);
  if (at < from) return `${subjectOf(c)} is not valid yet at ${at.toISOString()} (valid from ${from.toISOString()})`;
  if (at > to) return `${subjectOf(c)} had expired at ${at.toISOString()} (valid to ${to.toISOString()})`;
  return undefined;
}

/**
 * Whether the signer certificate chains to one of the trust anchors, each certificate on the way valid at
 * `at` and each issuer a CA. The x5c certificates after the first serve as intermediates only: trust comes
 * from the anchors, never from the bundle.
 */
export function verifyChain(certificates: readonly X509Certificate[], trustAnchorsPem: readonly string[], at: Date): ChainResult {
  const anchors = trustAnchorsPem.flatMap(pemCertificates).map((d) => new X509Certificate(d));
  if (anchors.length === 0) return { ok: false, reason: 'no trust anchor was given: pass the PEM certificate(s) of the organisation\'s CA', path: [] };
  const leaf = certificates[0];
  if (!leaf) return { ok: false, reason: 'no signer certificate', path: [] };
  const intermediates = certificates.slice(1);
  const path: string[] = [];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    path.push(subjectOf(current));
    const expired = validAt(current, at);
    if (expired) return { ok: false, reason: expired, path };
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) {
      return { ok: true, reason: `chains to the trust anchor ${subjectOf(current)}`, path };
    }
    const issuedBy = (c: X509Certificate) => current.checkIssued(c) && current.verify(c.publicKey);
    const anchor = anchors.find((a) => a.ca && issuedBy(a));
    if (anchor) {
      path.push(subjectOf(anchor));
      const bad = validAt(anchor, at);
      if (bad) return { ok: false, reason: `the trust anchor ${bad}`, path };
      return { ok: true, reason: `chains to the trust anchor ${subjectOf(anchor)}`, path };
    }
    const next = intermediates.find((c) => c.ca && issuedBy(c) && c.fingerprint256 !== current.fingerprint256);
    if (!next) {
      return { ok: false, reason: `${subjectOf(current)} does not chain to any of the ${anchors.length} trust anchor(s): no CA certificate among them or in x5c issued it (issuer ${current.issuer.replace(/\n/g, ', ')})`, path };
    }
    current = next;
  }
  return { ok: false, reason: 'the certificate chain is longer than 8: refusing it', path };
}
