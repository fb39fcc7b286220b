/**
 * The template layer: everything constant for an organisation and a style (frame, title, certify text,
 * organisation names, labels, query addresses, seals) rendered once per run — Chromium prints the Handlebars
 * page, pdf-lib places the seal images — and reused as the base of every certificate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { PDFDocument } from '../pdf/lib.js';
import { SkillcertError } from '../core/errors.js';
import type { FontSet } from '../fonts/index.js';
import { TEMPLATES_DIR } from '../core/paths.js';
import { type Profile, profilePath } from '../core/profile.js';
import type { PagePrinter } from './browser.js';
import { assertCovered, layoutText, type PlacedText } from './layout.js';
import { useNativeDeflate } from './pdf-native.js';
import { addStencil, drawStencil, sealStencil } from './seal.js';
import { assertNoForbiddenWords } from './lint.js';
import { type ImageElement, loadSheet, MM_PER_PT, PT_PER_MM, type Sheet, type TextElement } from './sheet.js';

/** What the sheet's Handlebars texts can refer to on the template layer. */
export interface TemplateScope {
  readonly org: { zh: string; en: string };
  readonly branch?: { zh: string; en: string };
}

export function templateScope(p: Profile): TemplateScope {
  return { org: p.name, ...(p.branch ? { branch: p.branch.name } : {}) };
}

useNativeDeflate();

/** The steel seal's resource name in the template, drawn by each certificate over its photo (第十条). */
export const STEEL_SEAL = 'SkSteel';
const STEEL_OPACITY = 0.5;

const hbs = Handlebars.create();
hbs.registerPartial('frame', readFileSync(join(TEMPLATES_DIR, 'partials', 'frame.hbs'), 'utf8'));
const pageTemplate = hbs.compile(readFileSync(join(TEMPLATES_DIR, 'certificate.hbs'), 'utf8'), { strict: true });
// Sheet texts are plain strings with {{…}} slots; their values are escaped once, by the page template.
const textHbs = Handlebars.create();
// "… organized by {{noFinalStop org.en}}." must not print "Co., Ltd.." for a name that ends with a full stop.
textHbs.registerHelper('noFinalStop', (s: unknown) => String(s ?? '').replace(/[.。]\s*$/u, ''));
const textTemplates = new Map<string, HandlebarsTemplateDelegate>();
export function fillText(text: string, scope: object): string {
  let t = textTemplates.get(text);
  if (!t) textTemplates.set(text, (t = textHbs.compile(text, { noEscape: true, strict: true })));
  return t(scope).replace(/\s+/g, (s) => (s.includes('\n') ? ' ' : s)).trim();
}

/** Lays out the template layer's texts for a profile, after the 第七条 lint and the font-coverage check. */
export function layoutTemplate(sheet: Sheet, scope: TemplateScope, fonts: FontSet, source: string): PlacedText[] {
  const els = sheet.text.filter((e) => e.layer === 'template');
  const texts = els.map((e) => ({ el: e, text: fillText(e.text, scope) }));
  assertNoForbiddenWords(texts.map(({ el, text }) => ({ where: `${source}: ${el.id}`, text })));
  return texts.map(({ el, text }) => {
    assertCovered(text, el.role, fonts, `${source}: ${el.id}`);
    return layoutText(el, text, fonts, `${source}: ${el.id}`);
  });
}

const r = (n: number) => Math.round(n * 1000) / 1000;

function pageHtml(sheet: Sheet, placed: readonly PlacedText[]): string {
  const { page, frame } = sheet;
  const o = frame.outer;
  const i = frame.inner;
  const corner = (x: number, y: number, sx: number, sy: number) => ({
    x: r(x + 2.5 * sx), y: r(y + 2.5 * sy), dx: 12 * sx, dy: 12 * sy, cx: r(x + 2.5 * sx), cy: r(y + 2.5 * sy), rx: r(x + 2.5 * sx - 1.2), ry: r(y + 2.5 * sy - 1.2),
  });
  const runs = placed.flatMap((t) =>
    t.lines.flatMap((l) =>
      l.runs.map((run) => ({
        x: r(run.x), y: r(run.y), text: run.text, family: run.face.family, weight: run.face.weight,
        fontStyle: run.face.italic ? 'italic' : 'normal', sizeMm: r(t.size * MM_PER_PT),
      })),
    ),
  );
  return pageTemplate({
    title: sheet.title,
    page,
    frame: {
      ...frame, outerW: page.width - 2 * o, outerH: page.height - 2 * o, innerW: page.width - 2 * i, innerH: page.height - 2 * i,
      corners: [corner(i, i, 1, 1), corner(page.width - i, i, -1, 1), corner(i, page.height - i, 1, -1), corner(page.width - i, page.height - i, -1, -1)],
    },
    runs,
  });
}

/** A rectangle in PDF points (origin bottom-left), as pdf-lib draws. */
export interface PdfRect { x: number; y: number; width: number; height: number }

/** Converts a sheet box (mm from the top-left) to PDF points on a page whose top edge is at `top`. */
export function boxToPdf(el: Pick<ImageElement, 'x' | 'y' | 'w' | 'h'>, top: number, left = 0): PdfRect {
  return { x: left + el.x * PT_PER_MM, y: top - (el.y + el.h) * PT_PER_MM, width: el.w * PT_PER_MM, height: el.h * PT_PER_MM };
}

export interface Template {
  readonly sheet: Sheet;
  readonly profile: Profile;
  /** The template PDF: frame, constant text and seals; every certificate starts from these bytes. */
  readonly bytes: Uint8Array;
  readonly placed: readonly PlacedText[];
}

/** Seal images the sheet asks for, from the profile; a missing required seal is a profile error. */
function sealFile(p: Profile, img: ImageElement): string | undefined {
  switch (img.source) {
    case 'evaluation': return profilePath(p, p.seals.evaluation);
    case 'branch': return p.branch ? profilePath(p, p.branch.seal) : undefined;
    case 'steel': return p.seals.steel ? profilePath(p, p.seals.steel) : undefined;
    default: return undefined;
  }
}

export async function buildTemplate(profile: Profile, fonts: FontSet, printer: PagePrinter): Promise<Template> {
  const sheet = loadSheet(profile.styleId);
  const source = `profile ${profile.id} (${sheet.id})`;
  const placed = layoutTemplate(sheet, templateScope(profile), fonts, source);
  const raw = await printer.print(pageHtml(sheet, placed), sheet.page);
  const doc = await PDFDocument.load(raw);
  const [pdfPage] = doc.getPages();
  if (!pdfPage || doc.getPageCount() !== 1) throw new SkillcertError('E_RENDER', `Chromium printed ${doc.getPageCount()} pages for ${source}; expected exactly 1 (something overflows the page)`);
  // Chromium rounds the page to whole CSS pixels (841.92 × 594.96 pt); make it exactly the sheet's size,
  // keeping the top-left corner where Chromium drew it.
  const printed = pdfPage.getMediaBox();
  const w = sheet.page.width * PT_PER_MM;
  const h = sheet.page.height * PT_PER_MM;
  const top = printed.y + printed.height;
  pdfPage.setMediaBox(0, top - h, w, h);
  pdfPage.setCropBox(0, top - h, w, h);
  // Seals as one-colour stencils (seal.ts). The steel seal is only added to the resources: each certificate draws
  // it over its photo.
  for (const img of sheet.images.filter((i) => i.kind === 'seal' || i.kind === 'steel')) {
    const file = sealFile(profile, img);
    if (!file) {
      if (img.optional) continue;
      throw new SkillcertError('E_PROFILE', `${source}: the sheet places ${img.id} but the profile has no such seal (第十条)`, { field: img.id });
    }
    let png: Uint8Array;
    try {
      png = readFileSync(file);
    } catch (err) {
      throw new SkillcertError('E_PROFILE', `${source}: cannot read seal ${file}: ${(err as Error).message}`, { field: img.id }, { cause: err });
    }
    const stencil = await sealStencil(png, img.w, img.h, file);
    if (img.kind === 'steel') {
      addStencil(doc, pdfPage, STEEL_SEAL, stencil, STEEL_OPACITY);
    } else {
      const name = `Sk${img.id.replace(/[^A-Za-z0-9]/g, '')}`;
      addStencil(doc, pdfPage, name, stencil);
      drawStencil(pdfPage, name, boxToPdf(img, top));
    }
  }
  doc.setTitle('职业技能等级证书 Certificate of Occupational Skill Level');
  doc.setProducer('skillcert');
  doc.setCreator('skillcert');
  const bytes = await doc.save({ useObjectStreams: false });
  return { sheet, profile, bytes, placed };
}

export type { TextElement };
