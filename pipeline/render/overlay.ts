/**
 * The overlay layer: per-certificate values drawn on the template at the positions the layout engine computed
 * from the sheet, with the fonts the FontSet resolved (subset-embedded per certificate).
 *
 * A certificate is the template's bytes plus one incremental update (pdf-update.ts): the page with an overlay
 * content stream appended to its contents, the subset fonts, the photo, and the document dates. The template is
 * parsed once per process; nothing of it is written again.
 */
import { createHash } from 'node:crypto';
import { CERTIFICATE_LEVEL, flate } from './pdf-native.js';
import { JpegEmbedder, PDFDict, PDFHexString, PDFName, type PDFOperator, PDFRawStream, type PDFRef, PDFString } from '../pdf/lib.js';
import { SkillcertError } from '../core/errors.js';
import type { Face, FontSet } from '../fonts/index.js';
import { PdfBase, PdfUpdate } from '../pdf/update.js';
import type { PrintedFields } from '../core/record.js';
import { EmbeddedFont } from './embed-font.js';
import { assertCovered, layoutText, type PlacedText } from './layout.js';
import { assertNoForbiddenWords } from './lint.js';
import { PT_PER_MM } from './sheet.js';
import { drawStencil } from './seal.js';
import { boxToPdf, fillText, type PdfRect, STEEL_SEAL, type Template, templateScope } from './template.js';

/**
 * What the decorate hook draws on: the page's media box and a way to add content, in PDF points. A pdf-lib
 * PDFPage has both, so drawing code written for one (drawQr) works on the overlay too.
 */
export interface OverlayPage {
  getMediaBox(): { x: number; y: number; width: number; height: number };
  pushOperators(...operators: PDFOperator[]): void;
  /** Content-stream operators written as text (one or more lines, no trailing newline). */
  pushContent(text: string): void;
}

export interface OverlayInput {
  readonly fields: PrintedFields;
  /** The photo as JPEG bytes, already checked (stamp stage), fitted into the box on white; absent: an empty photo box. */
  readonly photoJpeg?: Uint8Array;
  /** Draws what other stages own (the QR code) into the sheet's boxes, in PDF points. */
  readonly decorate?: (page: OverlayPage, boxes: Readonly<Record<string, PdfRect>>) => void | Promise<void>;
  /** Document dates, from the run's clock (never read here). */
  readonly date: Date;
}

export interface RenderedCertificate {
  readonly bytes: Uint8Array;
  readonly placed: readonly PlacedText[];
  /** Image boxes of the sheet in PDF points (the signer puts its widget on the evaluation seal). */
  readonly boxes: Readonly<Record<string, PdfRect>>;
}

/** A certificate drawn but not yet written: the signer adds its field to the same update before it is saved. */
export interface ComposedCertificate {
  readonly update: PdfUpdate;
  readonly placed: readonly PlacedText[];
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

const bases = new WeakMap<Uint8Array, Promise<PdfBase>>();

/** The template parsed once per process (keyed by its bytes). */
function templateBase(t: Template): Promise<PdfBase> {
  let base = bases.get(t.bytes);
  if (!base) {
    base = PdfBase.parse(t.bytes);
    bases.set(t.bytes, base);
  }
  return base;
}

/** Content-stream numbers: 1/1000 pt is far below what a printer or the 0.3 mm tolerance of the sheet can see. */
export const pdfNumber = (v: number): string => String(Math.round(v * 1000) / 1000);
const n = pdfNumber;

/** A resource name neither in the resource dictionary nor among `taken`. */
function freshName(dict: PDFDict, stem: string, taken: ReadonlySet<string> = new Set()): string {
  for (let i = 1; ; i++) {
    const name = `${stem}${i}`;
    if (!dict.has(PDFName.of(name)) && !taken.has(name)) return name;
  }
}

/** Draws the overlay into an update of the template; the caller saves it (renderCertificate) or signs it first. */
export async function composeCertificate(t: Template, fonts: FontSet, input: OverlayInput): Promise<ComposedCertificate> {
  const placed = layoutOverlay(t, input.fields, fonts);
  const base = await templateBase(t);
  const update = new PdfUpdate(base);
  const ctx = update.context;
  const { dict: page } = update.page(0);
  const media = base.doc.getPage(0).getMediaBox();
  const top = media.y + media.height;
  const resources = update.child(page, 'Resources');
  const fontRes = update.child(resources, 'Font');
  const xobjects = update.child(resources, 'XObject');
  const ops: string[] = [];

  // Text: one font resource per face, subset to the glyphs of this certificate (all its texts known up front, so
  // that equal glyph sets give equal subsets: embed-font.ts writes each once).
  const textsByFace = new Map<Face, string[]>();
  for (const text of placed) {
    for (const { face, text: t } of text.lines.flatMap((line) => line.runs)) {
      const texts = textsByFace.get(face);
      if (texts) texts.push(t);
      else textsByFace.set(face, [t]);
    }
  }
  const embedded = new Map<Face, { font: EmbeddedFont; name: string }>();
  const fontFor = (face: Face) => {
    let e = embedded.get(face);
    if (!e) {
      const taken = new Set([...embedded.values()].map((x) => x.name));
      e = { font: new EmbeddedFont(face, subsetName(face, input.fields.number), textsByFace.get(face)), name: freshName(fontRes, 'SkF', taken) };
      embedded.set(face, e);
    }
    return e;
  };
  ops.push('BT', '0 g');
  for (const text of placed) {
    for (const line of text.lines) {
      for (const run of line.runs) {
        const { font, name } = fontFor(run.face);
        ops.push(`/${name} ${n(text.size)} Tf`, `1 0 0 1 ${n(media.x + run.x * PT_PER_MM)} ${n(top - run.y * PT_PER_MM)} Tm`, `${font.encode(run.text)} Tj`);
      }
    }
  }
  ops.push('ET');

  const boxes: Record<string, PdfRect> = {};
  for (const img of t.sheet.images) boxes[img.id] = boxToPdf(img, top, media.x);
  const photo = boxes.photo;
  if (photo) {
    if (input.photoJpeg) {
      // pdf-lib's JPEG reader reads `.buffer` from offset 0: a view into a larger buffer (a small Buffer comes from
      // Node's shared pool) is copied first.
      const bytes = input.photoJpeg;
      const jpeg = await JpegEmbedder.for(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes));
      const name = freshName(xobjects, 'SkPhoto');
      xobjects.set(PDFName.of(name), await jpeg.embedIntoContext(ctx));
      // Fitted into the box, centred, on white: a photo that is not square (embedded as it came) looks exactly
      // like one converted to the square on white.
      const scale = Math.min(photo.width / jpeg.width, photo.height / jpeg.height);
      const [w, h] = [jpeg.width * scale, jpeg.height * scale];
      if (w < photo.width - 0.01 || h < photo.height - 0.01) ops.push('q', '1 g', `${n(photo.x)} ${n(photo.y)} ${n(photo.width)} ${n(photo.height)} re`, 'f', 'Q');
      ops.push('q', `${n(w)} 0 0 ${n(h)} ${n(photo.x + (photo.width - w) / 2)} ${n(photo.y + (photo.height - h) / 2)} cm`, `/${name} Do`, 'Q');
    } else {
      ops.push('q', '0.6 0.6 0.6 RG', '0.4 w', `${n(photo.x)} ${n(photo.y)} ${n(photo.width)} ${n(photo.height)} re`, 'S', 'Q');
    }
  }
  const surface: OverlayPage = {
    getMediaBox: () => ({ x: media.x, y: media.y, width: media.width, height: media.height }),
    pushOperators: (...operators) => {
      for (const op of operators) ops.push(op.toString());
    },
    pushContent: (text) => ops.push(text),
  };
  // 第十条: the steel seal may be printed over the photo; the template carries it when the profile has one.
  const steel = boxes['seal.steel'];
  if (steel && input.photoJpeg && xobjects.has(PDFName.of(STEEL_SEAL))) drawStencil(surface, STEEL_SEAL, steel);
  if (input.decorate) await input.decorate(surface, boxes);

  for (const { font, name } of embedded.values()) fontRes.set(PDFName.of(name), font.write(ctx));
  // The template's contents leave the graphics state as they found it (Chromium's stream is wrapped in q/Q, the
  // seals draw inside q/Q), so the overlay's coordinates are the page's.
  const content: PDFRef = update.register(PDFRawStream.of(ctx.obj({ Filter: 'FlateDecode' }), flate(Buffer.from(`${ops.join('\n')}\n`, 'latin1'), CERTIFICATE_LEVEL)));
  update.append(page, 'Contents', content);

  const info = update.info();
  info.set(PDFName.of('CreationDate'), PDFString.fromDate(input.date));
  info.set(PDFName.of('ModDate'), PDFString.fromDate(input.date));
  info.set(PDFName.of('Subject'), PDFHexString.fromText(`证书编号 ${input.fields.number}`));
  return { update, placed, boxes };
}

export async function renderCertificate(t: Template, fonts: FontSet, input: OverlayInput): Promise<RenderedCertificate> {
  const { update, placed, boxes } = await composeCertificate(t, fonts, input);
  return { bytes: update.save().bytes, placed, boxes };
}
