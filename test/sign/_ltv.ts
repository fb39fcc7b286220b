/**
 * Helpers of the lasting-signature tests: a PDF signed at a PAdES level with the loopback test PKI, and the
 * independent oracles — pdfsig (NSS database trusting the PKI's root), openssl cms / ocsp / ts over the parts
 * taken out of the file (byte ranges, DSS streams, timestamp tokens).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import * as pkijs from 'pkijs';
import type { SignatureLevel } from '../../pipeline/core/profile.js';
import { PdfBase, PdfUpdate } from '../../pipeline/pdf/update.js';
import { readDss } from '../../pipeline/pdf/dss.js';
import { addValidation, mergeValidation, prefetchValidation, signUpdate, ValidationCache } from '../../pipeline/sign/index.js';
import type { LoadedSigner } from '../../pipeline/sign/identity.js';
import type { TestPki } from '../pki/_pki.js';
import { makeTestPdf, SEAL_RECT } from './_pdf.js';

export async function testBase(): Promise<PdfBase> {
  const doc = await PDFDocument.load(await makeTestPdf());
  return PdfBase.parse(await doc.save({ useObjectStreams: false }));
}

export interface SignAtOptions {
  readonly cache?: ValidationCache;
  readonly signingTime?: Date;
  /** TEST ONLY: sign with a revoked certificate anyway. */
  readonly force?: boolean;
}

/** A test PDF signed by `signer` at `level` with the PKI's TSA and revocation services. */
export async function signAt(pki: TestPki, signer: LoadedSigner, level: SignatureLevel, o: SignAtOptions = {}): Promise<Buffer> {
  const signingTime = o.signingTime ?? new Date();
  const tsaUrl = level === 'B-B' ? undefined : pki.tsaUrl;
  const signed = await signUpdate(new PdfUpdate(await testBase()), signer, {
    signingTime,
    reason: '职业技能等级证书',
    name: signer.label,
    widget: { pageIndex: 0, rect: SEAL_RECT },
    ...(tsaUrl ? { tsaUrl } : {}),
    ...(o.force ? { allowInvalidCertificate: true } : {}),
  });
  if (level !== 'B-LT' && level !== 'B-LTA') return signed;
  const cache = o.cache ?? new ValidationCache({ trustAnchors: [pki.rootPem] });
  const v = await prefetchValidation({ tsaUrl: pki.tsaUrl, trustAnchorPems: [pki.rootPem] }, signer, signingTime, { cache, ...(o.force ? { allowRevoked: true } : {}) });
  return addValidation(signed, { data: mergeValidation(v.signer, v.tsa), ...(level === 'B-LTA' ? { docTimestamp: { url: pki.tsaUrl } } : {}) });
}

/** An NSS database trusting `rootPem` (certutil, libnss3-tools), with the given CRLs (DER) imported (crlutil). */
export function nssDbFor(rootPem: string, crls: readonly Buffer[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-nss-'));
  writeFileSync(join(dir, 'root.pem'), rootPem);
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-n', 'skillcert TEST ONLY PKI root', '-t', 'C,C,C', '-i', join(dir, 'root.pem')]);
  crls.forEach((crl, i) => {
    writeFileSync(join(dir, `${i}.crl`), crl);
    const r = spawnSync('crlutil', ['-I', '-d', `sql:${dir}`, '-i', join(dir, `${i}.crl`), '-B'], { encoding: 'utf8' });
    // A DSS may hold two CRLs of one issuer (renewed by extend): NSS keeps the newer and refuses the older.
    if (r.status !== 0 && !/SEC_ERROR_OLD_CRL/.test(r.stderr)) throw new Error(`crlutil: ${r.stderr}`);
  });
  return dir;
}

/**
 * pdfsig, offline: the NSS database trusts the PKI's root and holds the CRLs of the file's own DSS; -no-ocsp, because
 * NSS's online OCSP check of poppler 22.12 gives "Unknown issue" against the loopback responder (which openssl ocsp
 * accepts) — and offline, with the file's data, is what B-LT is for.
 */
export async function pdfsigWith(file: string, rootPem: string): Promise<string> {
  const data = readDss(await PDFDocument.load(readFileSync(file)));
  const r = spawnSync('pdfsig', ['-nssdir', `sql:${nssDbFor(rootPem, data.crls)}`, '-no-ocsp', file], { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

export interface SignedPart {
  /** The bytes the /ByteRange covers. */
  readonly signedBytes: Buffer;
  /** The DER element at the start of /Contents (the CMS or the timestamp token). */
  readonly der: Buffer;
  readonly docTimestamp: boolean;
}

/** Every signature and document timestamp, in file order, taken apart as an outside tool would. */
export function signedParts(pdf: Buffer): SignedPart[] {
  const out: SignedPart[] = [];
  const text = pdf.toString('latin1');
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const [l1, o2, l2] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const raw = Buffer.from(text.slice(l1 + 1, o2 - 1), 'hex');
    const ci = pkijs.ContentInfo.fromBER(raw);
    const der = Buffer.from(ci.toSchema().toBER(false));
    // A document timestamp's /Contents is a timestamp token: its content is a TSTInfo, a signature's is detached data.
    const docTimestamp = new pkijs.SignedData({ schema: ci.content }).encapContentInfo.eContentType === '1.2.840.113549.1.9.16.1.4';
    out.push({ signedBytes: Buffer.concat([pdf.subarray(0, l1), pdf.subarray(o2, o2 + l2)]), der, docTimestamp });
  }
  return out;
}

/** The DSS streams (decoded), as PEM files for openssl: certificates, CRLs, and each OCSP response as DER. */
export async function dssFiles(pdf: Buffer): Promise<{ dir: string; certs: string; crls: string; ocsps: string[]; counts: { certs: number; ocsps: number; crls: number } }> {
  const data = readDss(await PDFDocument.load(pdf));
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-dss-'));
  const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
  writeFileSync(join(dir, 'certs.pem'), data.certs.map((d) => pem('CERTIFICATE', d)).join(''));
  writeFileSync(join(dir, 'crls.pem'), data.crls.map((d) => pem('X509 CRL', d)).join(''));
  const ocsps = data.ocsps.map((d, i) => {
    const f = join(dir, `ocsp${i}.der`);
    writeFileSync(f, d);
    return f;
  });
  return { dir, certs: join(dir, 'certs.pem'), crls: join(dir, 'crls.pem'), ocsps, counts: { certs: data.certs.length, ocsps: data.ocsps.length, crls: data.crls.length } };
}

export function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}
