/**
 * One certificate from a numbered record: render (template + overlay) → stamp (photo, steel seal, signed QR) →
 * sign (PAdES, widget on the evaluation organisation's seal). Shared by the batch workers, the in-process batch
 * and the after-issue commands (correct, reissue), so every path produces the same file.
 */
import type { FontSet } from '../fonts/index.js';
import type { Profile } from '../core/profile.js';
import type { Numbered } from '../core/record.js';
// The render and stamp modules by name, not their index: a worker thread then does not load Chromium's driver
// (puppeteer-core) or the photo checks, which it never uses (~10 MB a worker).
import { printedFields, type Reissue } from '../render/fields.js';
import { composeCertificate } from '../render/overlay.js';
import type { Template } from '../render/template.js';
import { type LoadedSigner, signUpdate } from '../sign/index.js';
import { buildQrText, drawQr } from '../stamp/qr.js';

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
}

export async function produceCertificate(kit: CertificateKit, rec: Numbered, photoJpeg: Uint8Array, opts: ProduceOptions): Promise<Uint8Array> {
  const { profile, signer } = kit;
  const qrText = buildQrText(
    { number: rec.number, name: rec.name, idNo: rec.idNo, occupation: rec.occupation, job: rec.job, level: rec.level, issueDate: rec.issueDate, orgCode: profile.orgCode,
      ...(rec.statusIndex !== undefined && { statusIndex: rec.statusIndex }) },
    signer,
    { verifyUrl: profile.verifyUrl },
  );
  // Drawn and signed in one incremental update of the template, written once (pdf-update.ts).
  const composed = await composeCertificate(kit.template, kit.fonts, {
    fields: printedFields(rec, opts.reissue),
    photoJpeg,
    date: opts.now,
    decorate: (page, boxes) => {
      const qr = boxes.qr;
      if (qr) drawQr(page, qrText, { x: qr.x, y: qr.y, size: Math.min(qr.width, qr.height) });
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
