/**
 * `skillcert render`: one certificate from a JSON record and a profile, to PDF and a PNG preview, for designers
 * reviewing a style or a profile at a glance. Not signed and not numbered by the registry: the record carries
 * its number, and the PDF says it is a preview in its metadata.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { SkillcertError } from '../core/errors.js';
import { FontSet } from '../fonts/index.js';
import { loadProfile } from '../core/profile.js';
import type { IdTypeCode, LevelCode, Numbered } from '../core/record.js';
import { buildTemplate, launchBrowser, printedFields, renderCertificate } from '../render/index.js';
import type { Context } from '../core/context.js';

const RecordJson = z.object({
  name: z.string().min(1),
  idType: z.enum(['201', '227', '210', '237', '213', '238', '208', '233', '239', '240', '241', '299']).default('201'),
  idNo: z.string().min(1),
  occupation: z.string().min(1),
  job: z.string().default(''),
  level: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]),
  issueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  number: z.string().length(22),
  stockSerial: z.string().min(1),
  /** A JPEG already cut to the photo box; relative to the record file. */
  photo: z.string().optional(),
  reissue: z.object({ kind: z.enum(['lost', 'damaged']), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }).optional(),
});

export interface PreviewResult { readonly pdf: string; readonly png: string; readonly style: string; readonly fonts: ReturnType<FontSet['report']> }

export async function preview(ctx: Context, opts: { record: string; profile: string; out: string; dpi?: number }): Promise<PreviewResult> {
  const recordFile = resolve(opts.record);
  let parsed;
  try {
    parsed = RecordJson.safeParse(JSON.parse(readFileSync(recordFile, 'utf8')));
  } catch (err) {
    throw new SkillcertError('E_USAGE', `cannot read record ${opts.record}: ${(err as Error).message}`, {}, { cause: err });
  }
  if (!parsed.success) {
    throw new SkillcertError('E_USAGE', `record ${opts.record} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const r = parsed.data;
  const profile = loadProfile(opts.profile);
  const rec: Numbered = {
    rowNo: 0, name: r.name, idType: r.idType as IdTypeCode, idNo: r.idNo, occupation: r.occupation, job: r.job,
    level: r.level as LevelCode, result: '合格', issueDate: r.issueDate, number: r.number, stockSerial: r.stockSerial,
  };
  const fonts = FontSet.load();
  const browser = await launchBrowser();
  try {
    const template = await buildTemplate(profile, fonts, browser);
    const rendered = await renderCertificate(template, fonts, {
      fields: printedFields(rec, r.reissue),
      ...(r.photo ? { photoJpeg: readFileSync(resolve(dirname(recordFile), r.photo)) } : {}),
      date: ctx.now,
    });
    mkdirSync(opts.out, { recursive: true });
    const base = join(opts.out, `${rec.number}-preview`);
    writeFileSync(`${base}.pdf`, rendered.bytes);
    execFileSync('pdftoppm', ['-png', '-r', String(opts.dpi ?? 100), '-singlefile', `${base}.pdf`, base]);
    return { pdf: `${base}.pdf`, png: `${base}.png`, style: profile.styleId, fonts: fonts.report() };
  } finally {
    await browser.close();
  }
}
