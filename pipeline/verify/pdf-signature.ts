/**
 * Verifies the signature of a certificate PDF (SPEC §6): the byte range covers the whole file, the digest
 * matches, the CMS signature verifies, the signer chains to a configured trust anchor and was valid at the
 * signing time (the timestamp's time when there is a valid one), and the timestamp token verifies.
 * Returns every check; never throws for a bad PDF (only for unreadable trust anchors, a configuration error).
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFNumber, PDFString, type PDFObject } from 'pdf-lib';
import { derElementLength, OID } from '../pki/asn1.js';
import { buildPath, cn, invalidAt, keyUsageAllowsSigning, parseAnchors, type Cert } from '../pki/chain.js';
import { isoTime } from '../core/time.js';
import { fail, pass, unknown, type Check } from '../core/check.js';
import { essBinding, messageDigestOf, parseCms, verifySignerSignature, type ParsedCms } from './cms.js';
import { verifyTimestampToken } from './timestamp.js';

export interface VerifyPdfOptions {
  /** PEM text of the trust anchors (each string may hold several certificates). */
  readonly trustAnchors: readonly string[];
  /** The verification time ("now" of the caller); when given, the chain is also checked at this time. */
  readonly at?: Date;
}

interface FoundSignature {
  readonly byteRange: readonly number[];
  readonly contents?: Buffer;
  readonly subFilter?: string;
  readonly m?: string;
  readonly field?: string;
}

/**
 * The signatures found in, and the CMS parsed from, one byte array: `skillcert verify` asks verifyPdfSignature and
 * pdfSignerCertificate about the same bytes, and parsing the CMS (pkijs) is the dearest step of both.
 */
const foundFor = new WeakMap<Uint8Array, Promise<FoundSignature[]>>();
const cmsFor = new WeakMap<Uint8Array, { der: Buffer; cms: ParsedCms }>();
function signaturesOf(pdfBytes: Uint8Array, pdf: Buffer): Promise<FoundSignature[]> {
  let found = foundFor.get(pdfBytes);
  if (!found) foundFor.set(pdfBytes, (found = findSignatures(pdf)));
  return found;
}
function cmsOf(pdfBytes: Uint8Array, der: Buffer): ParsedCms {
  const hit = cmsFor.get(pdfBytes);
  if (hit && hit.der.equals(der)) return hit.cms;
  const cms = parseCms(der);
  cmsFor.set(pdfBytes, { der, cms });
  return cms;
}

export async function verifyPdfSignature(pdfBytes: Uint8Array, opts: VerifyPdfOptions): Promise<Check[]> {
  const anchors = parseAnchors(opts.trustAnchors);
  const pdf = Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength);
  const found = await signaturesOf(pdfBytes, pdf);
  if (found.length === 0) return [fail('signature.present', 'the PDF has no signature (no signature dictionary with a /ByteRange)')];

  const checks: Check[] = [];
  // The signature reaching furthest into the file is the one that must cover it; we sign once per certificate.
  const sig = found.reduce((a, b) => (end(b) > end(a) ? b : a));
  checks.push(
    found.length === 1
      ? pass('signature.present', `one signature${sig.field ? ` (field "${sig.field}")` : ''}`)
      : unknown('signature.present', `${found.length} signatures; checking the last one${sig.field ? ` (field "${sig.field}")` : ''}`),
  );

  // 1. Byte range: [0, a) + [b, b+c) with the gap exactly the /Contents hex string.
  const [o1, l1, o2, l2] = sig.byteRange as [number, number, number, number];
  const shapeOk =
    sig.byteRange.length === 4 && sig.byteRange.every((n) => Number.isInteger(n) && n >= 0) && o1 === 0 && l1 < o2 && o2 + l2 <= pdf.length &&
    pdf[l1] === 0x3c /* < */ && pdf[o2 - 1] === 0x3e /* > */ && /^[0-9a-fA-F\s]*$/.test(pdf.toString('latin1', l1 + 1, o2 - 1));
  if (!shapeOk) {
    checks.push(fail('signature.byteRange', `the /ByteRange [${sig.byteRange.join(' ')}] does not leave out exactly the /Contents string of this ${pdf.length}-byte file`));
    return checks;
  }
  const rawContents = Buffer.from(pdf.toString('latin1', l1 + 1, o2 - 1).replace(/\s+/g, ''), 'hex');
  if (sig.contents && !trimZeros(sig.contents).equals(trimZeros(rawContents))) {
    checks.push(fail('signature.byteRange', 'the /Contents of the signature dictionary is not the string the /ByteRange leaves out'));
    return checks;
  }
  checks.push(pass('signature.byteRange', `the /ByteRange [${sig.byteRange.join(' ')}] leaves out exactly the /Contents string`));

  const signedEnd = o2 + l2;
  const tail = pdf.subarray(signedEnd);
  if (tail.length === 0) {
    checks.push(pass('signature.wholeFile', `the signature covers the whole file (${pdf.length} bytes)`));
  } else if (tail.length <= 2 && /^[\r\n]+$/.test(tail.toString('latin1'))) {
    checks.push(pass('signature.wholeFile', `the signature covers the whole file but ${tail.length} end-of-line byte(s)`));
  } else {
    const update = /%%EOF/.test(tail.toString('latin1')) ? 'an incremental update' : 'bytes';
    checks.push(fail('signature.wholeFile', `${tail.length} bytes were added after signing (${update}): the signature covers bytes 0-${signedEnd - 1} of ${pdf.length}; the added part is not signed`));
  }

  // 2. CMS
  const cmsLength = derElementLength(rawContents);
  let cms: ParsedCms;
  try {
    if (cmsLength <= 0 || cmsLength > rawContents.length) throw new Error(`the /Contents (${rawContents.length} bytes) does not start with a complete DER element`);
    cms = cmsOf(pdfBytes, rawContents.subarray(0, cmsLength));
  } catch (err) {
    checks.push(fail('signature.cms', `the signature is not a readable CMS SignedData: ${(err as Error).message}`));
    return checks;
  }

  const md = messageDigestOf(cms);
  if (!cms.hash || cms.hash === 'sha1') {
    checks.push(fail('signature.digest', `digest algorithm ${cms.digestAlgorithm} is ${cms.hash === 'sha1' ? 'SHA-1, which is not accepted' : 'not supported'}`));
  } else if (!md) {
    checks.push(fail('signature.digest', 'the CMS has no message-digest attribute'));
  } else {
    const h = createHash(cms.hash);
    h.update(pdf.subarray(0, l1));
    h.update(pdf.subarray(o2, signedEnd));
    const actual = h.digest();
    checks.push(
      actual.equals(md)
        ? pass('signature.digest', `the ${hashLabel(cms.hash)} of the signed bytes matches the signature`)
        : fail('signature.digest', `the ${hashLabel(cms.hash)} of the signed bytes is ${actual.toString('hex').slice(0, 16)}…, the signature says ${md.toString('hex').slice(0, 16)}…: the file was changed after signing`),
    );
  }

  const sv = verifySignerSignature(cms);
  checks.push(sv.ok ? pass('signature.cms', sv.message) : fail('signature.cms', sv.message));
  const ess = essBinding(cms);
  // A wrong ESS hash is a substitution attempt (fail); a missing one is only outside PAdES (indeterminate).
  checks.push(
    ess.ok === true
      ? pass('signature.signingCertificate', ess.message)
      : ess.ok === false && ess.present
        ? fail('signature.signingCertificate', ess.message)
        : unknown('signature.signingCertificate', `${ess.message} (PAdES requires one; adbe.pkcs7.detached does not)`),
  );

  // PAdES baseline profile (ETSI EN 319 142-1 B-B): SubFilter, no CMS signing-time, the claimed time in /M.
  const claimed = sig.m ? parsePdfDate(sig.m) : undefined;
  const profileIssues: string[] = [];
  if (sig.subFilter !== 'ETSI.CAdES.detached') profileIssues.push(`SubFilter is ${sig.subFilter ?? '(none)'}, not ETSI.CAdES.detached`);
  if (cms.signedAttrs?.has(OID.signingTime)) profileIssues.push('the CMS carries a signing-time attribute (PAdES puts the time in /M)');
  if (!claimed) profileIssues.push(sig.m ? `/M "${sig.m}" is not a PDF date` : 'the signature dictionary has no /M (signing time)');
  if (ess.present !== 'v2') profileIssues.push('no ESS signing-certificate-v2');
  checks.push(
    profileIssues.length === 0
      ? pass('signature.pades', `PAdES baseline ${cms.unsignedAttrs.has(OID.signatureTimeStampToken) ? 'B-T' : 'B-B'} (ETSI.CAdES.detached, signing time ${isoTime(claimed!)} in /M)`)
      : // A profile deviation, not tampering: what pdfsig accepts must not fail here; the other checks judge integrity.
        unknown('signature.pades', `not PAdES baseline: ${profileIssues.join('; ')}`),
  );

  if (!cms.signer) {
    checks.push(fail('signer.trusted', 'the signer certificate is not in the signature'));
    return checks;
  }
  const signer = cms.signer;

  // 3. Timestamp (B-T)
  let trustedTime: Date | undefined;
  const token = cms.unsignedAttrs.get(OID.signatureTimeStampToken)?.[0];
  if (token) {
    const ts = verifyTimestampToken(token, cms.signatureValue, anchors);
    checks.push(...ts.checks);
    trustedTime = ts.trustedTime;
  }

  // 4. Trust and validity
  const path = buildPath(signer, cms.certs, anchors);
  checks.push(path.ok ? pass('signer.trusted', `"${cn(signer)}" ${path.message}`) : fail('signer.trusted', `"${cn(signer)}" is ${path.message}`));
  const ku = keyUsageAllowsSigning(signer);
  checks.push(ku.ok ? pass('signer.keyUsage', ku.message) : fail('signer.keyUsage', ku.message));

  const chain: readonly Cert[] = path.path;
  const when = trustedTime ?? claimed;
  const whenText = trustedTime ? `the timestamp time ${isoTime(trustedTime)}` : claimed ? `the signing time ${isoTime(claimed)} (claimed in /M; no timestamp proves it)` : '';
  if (!when) {
    checks.push(unknown('signer.validAtSigningTime', 'no signing time: neither /M nor a timestamp'));
  } else {
    const bad = invalidAt(chain, when);
    checks.push(bad ? fail('signer.validAtSigningTime', `${bad.message}, which does not include ${whenText}`) : pass('signer.validAtSigningTime', `the certificates were valid at ${whenText}`));
  }
  if (opts.at) {
    const badNow = invalidAt(chain, opts.at);
    if (!badNow) checks.push(pass('signer.validAt', `the certificates are valid at ${isoTime(opts.at)}`));
    else if (trustedTime && !invalidAt(chain, trustedTime)) checks.push(pass('signer.validAt', `${badNow.message}, but the timestamp proves the signature was made at ${isoTime(trustedTime)}, while it was valid`));
    else if (claimed && !invalidAt(chain, claimed)) checks.push(unknown('signer.validAt', `${badNow.message}; the signature claims ${isoTime(claimed)}, when it was valid, but without a timestamp that cannot be proved`));
    else checks.push(fail('signer.validAt', `${badNow.message} (checked at ${isoTime(opts.at)})`));
  }
  return checks;
}

const hashLabel = (h: string) => h.replace(/^sha/, 'SHA-');

const end = (s: FoundSignature) => (s.byteRange[2] ?? 0) + (s.byteRange[3] ?? 0);

function trimZeros(b: Buffer): Buffer {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return b.subarray(0, n);
}

/** Signature dictionaries from the AcroForm (pdf-lib), or from a raw scan of /ByteRange when the PDF does not parse. */
async function findSignatures(pdf: Buffer): Promise<FoundSignature[]> {
  try {
    const doc = await PDFDocument.load(pdf, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: false });
    const out: FoundSignature[] = [];
    const fields = doc.catalog.lookupMaybe(PDFName.of('AcroForm'), PDFDict)?.lookupMaybe(PDFName.of('Fields'), PDFArray);
    const visit = (obj: PDFObject | undefined, name: string | undefined, depth: number) => {
      const f = obj instanceof PDFDict ? obj : undefined;
      if (!f || depth > 8) return;
      const t = f.lookupMaybe(PDFName.of('T'), PDFString, PDFHexString)?.decodeText();
      const full = t === undefined ? name : name ? `${name}.${t}` : t;
      const v = f.lookupMaybe(PDFName.of('V'), PDFDict);
      const br = v?.lookupMaybe(PDFName.of('ByteRange'), PDFArray);
      if (v && br) {
        const contents = v.lookupMaybe(PDFName.of('Contents'), PDFString, PDFHexString);
        const subFilter = v.lookupMaybe(PDFName.of('SubFilter'), PDFName)?.decodeText();
        const m = v.lookupMaybe(PDFName.of('M'), PDFString, PDFHexString)?.decodeText();
        out.push({
          byteRange: br.asArray().map((n) => (n instanceof PDFNumber ? n.asNumber() : NaN)),
          ...(contents ? { contents: Buffer.from(contents.asBytes()) } : {}),
          ...(subFilter ? { subFilter } : {}),
          ...(m ? { m } : {}),
          ...(full ? { field: full } : {}),
        });
      }
      const kids = f.lookupMaybe(PDFName.of('Kids'), PDFArray);
      for (let i = 0; kids && i < kids.size(); i++) visit(kids.lookup(i), full, depth + 1);
    };
    for (let i = 0; fields && i < fields.size(); i++) visit(fields.lookup(i), undefined, 0);
    if (out.length > 0) return out;
  } catch {
    // fall through to the raw scan
  }
  const out: FoundSignature[] = [];
  const text = pdf.toString('latin1');
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    out.push({ byteRange: [m[1], m[2], m[3], m[4]].map(Number) });
  }
  return out;
}

/** PDF date (ISO 32000-1 §7.9.4): D:YYYYMMDDHHmmSSOHH'mm' with everything after the year optional. */
export function parsePdfDate(s: string): Date | undefined {
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?$/.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', tz, th = '00', tm = '00'] = m;
  const utc = Date.UTC(+y!, +mo - 1, +d, +h, +mi, +se);
  const offset = tz === '+' || tz === '-' ? (tz === '+' ? 1 : -1) * (+th * 60 + +tm) : 0;
  const t = new Date(utc - offset * 60_000);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/**
 * The signer's certificate of the PDF's last signature (undefined when there is none or it cannot be read).
 * The QR code's key id names this certificate; it is trusted only as far as `verifyPdfSignature` says.
 */
export async function pdfSignerCertificate(pdfBytes: Uint8Array): Promise<X509Certificate | undefined> {
  const pdf = Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength);
  const found = await signaturesOf(pdfBytes, pdf);
  if (found.length === 0) return undefined;
  const sig = found.reduce((a, b) => (end(b) > end(a) ? b : a));
  const [, l1, o2] = sig.byteRange as [number, number, number, number];
  try {
    const raw = Buffer.from(pdf.toString('latin1', l1 + 1, o2 - 1).replace(/\s+/g, ''), 'hex');
    return cmsOf(pdfBytes, raw.subarray(0, derElementLength(raw))).signer?.x509;
  } catch {
    return undefined;
  }
}
