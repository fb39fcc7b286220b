/**
 * The manifest's signature: a JWS (RFC 7515) with detached content (Appendix F) over manifest.json's exact
 * bytes, in compact form `header..signature`, the signer's certificate chain in `x5c`. ES256 for P-256
 * keys (ES384 / ES512 for P-384 / P-521), RS256 or PS256 for RSA. Verified by `jose`, signed with node:crypto
 * (signingInputSignature says why); the chain to the trust anchors is pki/chain.ts's, as for every other
 * signature. Independent of pipeline/sign: any node:crypto key with its certificate will do, so the bundle can be
 * signed by whoever holds the key.
 */
import { constants, createHash, createPublicKey, createSign, type KeyObject, X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { SkillcertError } from '../core/errors.js';
import { buildPath, certFromDer, cn, invalidAt, parseAnchors } from '../pki/chain.js';
import { pemCertificates } from '../pki/pem.js';

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

const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });

/** Signs `payload` (the manifest's bytes, as they are on disk) and returns the compact detached JWS. */
export async function signDetached(payload: Uint8Array, signer: ManifestSigner): Promise<string> {
  const chain = [...pemCertificates(signer.certificatePem), ...(signer.chainPem ?? []).flatMap(pemCertificates)];
  if (chain.length === 0) throw new SkillcertError('E_SIGN', 'the manifest signer has no certificate: certificatePem holds no -----BEGIN CERTIFICATE----- block', { field: 'signer.certificatePem' });
  const leaf = new X509Certificate(chain[0]!);
  if (!spki(createPublicKey(signer.privateKey)).equals(spki(leaf.publicKey))) {
    throw new SkillcertError('E_SIGN', `the manifest signing key does not belong to the certificate ${leaf.subject.replace(/\n/g, ', ')}; pass the key and certificate of the same identity`, { field: 'signer' });
  }
  const alg = algFor(signer.privateKey, signer.rsaAlgorithm ?? 'RS256');
  const header: JwsHeader = { alg, typ: 'JOSE', cty: 'json', x5c: chain.map((d) => d.toString('base64')), 'x5t#S256': b64url(createHash('sha256').update(chain[0]!).digest()) };
  const protectedB64 = b64url(JSON.stringify(header));
  return `${protectedB64}..${signingInputSignature(protectedB64, payload, alg, signer.privateKey)}`;
}

const HASH: Record<JwsAlg, string> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', RS256: 'sha256', PS256: 'sha256' };

/** Payload bytes base64url-encoded at a time: a multiple of 3, so that the pieces' encodings join into the whole's. */
const PIECE = 3 * 1024 * 1024;

/**
 * The JWS signature (RFC 7515 §5.1) over `protectedB64 '.' BASE64URL(payload)`, the payload encoded and fed to the
 * signer a piece at a time. Written here, not by jose's CompactSign, for memory: CompactSign holds the encoded
 * payload, the signing input and the serialised JWS whole, several copies of a manifest that is 17 MB at 100,000
 * certificates (the bundle's peak rose by ~110 MB while it signed); here one piece (4 MB encoded) at a time.
 * Verification stays jose's (verifyDetached), and the tests verify these signatures with it for every algorithm.
 */
function signingInputSignature(protectedB64: string, payload: Uint8Array, alg: JwsAlg, key: KeyObject): string {
  const sign = createSign(HASH[alg]);
  sign.update(`${protectedB64}.`);
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let at = 0; at < bytes.length; at += PIECE) sign.update(bytes.subarray(at, at + PIECE).toString('base64url'));
  const how = alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' as const }
    : alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { key, padding: constants.RSA_PKCS1_PADDING };
  return sign.sign(how).toString('base64url');
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
export async function verifyDetached(jws: string, payload: Uint8Array): Promise<JwsResult> {
  const fail = (reason: string, header?: JwsHeader, certificates: X509Certificate[] = []): JwsResult => ({ ok: false, reason, ...(header ? { header } : {}), certificates });
  const parts = jws.trim().split('.');
  if (parts.length !== 3) return fail(`manifest.json.jws is not a compact JWS (expected 3 parts separated by dots, found ${parts.length})`);
  if (parts[1] !== '') return fail('manifest.json.jws carries its payload; expected detached content (header..signature) over manifest.json');
  let header: JwsHeader;
  try {
    header = decodeProtectedHeader(jws.trim()) as unknown as JwsHeader;
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
  try {
    await compactVerify(`${parts[0]}.${b64url(payload)}.${parts[2]}`, key, { algorithms: [header.alg] });
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWSInvalid) {
      return fail('the signature does not verify over manifest.json: the manifest was changed after it was signed, or was signed by another key', header, certificates);
    }
    return fail(`the signature cannot be checked: ${(err as Error).message}`, header, certificates);
  }
  return { ok: true, reason: `signature ${header.alg} verifies over manifest.json`, header, certificates };
}

export interface ChainResult {
  readonly ok: boolean;
  readonly reason: string;
  /** Subjects from the signer up to the anchor. */
  readonly path: readonly string[];
}

/**
 * Whether the signer certificate chains to one of the trust anchors, each certificate on the way valid at
 * `at` and each issuer a CA (pki/chain.ts). The x5c certificates after the first serve as intermediates only: trust
 * comes from the anchors, never from the bundle.
 */
export function verifyChain(certificates: readonly X509Certificate[], trustAnchorsPem: readonly string[], at: Date): ChainResult {
  let anchors;
  try {
    anchors = parseAnchors(trustAnchorsPem);
  } catch (err) {
    return { ok: false, reason: (err as Error).message, path: [] };
  }
  if (anchors.length === 0) return { ok: false, reason: 'no trust anchor was given: pass the PEM certificate(s) of the organisation\'s CA', path: [] };
  const [leaf, ...rest] = certificates.map((c) => certFromDer(c.raw));
  if (!leaf) return { ok: false, reason: 'no signer certificate', path: [] };
  const built = buildPath(leaf, rest, anchors);
  const path = built.path.map(cn);
  if (!built.ok) return { ok: false, reason: built.message, path };
  const invalid = invalidAt(built.path, at);
  if (invalid) return { ok: false, reason: `${invalid.message} at ${at.toISOString()}`, path };
  return { ok: true, reason: built.message, path };
}
