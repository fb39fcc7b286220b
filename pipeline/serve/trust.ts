/**
 * The trust list of the verifier's side: which CA certificates a PDF signer must chain to (the anchors), and which
 * organisation certificates may sign a QR code, under which organisation code. The service and the static site
 * publish the second part as trust.json — the page verifies a QR code against it, offline, in the browser — in the
 * shape the status engineer and the web engineer agreed on:
 *
 *   { "organisations": [{ "orgCode": "0000", "name": { "zh": "…", "en": "…" }, "certificates": ["-----BEGIN CERTIFICATE-----…"] }] }
 *
 * Two sources, either or both:
 *   - profiles: each profile's orgCode and names, its signer.trustAnchors, and the certificate in its PKCS#12
 *     (read with the profile's password source; the private key is dropped at once). Fits the issuing
 *     organisation's own service, which has its profiles anyway.
 *   - a folder of PEM files (`--trust DIR`): every CA certificate in it is an anchor; every other certificate is an
 *     organisation's signing certificate, and its file name starts with the organisation code
 *     (`0000.pem`, `0217-jingdian.pem`). Fits a verifier that has no keys and no profiles.
 * An organisation certificate that does not chain to one of the anchors is refused at start, with its file named:
 * a certificate anyone can make vouches for nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SkillcertError } from '../core/errors.js';
import { loadProfile, profilePath, type Profile } from '../core/profile.js';
import { buildPath, certFromDer, cn, parseAnchors, type Cert } from '../pki/chain.js';
import { pemCertificates } from '../pki/pem.js';
import { loadSigner, readPassword } from '../sign/index.js';

export interface TrustedOrganisation {
  readonly orgCode: string;
  readonly name: { readonly zh: string; readonly en: string };
  /** PEM, one certificate each. */
  readonly certificates: readonly string[];
}

/** trust.json, as published. */
export interface TrustList {
  readonly organisations: readonly TrustedOrganisation[];
}

export interface Trust {
  /** PEM text of the anchors, for the PDF verifier. */
  readonly anchors: readonly string[];
  readonly list: TrustList;
}

const pemOf = (der: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

function isCa(c: Cert): boolean {
  return c.x509.ca;
}

/**
 * Adds an organisation's certificate to the list, merging by organisation code and name: the code alone is not an
 * organisation's (0000 is every one first filed with the Beijing bureau, and the committees of competitions).
 */
function add(orgs: Map<string, { orgCode: string; name: { zh: string; en: string }; certificates: string[] }>, orgCode: string, name: { zh: string; en: string }, pem: string): void {
  const key = `${orgCode}\n${name.zh}`;
  const o = orgs.get(key) ?? { orgCode, name, certificates: [] };
  if (!o.certificates.includes(pem)) o.certificates.push(pem);
  orgs.set(key, o);
}

/** The profile's signing certificate, then the CA certificates its PKCS#12 holds (the way to an anchor). */
function profileChain(p: Profile, env: NodeJS.ProcessEnv): Cert[] {
  const password = readPassword(p.signer, env, p.dir);
  return loadSigner({ p12: readFileSync(profilePath(p, p.signer.p12)), password, source: p.signer.p12 }).chain.map(certFromDer);
}

/** Builds the trust from profiles and/or a folder of PEM files; throws E_USAGE / E_VERIFY saying what is wrong. */
export function loadTrust(opts: { profiles?: readonly string[]; dir?: string; env?: NodeJS.ProcessEnv }): Trust {
  const anchorPems: string[] = [];
  const orgs = new Map<string, { orgCode: string; name: { zh: string; en: string }; certificates: string[] }>();
  const candidates: { cert: Cert; intermediates: readonly Cert[]; orgCode: string; name: { zh: string; en: string }; source: string }[] = [];
  for (const file of opts.profiles ?? []) {
    const p = loadProfile(file);
    for (const a of p.signer.trustAnchors) anchorPems.push(readFileSync(profilePath(p, a), 'utf8'));
    const [cert, ...intermediates] = profileChain(p, opts.env ?? process.env);
    candidates.push({ cert: cert!, intermediates, orgCode: p.orgCode, name: { zh: p.name.zh, en: p.name.en }, source: `profile ${p.id}` });
  }
  if (opts.dir) {
    const files = readdirSync(opts.dir).filter((f) => f.toLowerCase().endsWith('.pem')).sort();
    if (files.length === 0) throw new SkillcertError('E_USAGE', `--trust ${opts.dir} holds no .pem file: put the CA certificates and the organisations' signing certificates (named <orgCode>….pem) there`);
    for (const f of files) {
      const ders = pemCertificates(readFileSync(join(opts.dir, f), 'utf8'));
      for (const der of ders) {
        const cert = certFromDer(der);
        if (isCa(cert)) {
          anchorPems.push(pemOf(der));
          continue;
        }
        const orgCode = /^(\d{4})/.exec(basename(f))?.[1];
        if (!orgCode) throw new SkillcertError('E_USAGE', `${join(opts.dir, f)} is an organisation certificate ("${cn(cert)}"), but its file name does not start with the 4-digit organisation code (e.g. 0000.pem)`);
        const org = cert.x509.subject.split('\n').find((l) => l.startsWith('O='))?.slice(2) ?? cn(cert);
        candidates.push({ cert, intermediates: ders.filter((d) => d !== der).map(certFromDer), orgCode, name: { zh: org, en: org }, source: join(opts.dir, f) });
      }
    }
  }
  if (anchorPems.length === 0) throw new SkillcertError('E_USAGE', 'no trust anchor: give --trust DIR with the CA certificate(s), or profiles whose signer.trustAnchors name them');
  const anchors = parseAnchors(anchorPems);
  for (const c of candidates) {
    const path = buildPath(c.cert, c.intermediates, anchors);
    if (!path.ok) throw new SkillcertError('E_VERIFY', `the organisation certificate "${cn(c.cert)}" of ${c.source} is not trusted: ${path.message}`);
    add(orgs, c.orgCode, c.name, pemOf(c.cert.der));
  }
  return { anchors: [...new Set(anchorPems)], list: { organisations: [...orgs.values()].sort((a, b) => a.orgCode.localeCompare(b.orgCode) || a.name.zh.localeCompare(b.name.zh)) } };
}

/** Every organisation certificate of the list (PEM), for the QR keys of the PDF verifier. */
export function organisationCertificates(list: TrustList): string[] {
  return [...new Set(list.organisations.flatMap((o) => o.certificates))];
}
