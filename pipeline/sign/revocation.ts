/**
 * Validation data for PAdES B-LT / B-LTA (ETSI EN 319 142-1): the certificates of a signer's path and the TSA's,
 * and an OCSP response and/or a CRL for each certificate of those paths but the anchor, fetched from the addresses
 * the certificates name (AIA OCSP, CRL distribution points).
 *
 * One ValidationCache per batch: every answer is fetched once and shared by all the batch's certificates (a nightly
 * batch of 100,000 makes one OCSP request per certificate in the chain, not 100,000). The data is plain bytes, so a
 * batch fetches it once (`prefetchValidation`) and hands it to its worker threads with the rest of the kit.
 */
import { createHash } from 'node:crypto';
import * as pkijs from '../pki/pkijs.js';
import { SkillcertError } from '../core/errors.js';
import { isoTime } from '../core/time.js';
import { toDer } from '../pki/asn1.js';
import { buildPath, certFromDer, cn, parseAnchors, type Cert } from '../pki/chain.js';
import { crlUrls, isSelfSigned, ocspRequest, ocspUrls, revocationStatus, type StatusFinding } from '../pki/revocation.js';
import type { LoadedSigner } from './identity.js';
import { requestTimestamp } from './tsa.js';

/** What goes into a DSS: DER certificates, OCSP responses and CRLs, each once. */
export interface ValidationData {
  readonly certs: readonly Buffer[];
  readonly ocsps: readonly Buffer[];
  readonly crls: readonly Buffer[];
}

export const EMPTY: ValidationData = { certs: [], ocsps: [], crls: [] };

const key = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The union of several ValidationData, each item once, in first-seen order. */
export function mergeValidation(...parts: readonly ValidationData[]): ValidationData {
  const uniq = (lists: (readonly Buffer[])[]) => {
    const seen = new Set<string>();
    return lists.flat().filter((b) => {
      const k = key(b);
      return !seen.has(k) && !!seen.add(k);
    });
  };
  return { certs: uniq(parts.map((p) => p.certs)), ocsps: uniq(parts.map((p) => p.ocsps)), crls: uniq(parts.map((p) => p.crls)) };
}

export interface ValidationCacheOptions {
  /** PEM trust anchors (the profile's signer.trustAnchors); self-signed certificates in a chain are used without them. */
  readonly trustAnchors?: readonly string[];
  readonly fetch?: typeof fetch;
  /** Per request; default 15 s. */
  readonly timeoutMs?: number;
}

/** The certificates a timestamp token carries, its signer first when it is among them. */
export function tokenCertificates(token: Uint8Array): Cert[] {
  const ci = pkijs.ContentInfo.fromBER(token);
  const sd = new pkijs.SignedData({ schema: ci.content });
  const certs = (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate).map((c) => certFromDer(toDer(c.toSchema())));
  const sid = sd.signerInfos[0]?.sid;
  const isSigner = (c: Cert) => sid instanceof pkijs.IssuerAndSerialNumber && c.pkijs.issuer.isEqual(sid.issuer) && c.pkijs.serialNumber.isEqual(sid.serialNumber);
  return [...certs.filter(isSigner), ...certs.filter((c) => !isSigner(c))];
}

export class ValidationCache {
  private readonly anchors: Cert[];
  private readonly answers = new Map<string, Promise<Buffer>>();
  private readonly tsaProbes = new Map<string, Promise<ValidationData>>();
  /** Requests sent, by kind: what the "once per batch" promise is measured by. */
  readonly sent = { ocsp: 0, crl: 0, tsa: 0 };

  constructor(private readonly opts: ValidationCacheOptions = {}) {
    this.anchors = parseAnchors(opts.trustAnchors ?? []);
  }

  /** The leaf-to-anchor path of a certificate, with `pool` as intermediates; fails with the chain builder's reason. */
  path(leaf: Cert, pool: readonly Cert[]): Cert[] {
    const anchors = [...this.anchors, ...pool.filter((c) => isSelfSigned(c) && this.anchors.length === 0)];
    const p = buildPath(leaf, pool, anchors);
    if (!p.ok) throw new SkillcertError('E_SIGN', `cannot collect validation data for "${cn(leaf)}": it is ${p.message}`, { field: 'signer.trustAnchors' });
    return [...p.path];
  }

  /** Certificates and revocation data of the whole path (the anchor needs none). */
  async forPath(path: readonly Cert[]): Promise<{ data: ValidationData; findings: { cert: Cert; finding?: StatusFinding }[] }> {
    const ocsps: Buffer[] = [];
    const crls: Buffer[] = [];
    const findings: { cert: Cert; finding?: StatusFinding }[] = [];
    for (let i = 0; i < path.length; i++) {
      const cert = path[i]!;
      const issuer = path[i + 1];
      if (!issuer || isSelfSigned(cert)) continue;
      const got: { ocsps: Buffer[]; crls: Buffer[] } = { ocsps: [], crls: [] };
      const ocspUrl = ocspUrls(cert)[0];
      if (ocspUrl) got.ocsps.push(await this.answer(`ocsp ${key(cert.der)}`, 'ocsp', ocspUrl, ocspRequest(cert, issuer)));
      const crlUrl = crlUrls(cert)[0];
      if (crlUrl) got.crls.push(await this.answer(`crl ${crlUrl}`, 'crl', crlUrl));
      ocsps.push(...got.ocsps);
      crls.push(...got.crls);
      findings.push({ cert, finding: revocationStatus(cert, issuer, got) });
    }
    return { data: mergeValidation({ certs: path.map((c) => c.der), ocsps, crls }), findings };
  }

  /**
   * The signer's validation data, refusing a certificate of the path that is revoked at `at` (a signature made
   * with a revoked key is worthless, ETSI EN 319 102-1 TOTAL-FAILED/REVOKED). `allowRevoked` is for test fixtures.
   */
  async forSigner(signer: LoadedSigner, at: Date, allowRevoked = false): Promise<ValidationData> {
    const certs = signer.chain.map(certFromDer);
    const { data, findings } = await this.forPath(this.path(certs[0]!, certs));
    for (const { cert, finding } of findings) {
      if (!finding) throw new SkillcertError('E_SIGN', `no revocation data for "${cn(cert)}": the addresses it names (${[...ocspUrls(cert), ...crlUrls(cert)].join(', ') || 'none'}) gave no usable OCSP response or CRL`, { field: 'signer.level' });
      if (finding.status === 'revoked' && finding.revokedAt! <= at && !allowRevoked) {
        throw new SkillcertError('E_SIGN', `the certificate "${cn(cert)}" was revoked on ${isoTime(finding.revokedAt!)} (${finding.source.toUpperCase()}), before the signing time ${isoTime(at)}: it may not sign; renew it and update signer.p12`, { field: 'signer.p12' });
      }
    }
    return data;
  }

  /** The validation data of the TSA that signed `token` (its path and revocation data). */
  async forToken(token: Uint8Array): Promise<ValidationData> {
    const certs = tokenCertificates(token);
    if (!certs[0]) return EMPTY;
    return (await this.forPath(this.path(certs[0], certs))).data;
  }

  /**
   * Validation data for everything already in a signed PDF (given the /Contents of each of its signatures and
   * document timestamps): each signer's path, each signature timestamp's and document timestamp's TSA path.
   */
  async forSignatures(contents: readonly Buffer[]): Promise<ValidationData> {
    const parts: ValidationData[] = [];
    for (const raw of contents) {
      const ci = pkijs.ContentInfo.fromBER(raw);
      const sd = new pkijs.SignedData({ schema: ci.content });
      if (sd.encapContentInfo.eContentType === '1.2.840.113549.1.9.16.1.4') {
        parts.push(await this.forToken(toDer(ci.toSchema())));
        continue;
      }
      const si = sd.signerInfos[0];
      const sid = si?.sid;
      const certs = (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate).map((c) => certFromDer(toDer(c.toSchema())));
      const leaf = certs.find((c) => sid instanceof pkijs.IssuerAndSerialNumber && c.pkijs.issuer.isEqual(sid.issuer) && c.pkijs.serialNumber.isEqual(sid.serialNumber));
      if (!leaf) throw new SkillcertError('E_SIGN', 'a signature of the PDF does not carry its signer certificate; its validation data cannot be collected');
      parts.push((await this.forPath(this.path(leaf, certs))).data);
      const token = si?.unsignedAttrs?.attributes.find((a) => a.type === '1.2.840.113549.1.9.16.2.14')?.values[0];
      if (token) parts.push(await this.forToken(Buffer.from(token.toBER(false))));
    }
    return mergeValidation(...parts);
  }

  /** The TSA's validation data learnt from one probe token, once per TSA address (its chain does not change in a batch). */
  forTsa(url: string, timeoutMs?: number): Promise<ValidationData> {
    let p = this.tsaProbes.get(url);
    if (!p) {
      this.sent.tsa++;
      const probe = createHash('sha256').update(`skillcert validation probe ${url}`).digest();
      p = requestTimestamp(probe, { url, ...(timeoutMs ? { timeoutMs } : {}), ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}) }).then((t) => this.forToken(t));
      p.catch(() => this.tsaProbes.delete(url));
      this.tsaProbes.set(url, p);
    }
    return p;
  }

  private answer(cacheKey: string, kind: 'ocsp' | 'crl', url: string, body?: Buffer): Promise<Buffer> {
    let p = this.answers.get(cacheKey);
    if (!p) {
      this.sent[kind]++;
      p = this.fetchOnce(kind, url, body);
      p.catch(() => this.answers.delete(cacheKey));
      this.answers.set(cacheKey, p);
    }
    return p;
  }

  private async fetchOnce(kind: 'ocsp' | 'crl', url: string, body?: Buffer): Promise<Buffer> {
    const timeoutMs = this.opts.timeoutMs ?? 15_000;
    const doFetch = this.opts.fetch ?? fetch;
    try {
      const res = await doFetch(
        url,
        kind === 'ocsp'
          ? { method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' }, body: body!, signal: AbortSignal.timeout(timeoutMs) }
          : { signal: AbortSignal.timeout(timeoutMs) },
      );
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      const e = err as Error;
      throw new SkillcertError('E_SIGN', `cannot fetch the ${kind === 'ocsp' ? 'OCSP response' : 'CRL'} from ${url}: ${e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.message}`, { field: 'signer.level' }, { cause: err });
    }
  }
}

/** What a batch fetches once before signing (plain bytes: it crosses to worker threads as it is). */
export interface PrefetchedValidation {
  /** The signer's path and its revocation data, checked not revoked at the batch's signing time. */
  readonly signer: ValidationData;
  /** The TSA's path and revocation data. */
  readonly tsa: ValidationData;
}

/**
 * The one call a batch makes before signing at B-LT or B-LTA: `await prefetchValidation(profile.signer, signer, now)`.
 * Refuses (E_SIGN) a signer certificate revoked before `at`, before anything is written.
 */
export async function prefetchValidation(
  cfg: { readonly tsaUrl?: string | undefined; readonly trustAnchorPems?: readonly string[] },
  signer: LoadedSigner,
  at: Date,
  opts: Omit<ValidationCacheOptions, 'trustAnchors'> & { cache?: ValidationCache; allowRevoked?: boolean } = {},
): Promise<PrefetchedValidation> {
  const cache = opts.cache ?? new ValidationCache({ ...opts, trustAnchors: cfg.trustAnchorPems ?? [] });
  const signerData = await cache.forSigner(signer, at, opts.allowRevoked);
  const tsa = cfg.tsaUrl ? await cache.forTsa(cfg.tsaUrl) : EMPTY;
  return { signer: signerData, tsa };
}
