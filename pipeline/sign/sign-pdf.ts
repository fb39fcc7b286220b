/**
 * Orchestrator: placeholder (pdf-lib) → @signpdf/signpdf with our CAdES signer → signed PDF (PAdES B-B, or
 * B-T with a timestamp). Only this module knows the order.
 */
import { SignPdf } from '@signpdf/signpdf';
import { SignPdfError } from '@signpdf/utils';
import { SkillcertError } from '../errors.js';
import { maxCmsLength } from './cms.js';
import { assertUsableAt, type LoadedSigner } from './identity.js';
import { addSignaturePlaceholder, type Rect } from './placeholder.js';
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

export async function signPdf(pdfBytes: Uint8Array, signer: LoadedSigner, opts: SignPdfOptions): Promise<Buffer> {
  if (!(opts.signingTime instanceof Date) || Number.isNaN(opts.signingTime.getTime())) {
    throw new SkillcertError('E_SIGN', `Expected a Date for signingTime but received ${String(opts.signingTime)}`);
  }
  if (!opts.allowInvalidCertificate) assertUsableAt(signer, opts.signingTime);
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
