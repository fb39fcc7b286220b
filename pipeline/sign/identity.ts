/**
 * The signing identity: the organisation's PKCS#12 read ONCE per run into a node:crypto key and its
 * certificate chain; the password comes from an environment variable or a file, never from argv (SPEC §3).
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as pkijs from '../pki/pkijs.js';
import { SkillcertError } from '../core/errors.js';
import { readPkcs12, Pkcs12Error } from './pkcs12.js';

export interface LoadedSigner {
  readonly key: KeyObject;
  readonly keyType: 'ec' | 'rsa';
  readonly certificate: X509Certificate;
  /** DER of the signer certificate, then the rest of the chain found in the PKCS#12. */
  readonly chain: readonly Buffer[];
  /** The signer certificate parsed by pkijs, for the CMS structures (issuer, serial). */
  readonly pkijsCertificate: pkijs.Certificate;
  /** kid = first 8 bytes of SHA-256 over the certificate's SubjectPublicKeyInfo (as in the EU DCC). */
  readonly kid: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Short name for messages: the certificate's CN. */
  readonly label: string;
}

export interface LoadSignerInput {
  readonly p12: Uint8Array;
  readonly password: string;
  /** For messages only, e.g. the profile-relative path of the file. */
  readonly source?: string;
}

/** Reads the PKCS#12 once; wrong password, no key, RC2-era files etc. stop the run with one E_SIGN error. */
export function loadSigner(input: LoadSignerInput): LoadedSigner {
  const source = input.source ?? 'the PKCS#12 file';
  let p12;
  try {
    p12 = readPkcs12(input.p12, input.password);
  } catch (err) {
    const reason = err instanceof Pkcs12Error ? err.reason : 'format';
    throw new SkillcertError('E_SIGN', `cannot load the signing identity from ${source}: ${(err as Error).message}`, { field: 'signer.p12', reason }, { cause: err });
  }
  const type = p12.key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') {
    throw new SkillcertError('E_SIGN', `the signing key in ${source} is ${String(type)}; expected an EC (P-256) or RSA key`, { field: 'signer.p12' });
  }
  if (type === 'ec') {
    const curve = p12.key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new SkillcertError('E_SIGN', `the EC signing key in ${source} is on ${String(curve)}; expected P-256 (prime256v1)`, { field: 'signer.p12' });
  }
  const cert = p12.certificate;
  const leafDer = p12.certificates[0]!;
  return {
    key: p12.key,
    keyType: type,
    certificate: cert,
    chain: p12.certificates,
    pkijsCertificate: pkijs.Certificate.fromBER(leafDer),
    kid: kidOf(cert),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    label: commonName(cert.subject),
  };
}

/** kid of a certificate: the first 8 bytes of SHA-256 over its SubjectPublicKeyInfo. */
export function kidOf(cert: X509Certificate | KeyObject): Buffer {
  const pub = cert instanceof X509Certificate ? cert.publicKey : cert.type === 'private' ? createPublicKey(cert) : cert;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 8);
}

export function commonName(dn: string): string {
  const cn = dn.split('\n').find((l) => l.startsWith('CN='));
  return cn ? cn.slice(3) : dn.replace(/\n/g, ', ');
}

/** Refuses a certificate that is not valid at the signing time: call once before a batch, signPdf calls it per file. */
export function assertUsableAt(signer: LoadedSigner, at: Date): void {
  const iso = (d: Date) => d.toISOString();
  if (at < signer.notBefore) {
    throw new SkillcertError('E_SIGN', `the signing certificate "${signer.label}" is not valid before ${iso(signer.notBefore)}; the signing time is ${iso(at)}`, { field: 'signer.p12' });
  }
  if (at > signer.notAfter) {
    throw new SkillcertError('E_SIGN', `the signing certificate "${signer.label}" expired on ${iso(signer.notAfter)}, before the signing time ${iso(at)}; renew it and update signer.p12`, { field: 'signer.p12' });
  }
}

export interface SignerPasswordSource {
  readonly passwordEnv?: string | undefined;
  readonly passwordFile?: string | undefined;
}

/**
 * The P12 password: from the environment variable named by `passwordEnv` when that is set and non-empty,
 * else from `passwordFile` (relative to the profile's folder; one trailing newline is dropped).
 * Never from a command-line argument (SPEC §3).
 */
export function readPassword(signer: SignerPasswordSource, env: Readonly<Record<string, string | undefined>>, profileDir: string): string {
  if (signer.passwordEnv) {
    const v = env[signer.passwordEnv];
    if (v !== undefined && v !== '') return v;
    if (!signer.passwordFile) {
      throw new SkillcertError('E_PROFILE', `signer.passwordEnv names ${signer.passwordEnv}, but that environment variable is not set; export it or set signer.passwordFile`, { field: 'signer.passwordEnv' });
    }
  }
  if (signer.passwordFile) {
    const file = resolve(profileDir, signer.passwordFile);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SkillcertError('E_PROFILE', `cannot read signer.passwordFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { field: 'signer.passwordFile' }, { cause: err });
    }
    return text.replace(/\r?\n$/, '');
  }
  throw new SkillcertError('E_PROFILE', 'the profile gives no way to the P12 password: set signer.passwordEnv (an environment variable name) or signer.passwordFile (never a command-line argument)', { field: 'signer' });
}
