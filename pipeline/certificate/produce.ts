/**
 * One certificate from a numbered record: render (template + overlay) → stamp (photo, steel seal, signed QR) →
 * sign (PAdES, widget on the evaluation organisation's seal). Shared by the batch workers, the in-process batch
 * and the after-issue commands (correct, reissue), so every path produces the same file.
 */
import type { FontSet } from '../fonts/index.js';
import { readFileSync } from 'node:fs';
import { profilePath, signatureLevel, type Profile } from '../core/profile.js';
import type { Numbered } from '../core/record.js';
// The render and stamp modules by name, not their index: a worker thread then does not load Chromium's driver
// (puppeteer-core) or the photo checks, which it never uses (~10 MB a worker).
import { printedFields, type Reissue } from '../render/fields.js';
import { composeCertificate } from '../render/overlay.js';
import type { Template } from '../render/template.js';
import { type LoadedSigner, signUpdate } from '../sign/index.js';
import { addValidation } from '../sign/ltv.js';
import { PdfBase, PdfUpdate } from '../pdf/update.js';
import { loadBranchSigner } from './identity.js';
import { mergeValidation, prefetchValidation, ValidationCache, type PrefetchedValidation } from '../sign/revocation.js';
import { buildQrText, drawQr } from '../stamp/qr.js';

export interface CertificateKit {
  readonly profile: Profile;
  readonly fonts: FontSet;
  readonly template: Template;
  readonly signer: LoadedSigner;
  /**
   * B-LT / B-LTA: the validation data the batch fetched once (`prefetchValidation`). Without it, each process
   * fetches it once per signer (a cache per process) on its first certificate.
   */
  readonly validation?: PrefetchedValidation;
  /** Style two's branch identity (profile.branch.signer); loaded from the profile when absent. */
  readonly branchSigner?: LoadedSigner;
  readonly branchValidation?: PrefetchedValidation;
}

/** Per process: one ValidationCache per profile (its signers share the CA's answers), one prefetch per signer. */
const caches = new Map<string, ValidationCache>();
const perProcess = new WeakMap<LoadedSigner, Promise<PrefetchedValidation>>();

function validationFor(kit: Pick<CertificateKit, 'signer' | 'profile' | 'validation'>, now: Date): Promise<PrefetchedValidation> {
  if (kit.validation) return Promise.resolve(kit.validation);
  let p = perProcess.get(kit.signer);
  if (!p) {
    const { signer: cfg } = kit.profile;
    const trustAnchorPems = cfg.trustAnchors.map((a) => readFileSync(profilePath(kit.profile, a), 'utf8'));
    let cache = caches.get(kit.profile.path);
    if (!cache) caches.set(kit.profile.path, (cache = new ValidationCache({ trustAnchors: trustAnchorPems })));
    p = prefetchValidation({ tsaUrl: cfg.tsaUrl, trustAnchorPems }, kit.signer, now, { cache });
    p.catch(() => perProcess.delete(kit.signer));
    perProcess.set(kit.signer, p);
  }
  return p;
}

/** What a kit's validation data is, sent to worker threads with the template (plain bytes). */
export type KitValidation = Pick<CertificateKit, 'validation' | 'branchValidation'>;

/**
 * At B-LT / B-LTA, the validation data of the signers fetched once for a whole batch — however many worker
 * threads sign — and checked (a signer revoked before `now` is refused, E_SIGN); nothing below B-LT.
 */
export async function batchValidation(profile: Profile, signer: LoadedSigner, branch: LoadedSigner | undefined, now: Date): Promise<KitValidation> {
  const level = signatureLevel(profile);
  if (level !== 'B-LT' && level !== 'B-LTA') return {};
  const validation = await validationFor({ profile, signer }, now);
  const branchValidation = branch ? await validationFor({ profile, signer: branch }, now) : undefined;
  return { validation, ...(branchValidation ? { branchValidation } : {}) };
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
  const level = signatureLevel(profile);
  const tsaUrl = level === 'B-B' ? undefined : profile.signer.tsaUrl;
  const widget = (box: typeof seal) => ({ pageIndex: 0, rect: [box.x, box.y, box.x + box.width, box.y + box.height] as const });
  const common = { signingTime: opts.now, reason: `职业技能等级证书 ${rec.number}`, ...(tsaUrl ? { tsaUrl } : {}) };
  // Style two (第十条): the issuing branch signs first, on its seal; the evaluation organisation second, on its own,
  // each its own incremental signature. Style one and competitions: the organisation (committee) alone.
  const branch = kit.branchSigner ?? loadBranchSigner(profile);
  const branchSeal = composed.boxes['seal.branch'];
  let update = composed.update;
  const signers = [signer];
  if (branch && branchSeal && profile.branch) {
    const first = await signUpdate(update, branch, { ...common, location: profile.branch.name.zh, name: branch.label, widget: widget(branchSeal) });
    update = new PdfUpdate(PdfBase.after(update, first));
    signers.unshift(branch);
  }
  const signed = await signUpdate(update, signer, { ...common, location: profile.name.zh, name: signer.label, widget: widget(seal) });
  if (level !== 'B-LT' && level !== 'B-LTA') return signed;
  // PAdES B-LT: the DSS in an update of its own; B-LTA: and the document timestamp over it (sign/ltv.ts).
  const v = await validationFor(kit, opts.now);
  const extra = signers.length > 1 ? await validationFor({ ...kit, signer: branch!, validation: kit.branchValidation }, opts.now) : undefined;
  return addValidation(PdfBase.after(update, signed), { data: mergeValidation(v.signer, v.tsa, ...(extra ? [extra.signer] : [])), ...(level === 'B-LTA' ? { docTimestamp: { url: tsaUrl! } } : {}) });
}
