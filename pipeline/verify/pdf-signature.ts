/**
 * Verifies the signatures of a certificate PDF (SPEC §6, issue 15): for each signature, the byte range, the digest,
 * the CMS signature, the signer's chain to a configured trust anchor and its validity at the signing time (the
 * timestamp's time when there is a valid one), the signature timestamp, the revocation status from the file's DSS
 * (or fetched, online); for each document timestamp, its token over the byte ranges; the last revision covered by
 * a signature or timestamp, the earlier ones followed only by what PAdES allows. Each signature and timestamp gets
 * an ETSI EN 319 102-1 indication and the PAdES level found. Never throws for a bad PDF (only for unreadable trust
 * anchors, a configuration error).
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFNumber, PDFParser, PDFRawStream, PDFRef, PDFString, type PDFObject } from '../pdf/lib.js';
import type { SignatureLevel } from '../core/profile.js';
import { readDss } from '../pdf/dss.js';
import { derElementLength, OID, parseAsn1, type HashName } from '../pki/asn1.js';
import { crlUrls, isSelfSigned, ocspUrls, revocationStatus } from '../pki/revocation.js';
import { ValidationCache } from '../sign/revocation.js';
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
  /** Fetch fresh OCSP responses and CRLs from the addresses in the certificates, besides the file's DSS. */
  readonly online?: boolean;
  readonly fetch?: typeof fetch;
}

/** ETSI EN 319 102-1 §5.1.3 main indications. */
export type Indication = 'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE';

/** One signature or document timestamp of the file, judged as ETSI EN 319 102-1 says. */
export interface SignatureReport {
  readonly field?: string;
  readonly kind: 'signature' | 'document timestamp';
  readonly signer?: string;
  /** PAdES baseline level found (signatures only): B-B, B-T, B-LT, B-LTA. */
  readonly level?: SignatureLevel;
  readonly indication: Indication;
  /** e.g. REVOKED, HASH_FAILURE, SIG_CRYPTO_FAILURE, FORMAT_FAILURE, NO_CERTIFICATE_CHAIN_FOUND, REVOKED_NO_POE, OUT_OF_BOUNDS_NO_POE, TRY_LATER. */
  readonly subIndication?: string;
  /** The best-signature-time: the earliest time a timestamp proves the signature existed, else the validation time. */
  readonly bestSignatureTime?: string;
  /** Why, in words. */
  readonly message: string;
}

interface FoundSignature {
  readonly byteRange: readonly number[];
  readonly contents?: Buffer;
  readonly subFilter?: string;
  readonly m?: string;
  readonly field?: string;
  readonly docTimestamp?: boolean;
}

/**
 * The signatures found in, and the CMS parsed from, one byte array: `skillcert verify` asks verifyPdfSignature and
 * pdfSignerCertificate about the same bytes, and parsing the CMS (pkijs) is the dearest step of both.
 */
const foundFor = new WeakMap<Uint8Array, ReturnType<typeof findSignatures>>();
const cmsFor = new WeakMap<Uint8Array, { der: Buffer; cms: ParsedCms }>();
function signaturesOf(pdfBytes: Uint8Array, pdf: Buffer): ReturnType<typeof findSignatures> {
  let found = foundFor.get(pdfBytes);
  if (!found) foundFor.set(pdfBytes, (found = findSignatures(pdf)));
  return found;
}
/**
 * The document pdf-lib parsed from these bytes for the signatures (undefined when it cannot read them): the page's
 * drawing is read from the same parse, not from a second one (pdf-lib's load is a few ms of a verification).
 */
export async function pdfDocumentOf(pdfBytes: Uint8Array): Promise<PDFDocument | undefined> {
  return (await signaturesOf(pdfBytes, Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength))).doc;
}
function cmsOf(pdfBytes: Uint8Array, der: Buffer): ParsedCms {
  const hit = cmsFor.get(pdfBytes);
  if (hit && hit.der.equals(der)) return hit.cms;
  const cms = parseCms(der);
  cmsFor.set(pdfBytes, { der, cms });
  return cms;
}

export async function verifyPdfSignature(pdfBytes: Uint8Array, opts: VerifyPdfOptions): Promise<Check[]> {
  return (await verifyPdfSignatures(pdfBytes, opts)).checks;
}

interface Judged {
  readonly checks: Check[];
  readonly report: SignatureReport;
}

/**
 * Every signature and document timestamp of the file, each with its checks (the same ids per signature; with
 * several, each message names its field) and its ETSI indication. Offline by default: revocation data comes from
 * the file's DSS; `online` adds fresh answers from the certificates' OCSP and CRL addresses.
 */
export async function verifyPdfSignatures(pdfBytes: Uint8Array, opts: VerifyPdfOptions): Promise<{ checks: Check[]; signatures: SignatureReport[] }> {
  const anchors = parseAnchors(opts.trustAnchors);
  const pdf = Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength);
  const { found, doc, history } = await signaturesOf(pdfBytes, pdf);
  if (found.length === 0) return { checks: [fail('signature.present', 'the PDF has no signature (no signature dictionary with a /ByteRange)')], signatures: [] };
  const sorted = [...found].sort((a, b) => end(a) - end(b));
  const sigs = sorted.filter((s) => !s.docTimestamp);
  const stamps = sorted.filter((s) => s.docTimestamp);
  const checks: Check[] = [];
  if (sigs.length === 0) return { checks: [fail('signature.present', `the PDF has ${stamps.length} document timestamp(s) but no signature`)], signatures: [] };
  checks.push(
    sigs.length === 1 && stamps.length === 0
      ? pass('signature.present', `one signature${sigs[0]!.field ? ` (field "${sigs[0]!.field}")` : ''}`)
      : pass('signature.present', `${sigs.length} signature(s) (${sigs.map((s) => s.field ?? '?').join(', ')})${stamps.length ? ` and ${stamps.length} document timestamp(s)` : ''}; each is checked`),
  );
  const dss = doc ? readDss(doc) : { certs: [], ocsps: [], crls: [] };
  const ctx: Ctx = { bytes: pdfBytes, pdf, doc, ...(history ? { history } : {}), anchors, opts, data: { ocsps: [...dss.ocsps], crls: [...dss.crls] }, inFile: { ocsps: dss.ocsps, crls: dss.crls }, hasDss: dss.certs.length + dss.ocsps.length + dss.crls.length > 0, furthest: end(sorted[sorted.length - 1]!), stamps: [], cache: opts.online ? new ValidationCache({ trustAnchors: opts.trustAnchors, ...(opts.fetch ? { fetch: opts.fetch } : {}) }) : undefined };
  const reports: SignatureReport[] = [];
  // Document timestamps first (they are POE for the signatures they cover), the latest judged against the validation time.
  const stampResults: Judged[] = [];
  for (const st of stamps) stampResults.push(await judgeDocTimestamp(st, ctx, stamps.length > 1 && st !== stamps[stamps.length - 1]));
  for (const [i, sig] of sigs.entries()) {
    const j = await judgeSignature(sig, ctx, sigs.length + stamps.length > 1 ? `${sig.field ?? `signature ${i + 1}`}: ` : '');
    checks.push(...j.checks);
    reports.push(j.report);
  }
  for (const j of stampResults) {
    checks.push(...j.checks);
    reports.push(j.report);
  }
  return { checks, signatures: reports };
}

interface Ctx {
  /** The caller's bytes (the key of the parse caches) and a Buffer over them. */
  readonly bytes: Uint8Array;
  readonly pdf: Buffer;
  readonly doc?: PDFDocument;
  /** Every definition of every object in the file, in file order (RevisionParser). */
  readonly history?: Definitions;
  readonly anchors: readonly Cert[];
  readonly opts: VerifyPdfOptions;
  /** Revocation data to judge with: the DSS's, plus what --online fetched. */
  readonly data: { ocsps: Buffer[]; crls: Buffer[] };
  /** The DSS's alone: what the level found is judged by. */
  readonly inFile: { readonly ocsps: readonly Buffer[]; readonly crls: readonly Buffer[] };
  readonly hasDss: boolean;
  readonly furthest: number;
  /** Document timestamps that verified: their end in the file and their time. */
  readonly stamps: { end: number; time: Date }[];
  readonly cache: ValidationCache | undefined;
}

/** The byte-range shape and the whole-file (or later-changes) checks shared by signatures and document timestamps. */
async function coverage(sig: FoundSignature, ctx: Ctx, id: string, label: string): Promise<{ checks: Check[]; ok: boolean; changesOk: boolean; l1: number; o2: number; signedEnd: number; raw?: Buffer }> {
  const { pdf } = ctx;
  const checks: Check[] = [];
  const [, l1, o2, l2] = sig.byteRange as [number, number, number, number];
  const o1 = sig.byteRange[0]!;
  const shapeOk =
    sig.byteRange.length === 4 && sig.byteRange.every((n) => Number.isInteger(n) && n >= 0) && o1 === 0 && l1 < o2 && o2 + l2 <= pdf.length &&
    pdf[l1] === 0x3c /* < */ && pdf[o2 - 1] === 0x3e /* > */ && /^[0-9a-fA-F\s]*$/.test(pdf.toString('latin1', l1 + 1, o2 - 1));
  if (!shapeOk) {
    checks.push(fail(`${id}.byteRange`, `${label}the /ByteRange [${sig.byteRange.join(' ')}] does not leave out exactly the /Contents string of this ${pdf.length}-byte file`));
    return { checks, ok: false, changesOk: false, l1, o2, signedEnd: 0 };
  }
  const raw = Buffer.from(pdf.toString('latin1', l1 + 1, o2 - 1).replace(/\s+/g, ''), 'hex');
  if (sig.contents && !trimZeros(sig.contents).equals(trimZeros(raw))) {
    checks.push(fail(`${id}.byteRange`, `${label}the /Contents of the signature dictionary is not the string the /ByteRange leaves out`));
    return { checks, ok: false, changesOk: false, l1, o2, signedEnd: 0 };
  }
  checks.push(pass(`${id}.byteRange`, `${label}the /ByteRange [${sig.byteRange.join(' ')}] leaves out exactly the /Contents string`));
  const signedEnd = o2 + l2;
  const tail = pdf.subarray(signedEnd);
  let changesOk = true;
  if (signedEnd === ctx.furthest) {
    if (tail.length === 0) checks.push(pass('signature.wholeFile', `${label}the signature covers the whole file (${pdf.length} bytes)`));
    else if (tail.length <= 2 && /^[\r\n]+$/.test(tail.toString('latin1'))) checks.push(pass('signature.wholeFile', `${label}the signature covers the whole file but ${tail.length} end-of-line byte(s)`));
    else {
      const update = /%%EOF/.test(tail.toString('latin1')) ? 'an incremental update' : 'bytes';
      checks.push(fail('signature.wholeFile', `${label}${tail.length} bytes were added after signing (${update}): the signature covers bytes 0-${signedEnd - 1} of ${pdf.length}; the added part is not signed`));
    }
  } else {
    // Not the last revision: what later revisions changed must be what PAdES allows after a signature — further
    // signatures, document timestamps and DSS updates (ETSI EN 319 142-1 §5.4) — never the page's content.
    const changed = disallowedChanges(signedEnd, ctx.doc, ctx.history);
    changesOk = changed.length === 0;
    checks.push(
      changesOk
        ? pass(`${id}.changesAfter`, `${label}the revisions after it only add signatures, document timestamps and validation data`)
        : fail(`${id}.changesAfter`, `${label}a later revision changes ${changed.slice(0, 3).join('; ')}: not only signatures, timestamps or validation data were added`),
    );
  }
  return { checks, ok: true, changesOk, l1, o2, signedEnd, raw };
}

const ALLOWED_LATER_KEYS = new Set(['DSS', 'AcroForm', 'Extensions', 'Annots', 'Fields', 'SigFlags']);

/** Objects of the revision ending at `signedEnd` that later revisions changed beyond the keys PAdES updates touch. */
function disallowedChanges(signedEnd: number, full: PDFDocument | undefined, history: Definitions | undefined): string[] {
  if (!full || !history) return ['the file (it cannot be parsed)'];
  const out: string[] = [];
  for (const [ref, defs] of history) {
    // Defined once: either in the signed revision and never replaced, or new after it; neither changes it.
    if (defs.length < 2) continue;
    let old: PDFObject | undefined;
    for (const d of defs) if (d.end <= signedEnd) old = d.object;
    const now = full.context.lookup(ref);
    if (!old || now === old || (now && sameObject(old, now))) continue;
    if (old instanceof PDFDict && now instanceof PDFDict) {
      const keys = new Set([...old.keys(), ...now.keys()].map((k) => k.decodeText()));
      const bad = [...keys].filter((k) => !ALLOWED_LATER_KEYS.has(k) && String(old.get(PDFName.of(k))) !== String(now.get(PDFName.of(k))));
      if (bad.length) out.push(`object ${ref.objectNumber} (${bad.join(', ')})`);
    } else {
      out.push(`object ${ref.objectNumber}`);
    }
  }
  return out;
}

/** Each object's definitions in file order, with the offset where each ended. */
type Definitions = Map<PDFRef, { readonly end: number; readonly object: PDFObject }[]>;

/**
 * pdf-lib's parser, keeping every definition of an object instead of only the last. pdf-lib reads a file front to
 * back, a later definition of an object replacing the earlier one, so the revision that ends at byte S — what a
 * signature covering bytes 0..S signed — is, object by object, the last definition that ended by S: what a parse of
 * the first S bytes alone gives, without that second parse for every signature (it was ~5 ms of a verification, two
 * of them for a style-two certificate). The document is built from the context as PDFDocument.load builds it
 * (pdf-lib 1.17's constructor, which load() calls after this same parse; its TypeScript declaration is private).
 */
class RevisionParser extends PDFParser {
  readonly definitions: Definitions = new Map();

  constructor(bytes: Uint8Array) {
    super(bytes, Infinity, false, false);
    const context = this.context;
    const assign = context.assign.bind(context);
    context.assign = (ref, object) => {
      let defs = this.definitions.get(ref);
      if (!defs) this.definitions.set(ref, (defs = []));
      defs.push({ end: this.bytes.offset(), object });
      assign(ref, object);
    };
  }

  async load(): Promise<{ doc: PDFDocument; history: Definitions }> {
    const context = await this.parseDocument();
    const doc = Reflect.construct(PDFDocument, [context, true, false]) as PDFDocument;
    return { doc, history: this.definitions };
  }
}

/**
 * Whether two parsed objects are written the same. A stream's data is compared as bytes: its text form (what
 * toString gives) copies a font or a content stream into a string first, which was most of this check's time.
 */
function sameObject(a: PDFObject, b: PDFObject): boolean {
  if (a instanceof PDFRawStream && b instanceof PDFRawStream) return Buffer.from(a.contents).equals(b.contents) && a.dict.toString() === b.dict.toString();
  return !(a instanceof PDFRawStream) && !(b instanceof PDFRawStream) && a.toString() === b.toString();
}

async function judgeDocTimestamp(st: FoundSignature, ctx: Ctx, coveredByLater: boolean): Promise<Judged> {
  const label = `${st.field ?? 'document timestamp'}: `;
  const cov = await coverage(st, ctx, 'docTimestamp', label);
  const checks = [...cov.checks];
  const base = { kind: 'document timestamp' as const, ...(st.field ? { field: st.field } : {}) };
  if (!cov.ok || !cov.raw) return { checks, report: { ...base, indication: 'TOTAL-FAILED', subIndication: 'FORMAT_FAILURE', message: 'the byte range is malformed' } };
  const len = derElementLength(cov.raw);
  const token = len > 0 ? cov.raw.subarray(0, len) : cov.raw;
  const imprint = (h: HashName) => createHash(h).update(ctx.pdf.subarray(0, cov.l1)).update(ctx.pdf.subarray(cov.o2, cov.signedEnd)).digest();
  let ts: ReturnType<typeof verifyTimestampToken>;
  try {
    ts = verifyTimestampToken(asn1FromDer(token), imprint, ctx.anchors, { id: 'docTimestamp', what: 'the signed byte ranges of the file' });
  } catch (err) {
    checks.push(fail('docTimestamp.signature', `${label}the document timestamp is not a readable token: ${(err as Error).message}`));
    return { checks, report: { ...base, indication: 'TOTAL-FAILED', subIndication: 'FORMAT_FAILURE', message: 'not a timestamp token' } };
  }
  checks.push(...ts.checks.map((c) => ({ ...c, message: label + c.message })));
  const signer = ts.tsaPath?.[0] ? cn(ts.tsaPath[0]) : undefined;
  const withSigner = { ...base, ...(signer ? { signer } : {}), ...(ts.genTime ? { bestSignatureTime: isoTime(ts.genTime) } : {}) };
  const failedId = ts.checks.find((c) => c.ok === false)?.id;
  if (failedId === 'docTimestamp.imprint') return { checks, report: { ...withSigner, indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE', message: 'the timestamp is not over this file' } };
  if (failedId === 'docTimestamp.signature') return { checks, report: { ...withSigner, indication: 'TOTAL-FAILED', subIndication: 'SIG_CRYPTO_FAILURE', message: 'the token does not verify' } };
  if (failedId) return { checks, report: { ...withSigner, indication: 'INDETERMINATE', subIndication: 'NO_CERTIFICATE_CHAIN_FOUND', message: 'the TSA is not trusted' } };
  if (!cov.changesOk) return { checks, report: { ...withSigner, indication: 'TOTAL-FAILED', subIndication: 'FORMAT_FAILURE', message: 'changed after the timestamp' } };
  ctx.stamps.push({ end: cov.signedEnd, time: ts.trustedTime! });
  // The latest document timestamp must itself still be good at the validation time; earlier ones are covered by it.
  const at = ctx.opts.at;
  const expired = at && ts.tsaPath ? invalidAt(ts.tsaPath, at) : undefined;
  if (expired && !coveredByLater) return { checks, report: { ...withSigner, indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE', message: `${expired.message} by ${isoTime(at!)} and no later document timestamp covers it: renew with skillcert extend` } };
  return { checks, report: { ...withSigner, indication: 'TOTAL-PASSED', message: `proves the file existed at ${isoTime(ts.trustedTime!)}` } };
}

async function judgeSignature(sig: FoundSignature, ctx: Ctx, label: string): Promise<Judged> {
  const { pdf, anchors, opts } = ctx;
  const cov = await coverage(sig, ctx, 'signature', label);
  const checks = [...cov.checks];
  const base = { kind: 'signature' as const, ...(sig.field ? { field: sig.field } : {}) };
  const result = (indication: Indication, subIndication: string | undefined, message: string, extra: Partial<SignatureReport> = {}): Judged => ({
    checks,
    report: { ...base, ...extra, indication, ...(subIndication ? { subIndication } : {}), message },
  });
  if (!cov.ok || !cov.raw) return result('TOTAL-FAILED', 'FORMAT_FAILURE', 'the byte range is malformed');
  const rawContents = cov.raw;
  const { l1, o2, signedEnd } = cov;

  // CMS
  const cmsLength = derElementLength(rawContents);
  let cms: ParsedCms;
  try {
    if (cmsLength <= 0 || cmsLength > rawContents.length) throw new Error(`the /Contents (${rawContents.length} bytes) does not start with a complete DER element`);
    cms = cmsOf(ctx.bytes, rawContents.subarray(0, cmsLength));
  } catch (err) {
    checks.push(fail('signature.cms', `${label}the signature is not a readable CMS SignedData: ${(err as Error).message}`));
    return result('TOTAL-FAILED', 'FORMAT_FAILURE', 'the signature is not a readable CMS');
  }

  const md = messageDigestOf(cms);
  let digestOk = false;
  if (!cms.hash || cms.hash === 'sha1') {
    checks.push(fail('signature.digest', `${label}digest algorithm ${cms.digestAlgorithm} is ${cms.hash === 'sha1' ? 'SHA-1, which is not accepted' : 'not supported'}`));
  } else if (!md) {
    checks.push(fail('signature.digest', `${label}the CMS has no message-digest attribute`));
  } else {
    const h = createHash(cms.hash);
    h.update(pdf.subarray(0, l1));
    h.update(pdf.subarray(o2, signedEnd));
    const actual = h.digest();
    digestOk = actual.equals(md);
    checks.push(
      digestOk
        ? pass('signature.digest', `${label}the ${hashLabel(cms.hash)} of the signed bytes matches the signature`)
        : fail('signature.digest', `${label}the ${hashLabel(cms.hash)} of the signed bytes is ${actual.toString('hex').slice(0, 16)}…, the signature says ${md.toString('hex').slice(0, 16)}…: the file was changed after signing`),
    );
  }

  const sv = verifySignerSignature(cms);
  checks.push(sv.ok ? pass('signature.cms', label + sv.message) : fail('signature.cms', label + sv.message));
  const ess = essBinding(cms);
  // A wrong ESS hash is a substitution attempt (fail); a missing one is only outside PAdES (indeterminate).
  checks.push(
    ess.ok === true
      ? pass('signature.signingCertificate', label + ess.message)
      : ess.ok === false && ess.present
        ? fail('signature.signingCertificate', label + ess.message)
        : unknown('signature.signingCertificate', `${label}${ess.message} (PAdES requires one; adbe.pkcs7.detached does not)`),
  );

  // PAdES baseline profile (ETSI EN 319 142-1 B-B): SubFilter, no CMS signing-time, the claimed time in /M.
  const claimed = sig.m ? parsePdfDate(sig.m) : undefined;
  const profileIssues: string[] = [];
  if (sig.subFilter !== 'ETSI.CAdES.detached') profileIssues.push(`SubFilter is ${sig.subFilter ?? '(none)'}, not ETSI.CAdES.detached`);
  if (cms.signedAttrs?.has(OID.signingTime)) profileIssues.push('the CMS carries a signing-time attribute (PAdES puts the time in /M)');
  if (!claimed) profileIssues.push(sig.m ? `/M "${sig.m}" is not a PDF date` : 'the signature dictionary has no /M (signing time)');
  if (ess.present !== 'v2') profileIssues.push('no ESS signing-certificate-v2');
  const hasTimestamp = cms.unsignedAttrs.has(OID.signatureTimeStampToken);
  checks.push(
    profileIssues.length === 0
      ? pass('signature.pades', `${label}PAdES baseline ${hasTimestamp ? 'B-T' : 'B-B'} (ETSI.CAdES.detached, signing time ${isoTime(claimed!)} in /M)`)
      : // A profile deviation, not tampering: what pdfsig accepts must not fail here; the other checks judge integrity.
        unknown('signature.pades', `${label}not PAdES baseline: ${profileIssues.join('; ')}`),
  );

  if (!cms.signer) {
    checks.push(fail('signer.trusted', `${label}the signer certificate is not in the signature`));
    return result('INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'the signer certificate is not in the signature');
  }
  const signer = cms.signer;
  const who = { signer: cn(signer) };

  // Timestamp (B-T)
  let trustedTime: Date | undefined;
  let tsaPath: readonly Cert[] | undefined;
  let tsOk = true;
  const token = cms.unsignedAttrs.get(OID.signatureTimeStampToken)?.[0];
  if (token) {
    const ts = verifyTimestampToken(token, cms.signatureValue, anchors);
    checks.push(...ts.checks.map((c) => ({ ...c, message: label + c.message })));
    trustedTime = ts.trustedTime;
    tsaPath = ts.tsaPath;
    tsOk = !!ts.trustedTime;
  }

  // Trust and validity
  const path = buildPath(signer, cms.certs, anchors);
  checks.push(path.ok ? pass('signer.trusted', `${label}"${cn(signer)}" ${path.message}`) : fail('signer.trusted', `${label}"${cn(signer)}" is ${path.message}`));
  const ku = keyUsageAllowsSigning(signer);
  checks.push(ku.ok ? pass('signer.keyUsage', label + ku.message) : fail('signer.keyUsage', label + ku.message));

  const chain: readonly Cert[] = path.path;
  const when = trustedTime ?? claimed;
  const whenText = trustedTime ? `the timestamp time ${isoTime(trustedTime)}` : claimed ? `the signing time ${isoTime(claimed)} (claimed in /M; no timestamp proves it)` : '';
  if (!when) {
    checks.push(unknown('signer.validAtSigningTime', `${label}no signing time: neither /M nor a timestamp`));
  } else {
    const bad = invalidAt(chain, when);
    checks.push(bad ? fail('signer.validAtSigningTime', `${label}${bad.message}, which does not include ${whenText}`) : pass('signer.validAtSigningTime', `${label}the certificates were valid at ${whenText}`));
  }
  if (opts.at) {
    const badNow = invalidAt(chain, opts.at);
    if (!badNow) checks.push(pass('signer.validAt', `${label}the certificates are valid at ${isoTime(opts.at)}`));
    else if (trustedTime && !invalidAt(chain, trustedTime)) checks.push(pass('signer.validAt', `${label}${badNow.message}, but the timestamp proves the signature was made at ${isoTime(trustedTime)}, while it was valid`));
    else if (claimed && !invalidAt(chain, claimed)) checks.push(unknown('signer.validAt', `${label}${badNow.message}; the signature claims ${isoTime(claimed)}, when it was valid, but without a timestamp that cannot be proved`));
    else checks.push(fail('signer.validAt', `${label}${badNow.message} (checked at ${isoTime(opts.at)})`));
  }

  // Revocation (B-LT): from the DSS, and fresh answers with --online; only for certificates that name a source.
  const validationTime = opts.at ?? new Date();
  const coveringStamp = ctx.stamps.filter((s) => s.end > signedEnd).sort((a, b) => a.time.getTime() - b.time.getTime())[0];
  const poe = trustedTime ?? coveringStamp?.time;
  const bst = poe ?? validationTime;
  if (ctx.cache && path.ok) {
    for (const p of [path.path, ...(tsaPath ? [tsaPath] : [])]) {
      try {
        const { data } = await ctx.cache.forPath(p);
        ctx.data.ocsps.push(...data.ocsps);
        ctx.data.crls.push(...data.crls);
      } catch (err) {
        checks.push(unknown('signer.revocation', `${label}${(err as Error).message}`));
      }
    }
  }
  const statusOf = (p: readonly Cert[]) =>
    p.flatMap((cert, i) => {
      const issuer = p[i + 1];
      if (!issuer || isSelfSigned(cert) || (ocspUrls(cert).length === 0 && crlUrls(cert).length === 0)) return [];
      return [{ cert, ca: i > 0, finding: revocationStatus(cert, issuer, ctx.data) }];
    });
  const signerStatus = path.ok ? statusOf(path.path) : [];
  const tsaStatus = tsaPath ? statusOf(tsaPath) : [];
  if (signerStatus.length > 0) {
    const missing = signerStatus.filter((s) => !s.finding);
    const revoked = signerStatus.filter((s) => s.finding?.status === 'revoked' && s.finding.revokedAt! <= bst);
    const later = signerStatus.filter((s) => s.finding?.status === 'revoked' && s.finding.revokedAt! > bst);
    checks.push(
      revoked.length
        ? fail('signer.revocation', `${label}${revoked.map((r) => r.finding!.message).join('; ')}, before ${poe ? `the time the timestamp proves (${isoTime(bst)})` : `the validation time ${isoTime(bst)}`}`)
        : missing.length
          ? unknown('signer.revocation', `${label}no revocation data for ${missing.map((m) => `"${cn(m.cert)}"`).join(', ')} ${ctx.opts.online ? 'from the file or its addresses' : 'in the file (offline; --online fetches it)'}`)
          : pass('signer.revocation', `${label}${signerStatus.map((s) => s.finding!.message).join('; ')}${later.length ? `; the revocation came after the signature, which the timestamp proves existed at ${isoTime(bst)}` : ''}`),
    );
  }

  // PAdES level found (ETSI EN 319 142-1 §6): B-T with a signature timestamp; B-LT when the file's own data covers
  // every certificate of the signer's and the TSA's paths; B-LTA when a document timestamp then covers it.
  const dssOnly = ctx.inFile;
  const inFile = (p: readonly Cert[]) => p.every((cert, i) => !p[i + 1] || isSelfSigned(cert) || (ocspUrls(cert).length === 0 && crlUrls(cert).length === 0) || !!revocationStatus(cert, p[i + 1]!, dssOnly));
  let level: SignatureLevel = 'B-B';
  if (token && tsOk) level = 'B-T';
  if (level === 'B-T' && ctx.hasDss && path.ok && inFile(path.path) && (!tsaPath || inFile(tsaPath))) level = 'B-LT';
  if (level === 'B-LT' && coveringStamp) level = 'B-LTA';
  const extra = { ...who, level, bestSignatureTime: isoTime(bst) };

  // ETSI EN 319 102-1 indication, in the order its building blocks decide.
  if (!digestOk) return result('TOTAL-FAILED', 'HASH_FAILURE', 'the signed bytes do not match the signature', extra);
  if (!sv.ok) return result('TOTAL-FAILED', 'SIG_CRYPTO_FAILURE', sv.message, extra);
  if (!cov.changesOk) return result('TOTAL-FAILED', 'FORMAT_FAILURE', 'the file was changed after this signature beyond signatures, timestamps and validation data', extra);
  if (ess.ok !== true) return result('INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', ess.message, extra);
  if (!path.ok) return result('INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND', path.message, extra);
  for (const s of signerStatus) {
    const f = s.finding;
    if (f?.status === 'revoked' && f.revokedAt! <= bst) {
      // Revoked before the signing time the signer claims: the signature was made with a revoked key.
      if (!s.ca && claimed && claimed >= f.revokedAt!) return result('TOTAL-FAILED', 'REVOKED', f.message, extra);
      return result('INDETERMINATE', s.ca ? 'REVOKED_CA_NO_POE' : 'REVOKED_NO_POE', `${f.message}, and no proof of existence before that`, extra);
    }
  }
  const notValid = invalidAt(chain, bst);
  if (notValid) {
    if (bst < notValid.cert.notBefore) return result('TOTAL-FAILED', 'NOT_YET_VALID', notValid.message, extra);
    return poe ? result('TOTAL-FAILED', 'EXPIRED', `${notValid.message}, before the time the timestamp proves`, extra) : result('INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE', `${notValid.message}, and no timestamp proves the signature existed before`, extra);
  }
  if (token && !tsOk) return result('INDETERMINATE', 'NO_POE', 'the signature timestamp does not verify', extra);
  if (signerStatus.some((s) => !s.finding)) return result('INDETERMINATE', 'TRY_LATER', 'no revocation data for the signer\'s path (offline; --online fetches it, or skillcert extend adds it)', extra);
  if (tsaStatus.some((s) => s.finding?.status === 'revoked' && s.finding.revokedAt! <= (trustedTime ?? bst))) return result('INDETERMINATE', 'NO_POE', 'the TSA certificate was revoked before its timestamp', extra);
  return result('TOTAL-PASSED', undefined, `${level} signature by "${cn(signer)}"${poe ? `, existing at ${isoTime(bst)}` : ''}`, extra);
}

const asn1FromDer = (der: Buffer) => parseAsn1(der, 'the document timestamp token');

const hashLabel = (h: string) => h.replace(/^sha/, 'SHA-');

const end = (s: FoundSignature) => (s.byteRange[2] ?? 0) + (s.byteRange[3] ?? 0);

function trimZeros(b: Buffer): Buffer {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return b.subarray(0, n);
}

/**
 * The bytes of a /Contents string. A hex string of only hex digits (what signers write) is decoded by Buffer: pdf-lib's
 * asBytes calls parseInt for each of its ~8,000 bytes, 3 % of verifying a style-two certificate; anything else
 * (whitespace, odd length, a literal string) goes through pdf-lib as before.
 */
function stringBytes(s: PDFString | PDFHexString): Buffer {
  if (s instanceof PDFHexString) {
    const hex = s.asString();
    if (hex.length % 2 === 0 && /^[0-9A-Fa-f]*$/.test(hex)) return Buffer.from(hex, 'hex');
  }
  return Buffer.from(s.asBytes());
}

/** Signature dictionaries from the AcroForm (pdf-lib), or from a raw scan of /ByteRange when the PDF does not parse. */
async function findSignatures(pdf: Buffer): Promise<{ found: FoundSignature[]; doc?: PDFDocument; history?: Definitions }> {
  let doc: PDFDocument | undefined;
  let history: Definitions | undefined;
  try {
    ({ doc, history } = await new RevisionParser(pdf).load());
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
        const type = v.lookupMaybe(PDFName.of('Type'), PDFName)?.decodeText();
        out.push({
          ...(type === 'DocTimeStamp' || subFilter === 'ETSI.RFC3161' ? { docTimestamp: true } : {}),
          byteRange: br.asArray().map((n) => (n instanceof PDFNumber ? n.asNumber() : NaN)),
          ...(contents ? { contents: stringBytes(contents) } : {}),
          ...(subFilter ? { subFilter } : {}),
          ...(m ? { m } : {}),
          ...(full ? { field: full } : {}),
        });
      }
      const kids = f.lookupMaybe(PDFName.of('Kids'), PDFArray);
      for (let i = 0; kids && i < kids.size(); i++) visit(kids.lookup(i), full, depth + 1);
    };
    for (let i = 0; fields && i < fields.size(); i++) visit(fields.lookup(i), undefined, 0);
    if (out.length > 0) return { found: out, doc, history };
  } catch {
    // fall through to the raw scan
  }
  const out: FoundSignature[] = [];
  const text = pdf.toString('latin1');
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    out.push({ byteRange: [m[1], m[2], m[3], m[4]].map(Number) });
  }
  return { found: out, ...(doc && history ? { doc, history } : {}) };
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
  const sigs = (await signaturesOf(pdfBytes, pdf)).found.filter((s) => !s.docTimestamp);
  if (sigs.length === 0) return undefined;
  const sig = sigs.reduce((a, b) => (end(b) > end(a) ? b : a));
  const [, l1, o2] = sig.byteRange as [number, number, number, number];
  try {
    const raw = Buffer.from(pdf.toString('latin1', l1 + 1, o2 - 1).replace(/\s+/g, ''), 'hex');
    return cmsOf(pdfBytes, raw.subarray(0, derElementLength(raw))).signer?.x509;
  } catch {
    return undefined;
  }
}
