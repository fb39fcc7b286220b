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
import { PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
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

/** 第十八条: logical revocation; the record and every PDF stay. */
export async function revoke(ctx: Context, o: { out: string; registry?: string; number: string; reason: string }): Promise<CertificateRecord> {
  if (!o.reason.trim()) throw new SkillcertError('E_USAGE', 'a revocation needs a written reason (第十八条): pass --reason');
  return withRegistry(ctx, o, (r) => r.revoke(o.number, o.reason, ctx.now, { operator: ctx.operator }));
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
