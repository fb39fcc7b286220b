/**
 * Orchestrator, two ways to the same signed PDF (PAdES B-B, or B-T with a timestamp); only this module knows
 * the order:
 *
 * - signPdf, any PDF: placeholder (pdf-lib load and save) → @signpdf/signpdf with our CAdES signer;
 * - signUpdate, a PDF still being written as an incremental update (a certificate on its template): the
 *   signature dictionary and its widget join the update, which is written once; the /ByteRange and the CMS
 *   go into the placeholders at the offsets the writer reports. No second parse, no second save.
 */
import { createHash } from 'node:crypto';
import { JpegEmbedder, PDFName, PDFNumber, type PDFObject, type PDFRef, PngEmbedder } from '../pdf/lib.js';
import { SignPdf } from '@signpdf/signpdf';
import { SignPdfError } from '@signpdf/utils';
import { SkillcertError } from '../core/errors.js';
import type { PdfUpdate } from '../pdf/update.js';
import { createCadesSignature, maxCmsLength } from './cms.js';
import { assertUsableAt, type LoadedSigner } from './identity.js';
import { addSignaturePlaceholder, checkWidget, isPng, type Rect, sigFlags, signatureDictionary, signatureWidget, uniqueFieldName } from './placeholder.js';
import { CadesDetachedSigner } from './signer.js';
import { timestamper } from './tsa.js';

export interface SignPdfOptions {
  /** The claimed signing time, written to /M; passed in, never read from the clock here. */
  readonly signingTime: Date;
  readonly reason?: string;
  readonly location?: string;
  readonly contactInfo?: string;
  readonly name?: string;
  /** The visible signature: the seal's box, in PDF points; the seal image is already on the page. */
  readonly widget: { readonly pageIndex: number; readonly rect: Rect };
  /** Optional appearance image (PNG/JPEG) for the widget instead of an empty one. */
  readonly appearanceImage?: Uint8Array;
  /** RFC 3161 time-stamping authority: the signature becomes B-T. */
  readonly tsaUrl?: string;
  readonly tsaTimeoutMs?: number;
  /** Bytes reserved for the first token from a TSA, before its real size is known; default 6144. */
  readonly timestampAllowance?: number;
  readonly fetch?: typeof fetch;
  /** pdf-lib object streams (smaller files); default true. */
  readonly useObjectStreams?: boolean;
  /** TEST ONLY: sign with a certificate that is not valid at signingTime (to make tampered fixtures). */
  readonly allowInvalidCertificate?: boolean;
}

/** Margin over the computed CMS size: ECDSA signatures vary by a byte or two, timestamp tokens by a few. */
const MARGIN = 32;
/** First guess for a timestamp token before the TSA's real size is known (a token with a 2-certificate RSA chain is ~4 KB). */
const FIRST_TOKEN_ALLOWANCE = 6144;

const baseLength = new WeakMap<LoadedSigner, number>();
const tokenLength = new WeakMap<LoadedSigner, Map<string, number>>();

/** Bytes reserved in /Contents for this signer (and TSA): what the signature needs, not @signpdf's default 8 KB. */
export function placeholderLength(signer: LoadedSigner, tsaUrl?: string, firstTokenAllowance = FIRST_TOKEN_ALLOWANCE): number {
  let base = baseLength.get(signer);
  if (base === undefined) {
    base = maxCmsLength(signer);
    baseLength.set(signer, base);
  }
  if (!tsaUrl) return base + MARGIN;
  // unsignedAttrs wrapper around the token: [1] SET, Attribute SEQUENCE, OID, SET — under 32 bytes.
  const token = tokenLength.get(signer)?.get(tsaUrl) ?? firstTokenAllowance;
  return base + token + 32 + MARGIN;
}

function checkTime(signer: LoadedSigner, opts: SignPdfOptions): void {
  if (!(opts.signingTime instanceof Date) || Number.isNaN(opts.signingTime.getTime())) {
    throw new SkillcertError('E_SIGN', `Expected a Date for signingTime but received ${String(opts.signingTime)}`);
  }
  if (!opts.allowInvalidCertificate) assertUsableAt(signer, opts.signingTime);
}

export async function signPdf(pdfBytes: Uint8Array, signer: LoadedSigner, opts: SignPdfOptions): Promise<Buffer> {
  checkTime(signer, opts);
  const cms = new CadesDetachedSigner(signer, opts.tsaUrl ? timestamper({ url: opts.tsaUrl, timeoutMs: opts.tsaTimeoutMs, fetch: opts.fetch }) : undefined);

  const attempt = async (contentsLength: number) => {
    const prepared = await addSignaturePlaceholder(pdfBytes, {
      signingTime: opts.signingTime,
      reason: opts.reason,
      location: opts.location,
      contactInfo: opts.contactInfo,
      name: opts.name,
      widget: opts.widget,
      contentsLength,
      appearanceImage: opts.appearanceImage,
      useObjectStreams: opts.useObjectStreams,
    });
    return new SignPdf().sign(prepared, cms, opts.signingTime);
  };

  const first = placeholderLength(signer, opts.tsaUrl, opts.timestampAllowance);
  let signed: Buffer;
  try {
    signed = await attempt(first);
  } catch (err) {
    // Only a timestamp token larger than guessed can overflow; retry once with the measured size.
    if (!(err instanceof SignPdfError) || !/exceeds placeholder length/.test(err.message) || !opts.tsaUrl) throw wrap(err);
    rememberToken(signer, opts.tsaUrl, cms.lastTimestampLength);
    try {
      signed = await attempt(cms.lastCmsLength + MARGIN * 4);
    } catch (err2) {
      throw wrap(err2);
    }
  }
  if (opts.tsaUrl) rememberToken(signer, opts.tsaUrl, cms.lastTimestampLength);
  return signed;
}

/**
 * Signs a PDF that is being written as an incremental update of a base document: adds the signature field to the
 * update, writes it and fills the signature in. The result covers the whole file, as signPdf's does.
 * (useObjectStreams does not apply: the update is written as it is.)
 */
export async function signUpdate(update: PdfUpdate, signer: LoadedSigner, opts: SignPdfOptions): Promise<Buffer> {
  checkTime(signer, opts);
  checkWidget(opts.widget, update.base.doc.getPageCount());
  const ctx = update.context;
  const { ref: pageRef, dict: page } = update.page(opts.widget.pageIndex);
  const catalog = update.catalog();
  const acroForm = update.child(catalog, 'AcroForm');
  // An incremental update leaves earlier signatures intact: a second signature (style two) is allowed here.
  const fieldName = uniqueFieldName(acroForm, (ref) => update.base.lookup(ref), undefined, { allowSigned: true });
  const sigRef = update.nextRef();
  const embedImage = async (image: Uint8Array) => (isPng(image) ? await PngEmbedder.for(image) : await JpegEmbedder.for(image)).embedIntoContext(ctx);
  const widget = update.register(await signatureWidget(ctx, opts, sigRef, pageRef, fieldName, embedImage));
  update.append(page, 'Annots', widget);
  update.append(acroForm, 'Fields', widget);
  const flags = update.base.lookup(acroForm.get(PDFName.of('SigFlags')));
  acroForm.set(PDFName.of('SigFlags'), sigFlags(flags instanceof PDFNumber ? flags : undefined));

  const timestamp = opts.tsaUrl ? timestamper({ url: opts.tsaUrl, timeoutMs: opts.tsaTimeoutMs, fetch: opts.fetch }) : undefined;
  return writeSigned(
    update,
    sigRef,
    (contentsLength) => signatureDictionary(ctx, { ...opts, contentsLength }),
    async (digest) => {
      const result = await createCadesSignature(signer, digest, timestamp);
      if (result.timestampToken) rememberToken(signer, opts.tsaUrl!, result.timestampToken.length);
      return result.cms;
    },
    placeholderLength(signer, opts.tsaUrl, opts.timestampAllowance),
  );
}

/**
 * Writes `update` with the signature dictionary `sigRef` (made by `dictionary` for a /Contents of the given size),
 * patches its /ByteRange to the whole file but the /Contents, and fills /Contents with `contents(digest)` — the
 * SHA-256 of the signed bytes. Once more with the measured size when the first guess was too small.
 */
export async function writeSigned(
  update: PdfUpdate,
  sigRef: PDFRef,
  dictionary: (contentsLength: number) => PDFObject,
  contents: (digest: Buffer) => Promise<Buffer>,
  firstLength: number,
): Promise<Buffer> {
  const attempt = async (contentsLength: number) => {
    update.context.assign(sigRef, dictionary(contentsLength));
    const { bytes, offsets } = update.save();
    // The placeholders, found inside the signature dictionary the writer just placed.
    const at = offsets.get(sigRef.objectNumber)!;
    const range = bytes.indexOf('/ByteRange', at, 'latin1');
    const open = bytes.indexOf('[', range, 'latin1');
    const close = bytes.indexOf(']', open, 'latin1');
    const start = bytes.indexOf('<', bytes.indexOf('/Contents', close, 'latin1'), 'latin1');
    const end = bytes.indexOf('>', start, 'latin1') + 1;
    const byteRange = `[0 ${start} ${end} ${bytes.length - end}`;
    if (range < 0 || start < 0 || byteRange.length > close - open) throw new SkillcertError('E_SIGN', 'internal: the signature placeholders were not written as expected');
    bytes.write(byteRange.padEnd(close - open, ' '), open, 'latin1');
    const digest = createHash('sha256').update(bytes.subarray(0, start)).update(bytes.subarray(end)).digest();
    return { bytes, start, end, cms: await contents(digest) };
  };
  let signed: Awaited<ReturnType<typeof attempt>>;
  try {
    signed = await attempt(firstLength);
    // Only a timestamp token larger than guessed can overflow; once more with the measured size.
    if (signed.cms.length * 2 > signed.end - signed.start - 2) signed = await attempt(signed.cms.length + MARGIN * 4);
  } catch (err) {
    throw wrap(err);
  }
  const { bytes, start, end, cms } = signed;
  if (cms.length * 2 > end - start - 2) {
    throw new SkillcertError('E_SIGN', `signing failed: Signature exceeds placeholder length: ${cms.length * 2} > ${end - start - 2}`);
  }
  bytes.write(cms.toString('hex'), start + 1, 'latin1');
  return bytes;
}

function rememberToken(signer: LoadedSigner, url: string, length: number): void {
  if (!length) return;
  let m = tokenLength.get(signer);
  if (!m) tokenLength.set(signer, (m = new Map()));
  m.set(url, length);
}

function wrap(err: unknown): unknown {
  if (err instanceof SkillcertError) return err;
  return new SkillcertError('E_SIGN', `signing failed: ${(err as Error).message}`, {}, { cause: err });
}
