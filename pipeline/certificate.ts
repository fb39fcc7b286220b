/**
 * One certificate from a numbered record: render (template + overlay) → stamp (photo, steel seal, signed QR) →
 * sign (PAdES, widget on the evaluation organisation's seal). Shared by the batch workers, the in-process batch
 * and the after-issue commands (correct, reissue), so every path produces the same file.
 */
import type { FontSet } from './fonts/index.js';
import type { Profile } from './profile.js';
import type { Numbered } from './record.js';
// The render and stamp modules by name, not their index: a worker thread then does not load Chromium's driver
// (puppeteer-core) or the photo checks, which it never uses (~10 MB a worker).
import { printedFields, type Reissue } from './render/fields.js';
import { composeCertificate, sheetBoxes } from './render/overlay.js';
import type { Template } from './render/template.js';
import { type LoadedSigner, signUpdate } from './sign/index.js';
import { buildQrText, drawQr, drawQrPlan, planQr, type QrBox, type QrMedia, type QrPlan } from './stamp/qr.js';

export interface CertificateKit {
  readonly profile: Profile;
  readonly fonts: FontSet;
  readonly template: Template;
  readonly signer: LoadedSigner;
}

export interface ProduceOptions {
  /** The run's clock: document dates and the claimed signing time. */
  readonly now: Date;
  readonly reissue?: Reissue;
  /** The QR code planned already (planCertificateQr, by a batch's main thread); otherwise it is planned here. */
  readonly qr?: QrPlan;
}

/** Where a template's QR code goes: the page's media box and the sheet's QR box (none when the sheet has none). */
export interface QrPlace { readonly media: QrMedia; readonly box: QrBox }

export async function qrPlace(template: Template): Promise<QrPlace | undefined> {
  const { media, boxes } = await sheetBoxes(template);
  const qr = boxes.qr;
  return qr && { media, box: { x: qr.x, y: qr.y, size: Math.min(qr.width, qr.height) } };
}

/** The certificate's QR text, signed by the organisation (SPEC §6). */
function qrTextOf(profile: Profile, signer: LoadedSigner, rec: Numbered): string {
  return buildQrText(
    { number: rec.number, name: rec.name, idNo: rec.idNo, occupation: rec.occupation, job: rec.job, level: rec.level, issueDate: rec.issueDate, orgCode: profile.orgCode },
    signer,
    { verifyUrl: profile.verifyUrl },
  );
}

/**
 * The QR code of a certificate, signed and planned: a batch's main thread does this for the workers (its core has
 * time to spare while theirs are busy), which then only draw it.
 */
export function planCertificateQr(profile: Profile, signer: LoadedSigner, place: QrPlace, rec: Numbered): QrPlan {
  return planQr(place.media, qrTextOf(profile, signer, rec), place.box);
}

export async function produceCertificate(kit: CertificateKit, rec: Numbered, photoJpeg: Uint8Array, opts: ProduceOptions): Promise<Uint8Array> {
  const { profile, signer } = kit;
  // Drawn and signed in one incremental update of the template, written once (pdf-update.ts).
  const composed = await composeCertificate(kit.template, kit.fonts, {
    fields: printedFields(rec, opts.reissue),
    photoJpeg,
    date: opts.now,
    decorate: (page, boxes) => {
      const qr = boxes.qr;
      if (!qr) return;
      if (opts.qr) drawQrPlan(page, opts.qr);
      else drawQr(page, qrTextOf(profile, signer, rec), { x: qr.x, y: qr.y, size: Math.min(qr.width, qr.height) });
    },
  });
  const seal = composed.boxes['seal.evaluation'];
  if (!seal) throw new RangeError(`the ${kit.template.sheet.id} sheet has no seal.evaluation box for the signature`);
  return signUpdate(composed.update, signer, {
    signingTime: opts.now,
    reason: `职业技能等级证书 ${rec.number}`,
    location: profile.name.zh,
    name: signer.label,
    widget: { pageIndex: 0, rect: [seal.x, seal.y, seal.x + seal.width, seal.y + seal.height] },
    ...(profile.signer.tsaUrl ? { tsaUrl: profile.signer.tsaUrl } : {}),
  });
}
