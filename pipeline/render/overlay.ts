/**
 * The overlay layer: per-certificate values drawn with pdf-lib on a copy of the template, at the positions the
 * layout engine computed from the sheet, with the fonts the FontSet resolved (subset-embedded per document).
 */
import { createHash } from 'node:crypto';
import { PDFDocument, type PDFFont, type PDFPage, rgb } from 'pdf-lib';
import { SkillcertError } from '../errors.js';
import type { Face, FontSet } from '../fonts/index.js';
import type { PrintedFields } from '../record.js';
import { assertCovered, layoutText, type PlacedText } from './layout.js';
import { assertNoForbiddenWords } from './lint.js';
import { fontkitAdapter, rememberFace } from './pdf-fonts.js';
import { PT_PER_MM } from './sheet.js';
import { drawStencil, hasStencil } from './seal.js';
import { boxToPdf, fillText, type PdfRect, STEEL_SEAL, type Template, templateScope } from './template.js';

export interface OverlayInput {
  readonly fields: PrintedFields;
  /** The photo as JPEG bytes, already checked and cropped to the box (stamp stage); absent: an empty photo box. */
  readonly photoJpeg?: Uint8Array;
  /** Draws what other stages own (the QR code) into the sheet's boxes, in PDF points. */
  readonly decorate?: (page: PDFPage, boxes: Readonly<Record<string, PdfRect>>) => void | Promise<void>;
  /** Document dates, from the run's clock (never read here). */
  readonly date: Date;
}

export interface RenderedCertificate {
  readonly bytes: Uint8Array;
  readonly placed: readonly PlacedText[];
  /** Image boxes of the sheet in PDF points (the signer puts its widget on the evaluation seal). */
  readonly boxes: Readonly<Record<string, PdfRect>>;
}

// Fields that name the holder are the person's own legal data, not the issuer's wording: 第七条 does not apply.
const NOT_LINTED = new Set(['field.name', 'field.idNo']);

/** PDF 32000 §9.6.4: a subset font's name is a six-letter tag, a plus sign and the PostScript name. */
function subsetName(face: Face, seed: string): string {
  const digest = createHash('sha256').update(`${seed}/${face.postscriptName}`).digest();
  const tag = [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
  return `${tag}+${face.postscriptName}`;
}

export function layoutOverlay(t: Template, fields: PrintedFields, fonts: FontSet): PlacedText[] {
  const scope = { ...templateScope(t.profile), f: { reissueNote: '', ...fields } };
  const els = t.sheet.text.filter((e) => e.layer === 'overlay');
  const texts = els.map((el) => ({ el, text: fillText(el.text, scope) })).filter(({ el, text }) => !(el.optional && text === ''));
  for (const { el, text } of texts) {
    if (text === '') throw new SkillcertError('E_RENDER', `${el.id} is empty; every fill-in field must be filled (第九条)`, { field: el.id });
  }
  assertNoForbiddenWords(texts.filter(({ el }) => !NOT_LINTED.has(el.id)).map(({ el, text }) => ({ where: `certificate ${fields.number}: ${el.id}`, text })));
  return texts.map(({ el, text }) => {
    assertCovered(text, el.role, fonts, el.id);
    return layoutText(el, text, fonts, el.id);
  });
}

export async function renderCertificate(t: Template, fonts: FontSet, input: OverlayInput): Promise<RenderedCertificate> {
  const placed = layoutOverlay(t, input.fields, fonts);
  const doc = await PDFDocument.load(t.bytes, { updateMetadata: false });
  doc.registerFontkit(fontkitAdapter);
  const page = doc.getPage(0);
  const media = page.getMediaBox();
  const top = media.y + media.height;
  const embedded = new Map<Face, PDFFont>();
  const fontFor = async (face: Face) => {
    let f = embedded.get(face);
    if (!f) {
      rememberFace(face);
      f = await doc.embedFont(face.bytes, { subset: true, customName: subsetName(face, input.fields.number) });
      embedded.set(face, f);
    }
    return f;
  };
  for (const text of placed) {
    for (const line of text.lines) {
      for (const run of line.runs) {
        page.drawText(run.text, { x: media.x + run.x * PT_PER_MM, y: top - run.y * PT_PER_MM, size: text.size, font: await fontFor(run.face) });
      }
    }
  }
  const boxes: Record<string, PdfRect> = {};
  for (const img of t.sheet.images) boxes[img.id] = boxToPdf(img, top, media.x);
  const photo = boxes.photo;
  if (photo) {
    if (input.photoJpeg) {
      page.drawImage(await doc.embedJpg(input.photoJpeg), photo);
    } else {
      page.drawRectangle({ ...photo, borderWidth: 0.4, borderColor: rgb(0.6, 0.6, 0.6) });
    }
  }
  // 第十条: the steel seal may be printed over the photo; the template carries it when the profile has one.
  const steel = boxes['seal.steel'];
  if (steel && input.photoJpeg && hasStencil(page, STEEL_SEAL)) drawStencil(page, STEEL_SEAL, steel);
  if (input.decorate) await input.decorate(page, boxes);
  doc.setCreationDate(input.date);
  doc.setModificationDate(input.date);
  doc.setSubject(`证书编号 ${input.fields.number}`);
  const bytes = await doc.save({ useObjectStreams: false });
  return { bytes, placed, boxes };
}
