/**
 * After issue (SPEC §8): `skillcert correct`, `reissue`, `revoke`, `audit`, `forms`. The rules live in the registry
 * (第十七条 one field family per certificate, a written reason; 第十八条 logical revocation; 第二十条 the audit
 * chain); this module wires them to the same render → stamp → sign path as the batch, so a corrected or reissued
 * certificate is produced exactly like a new one, under its original number.
 *
 * The new PDF is written beside the old one as <number>-r<revision>.pdf; the old file stays (superseded in the
 * registry, never deleted). The photo of an unchanged certificate is taken from its current PDF.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PDFDocument, PDFName, PDFRawStream } from '../pdf/lib.js';
import { correctAndRerender, reissueAndRerender, resumePending, writeCorrectionForms, type RenderAndSign, type ResumeReport } from './index.js';
import { produceCertificate, type CertificateKit } from '../certificate/produce.js';
import type { Context } from '../core/context.js';
import { writeAtomic } from '../core/files.js';
import { SkillcertError } from '../core/errors.js';
import type { Profile } from '../core/profile.js';
import type { IdTypeCode, LevelCode, Numbered } from '../core/record.js';
import { openRegistry, registryLocation, type CertificateRecord, type PendingRender, type Registry } from '../registry/index.js';
import { buildTemplate, launchBrowser } from '../render/index.js';
import { loadIdentity } from '../certificate/identity.js';
import { preparePhoto } from '../stamp/index.js';
import { publishStatusLists, type PublishedList } from '../status/index.js';

export interface AmendOptions {
  readonly profile: string;
  /** Output root the batches were written to (certificate files are recorded relative to it). */
  readonly out: string;
  /** The registry: a SQLite file (default <out>/registry.sqlite) or a postgres:// URL. */
  readonly registry?: string;
}

const registryPath = (o: { out: string; registry?: string }) => registryLocation(o.registry, o.out);

/** The photo JPEG of a certificate PDF (the only DCT image on the page). */
export async function photoFromPdf(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (obj instanceof PDFRawStream && obj.dict.get(PDFName.of('Subtype')) === PDFName.of('Image') && obj.dict.get(PDFName.of('Filter')) === PDFName.of('DCTDecode')) {
      // A copy: pdf-lib's JPEG reader reads `.buffer` from offset 0, and `contents` is a view into the whole file.
      return new Uint8Array(obj.contents);
    }
  }
  throw new SkillcertError('E_RENDER', `${source} has no photo to carry over; pass --photo with the holder's photo`);
}

/** Opens what re-rendering needs once: the identity, the fonts, the template (one Chromium, closed at once). */
async function amender(ctx: Context, o: AmendOptions, newPhoto?: string): Promise<{ profile: Profile; render: RenderAndSign }> {
  const { profile, fonts, signer } = loadIdentity(ctx, o.profile);
  let kit: CertificateKit | undefined;
  const out = resolve(o.out);
  const render: RenderAndSign = async (job: PendingRender) => {
    const cert = job.certificate;
    if (cert.profileId !== profile.id) {
      throw new SkillcertError('E_USAGE', `certificate ${job.number} was issued under profile ${cert.profileId}, not ${profile.id}; pass --profile with that organisation's profile`);
    }
    if (!kit) {
      const browser = await launchBrowser();
      try {
        kit = { profile, fonts, signer, template: await buildTemplate(profile, fonts, browser) };
      } finally {
        await browser.close();
      }
    }
    const p = job.printed as Record<string, string | number>;
    let photo: Uint8Array;
    if (job.photoChanged) {
      if (!newPhoto) throw new SkillcertError('E_USAGE', `certificate ${job.number} has a pending photo correction: pass --photo with the new photo`);
      const prepared = await preparePhoto(dirname(resolve(newPhoto)), basename(newPhoto));
      if (!prepared.ok) throw new SkillcertError('E_RENDER', prepared.problem.message, { field: '照片' });
      photo = prepared.photo.jpeg;
    } else {
      if (!cert.file) throw new SkillcertError('E_RENDER', `certificate ${job.number} has no PDF on record to take the photo from; pass --photo`);
      photo = await photoFromPdf(readFileSync(join(out, cert.file)), cert.file);
    }
    const rec: Numbered = {
      rowNo: Number(p.rowNo ?? 0), name: String(p.name), idType: cert.idType as IdTypeCode, idNo: cert.idNo,
      occupation: cert.occupation, job: cert.job, level: cert.level as LevelCode, result: '合格', issueDate: String(p.issueDate),
      number: cert.number, stockSerial: cert.stockSerial, ...(cert.statusIndex !== undefined && { statusIndex: cert.statusIndex }),
    };
    const bytes = await produceCertificate(kit, rec, photo, { now: ctx.now, ...(job.reissue ? { reissue: { kind: job.reissue.kind, date: job.reissue.date } } : {}) });
    const rel = join(cert.batchId, 'certificates', `${cert.number}-r${job.revision}.pdf`);
    const file = join(out, rel);
    await writeAtomic(file, bytes);
    return { file: rel, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  return { profile, render };
}

async function withRegistry<T>(ctx: Context, o: { out: string; registry?: string }, f: (r: Registry) => Promise<T>): Promise<T> {
  const registry = await openRegistry(registryPath(o), { operator: ctx.operator, now: ctx.now });
  try {
    return await f(registry);
  } finally {
    await registry.close();
  }
}

export type Correction = { name: string } | { idNo: string } | { photo: string };

/** 第十七条: corrects the name, the ID number or the photo, re-renders and re-signs under the same number. */
export async function correct(ctx: Context, o: AmendOptions & { number: string; change: Correction; reason: string }): Promise<CertificateRecord> {
  const { render } = await amender(ctx, o, 'photo' in o.change ? o.change.photo : undefined);
  const change = 'name' in o.change ? { name: o.change.name } : 'idNo' in o.change ? { idNo: o.change.idNo } : { photo: true as const };
  return withRegistry(ctx, o, (r) => correctAndRerender(r, o.number, change, o.reason, render, ctx));
}

/** 第二十二条: reissues a lost or damaged certificate under its number, with the 补发/换发 date printed. */
export async function reissue(ctx: Context, o: AmendOptions & { number: string; kind: 'lost' | 'damaged'; reason?: string }): Promise<CertificateRecord> {
  const { render } = await amender(ctx, o);
  return withRegistry(ctx, o, (r) => reissueAndRerender(r, o.number, o.kind, render, ctx, o.reason));
}

/** Finishes corrections and reissues whose new PDF was not recorded (a crash between the change and the PDF). */
export async function resume(ctx: Context, o: AmendOptions & { photo?: string }): Promise<ResumeReport> {
  const { render } = await amender(ctx, o, o.photo);
  return withRegistry(ctx, o, (r) => resumePending(r, render, ctx));
}

export interface StatusChangeOptions {
  readonly out: string;
  readonly registry?: string;
  readonly number: string;
  readonly reason: string;
  /**
   * The organisation's profile: its key re-signs the status lists after the change, into the registry and
   * <out>/status/. Without it the change is recorded and the lists wait for `skillcert status-lists`.
   */
  readonly profile?: string;
  readonly validDays?: number;
}

export interface StatusChangeResult {
  readonly certificate: CertificateRecord;
  /** The lists re-signed after the change; empty when no profile was given. */
  readonly lists: readonly PublishedList[];
}

/**
 * A change of status (revoke, suspend, lift) and then the organisation's status lists signed anew, so that
 * offline verifiers learn it. The profile is loaded, and checked to be the certificate's organisation, before
 * anything changes: a wrong profile or key password stops the command with the registry untouched.
 */
async function changeStatus(ctx: Context, o: StatusChangeOptions, change: (r: Registry) => Promise<CertificateRecord>): Promise<StatusChangeResult> {
  const identity = o.profile === undefined ? undefined : loadIdentity(ctx, o.profile);
  return withRegistry(ctx, o, async (r) => {
    if (identity) {
      const cert = await r.getByNumber(o.number);
      const { profile } = identity;
      if (cert && (cert.orgCode ?? profile.orgCode) !== profile.orgCode) {
        throw new SkillcertError('E_USAGE', `certificate ${o.number} is on the status lists of organisation ${cert.orgCode}, not ${profile.orgCode} (profile ${profile.id}); pass --profile with that organisation's profile`);
      }
    }
    const certificate = await change(r);
    if (!identity) return { certificate, lists: [] };
    const orgCode = certificate.orgCode ?? identity.profile.orgCode;
    const lists = await publishStatusLists(r, { orgCode, signer: identity.signer, now: ctx.now, out: resolve(o.out), ...(o.validDays !== undefined && { validDays: o.validDays }) });
    return { certificate, lists };
  });
}

const requireWhy = (reason: string, message: string) => {
  if (!reason.trim()) throw new SkillcertError('E_USAGE', message);
};

/** 第十八条: logical revocation; the record and every PDF stay. */
export async function revoke(ctx: Context, o: StatusChangeOptions): Promise<StatusChangeResult> {
  requireWhy(o.reason, 'a revocation needs a written reason (第十八条): pass --reason');
  return changeStatus(ctx, o, (r) => r.revoke(o.number, o.reason, ctx.now, { operator: ctx.operator }));
}

/** 第二十条: suspends the queries of a suspicious certificate; verifiers report it suspended until it is lifted. */
export async function suspend(ctx: Context, o: StatusChangeOptions): Promise<StatusChangeResult> {
  requireWhy(o.reason, 'a suspension needs a written reason (第二十条): pass --reason');
  return changeStatus(ctx, o, (r) => r.suspend(o.number, o.reason, ctx.now, { operator: ctx.operator }));
}

/** Lifts a suspension: the certificate is as it was before it. */
export async function liftSuspension(ctx: Context, o: StatusChangeOptions): Promise<StatusChangeResult> {
  requireWhy(o.reason, 'lifting a suspension needs a written reason (第二十条): pass --reason');
  return changeStatus(ctx, o, (r) => r.liftSuspension(o.number, o.reason, ctx.now, { operator: ctx.operator }));
}

/** Signs the organisation's status lists anew (before they expire: run it daily), into the registry and <out>/status/. */
export async function statusLists(ctx: Context, o: { out: string; registry?: string; profile: string; validDays?: number }): Promise<readonly PublishedList[]> {
  const { profile, signer } = loadIdentity(ctx, o.profile);
  return withRegistry(ctx, o, (r) =>
    publishStatusLists(r, { orgCode: profile.orgCode, signer, now: ctx.now, out: resolve(o.out), ...(o.validDays !== undefined && { validDays: o.validDays }) }),
  );
}

export async function audit(ctx: Context, o: { out: string; registry?: string; number?: string; from?: Date; to?: Date; verify?: boolean }) {
  return withRegistry(ctx, o, async (r) => ({
    entries: await r.audit({ ...(o.number ? { number: o.number } : {}), ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}) }),
    ...(o.verify ? { verification: await r.verifyAudit() } : {}),
  }));
}

/** The 附件4 forms (数据修改信息表, 信息更正申请表) from the corrections recorded in a period. */
export async function forms(ctx: Context, o: AmendOptions & { from: Date; to: Date; dir: string }) {
  const { profile } = loadIdentity(ctx, o.profile);
  if (!profile.office) {
    throw new SkillcertError('E_PROFILE', `profile ${profile.id} has no "office" block (机构备案号 filingNo, 办公地址 address, 经办人 handler, 联系电话 phone) for the 附件4 forms`, { field: 'office' });
  }
  const office = profile.office;
  return withRegistry(ctx, o, (r) => writeCorrectionForms(r, { profile, office, from: o.from, to: o.to, dir: o.dir, at: ctx.now, operator: ctx.operator }));
}
