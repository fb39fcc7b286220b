/**
 * Signature placeholder with pdf-lib: a signature dictionary (/ByteRange placeholder, /Contents of zeros
 * sized to the CMS), a visible widget on the caller's rectangle, the AcroForm with /SigFlags 3.
 *
 * Why not @signpdf/placeholder-plain: it parses the file with string searches and cannot read
 * cross-reference streams (vbuch/node-signpdf#33, #279), which pdf-lib writes by default and Chromium
 * PDFs use. pdf-lib parses anything and rewrites the file; the signature dictionary is registered as raw
 * bytes (PDFInvalidObject) so it never lands in a compressed object stream and @signpdf can patch it.
 */
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFInvalidObject,
  PDFName,
  PDFNumber,
  PDFRef,
  PDFString,
  concatTransformationMatrix,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';
import { SkillcertError } from '../errors.js';

/** [x1, y1, x2, y2] in PDF points from the page's bottom-left corner. */
export type Rect = readonly [number, number, number, number];

export interface PlaceholderOptions {
  readonly signingTime: Date;
  readonly reason?: string;
  readonly location?: string;
  readonly contactInfo?: string;
  /** The signer's name as shown by viewers (/Name). */
  readonly name?: string;
  readonly widget: { readonly pageIndex: number; readonly rect: Rect };
  /** Bytes reserved for the CMS; /Contents holds twice as many hex digits. */
  readonly contentsLength: number;
  readonly fieldName?: string;
  /** An image (PNG or JPEG) drawn as the widget's appearance; by default the appearance is empty (the seal is on the page). */
  readonly appearanceImage?: Uint8Array;
  /** pdf-lib object streams make the file smaller; the signature dictionary stays outside them either way. */
  readonly useObjectStreams?: boolean;
}

/** The ByteRange placeholder that @signpdf/signpdf looks for (its DEFAULT_BYTE_RANGE_PLACEHOLDER). */
export const BYTE_RANGE_PLACEHOLDER = '**********';

export async function addSignaturePlaceholder(pdfBytes: Uint8Array, o: PlaceholderOptions): Promise<Buffer> {
  let doc: PDFDocument;
  try {
    // updateMetadata: false — pdf-lib would otherwise stamp ModDate/Producer from the clock.
    doc = await PDFDocument.load(pdfBytes, { updateMetadata: false });
  } catch (err) {
    throw new SkillcertError('E_SIGN', `cannot open the PDF to sign: ${(err as Error).message}`, {}, { cause: err });
  }
  const pages = doc.getPages();
  const { pageIndex, rect } = o.widget;
  if (!Number.isInteger(pageIndex) || pageIndex < 0 || pageIndex >= pages.length) {
    throw new SkillcertError('E_SIGN', `Expected a page index 0-${pages.length - 1} for the signature widget but received ${pageIndex}`);
  }
  if (rect.length !== 4 || !rect.every(Number.isFinite) || rect[2] <= rect[0] || rect[3] <= rect[1]) {
    throw new SkillcertError('E_SIGN', `Expected a widget rect [x1, y1, x2, y2] with x2 > x1 and y2 > y1 but received [${rect.join(', ')}]`);
  }
  const page = pages[pageIndex]!;
  const ctx = doc.context;

  let acroForm = doc.catalog.lookupMaybe(PDFName.of('AcroForm'), PDFDict);
  const fields = acroForm?.lookupMaybe(PDFName.of('Fields'), PDFArray);
  const names = new Set<string>();
  for (let i = 0; fields && i < fields.size(); i++) {
    const f = fields.lookup(i);
    if (!(f instanceof PDFDict)) continue;
    if (f.get(PDFName.of('FT')) === PDFName.of('Sig') && f.get(PDFName.of('V'))) {
      throw new SkillcertError('E_SIGN', 'the PDF is already signed; signing rewrites the file and would break the existing signature (sign the freshly rendered PDF)');
    }
    const t = f.lookupMaybe(PDFName.of('T'), PDFString, PDFHexString);
    if (t) names.add(t.decodeText());
  }
  let fieldName = o.fieldName ?? 'Signature1';
  for (let n = 2; names.has(fieldName); n++) fieldName = `${o.fieldName ?? 'Signature'}${n}`;

  const byteRange = PDFArray.withContext(ctx);
  byteRange.push(PDFNumber.of(0));
  for (let i = 0; i < 3; i++) byteRange.push(PDFName.of(BYTE_RANGE_PLACEHOLDER));
  const text = (s: string | undefined) => (s === undefined ? undefined : PDFHexString.fromText(s));
  const sigEntries: Record<string, unknown> = {
    Type: 'Sig',
    Filter: 'Adobe.PPKLite',
    SubFilter: 'ETSI.CAdES.detached',
    // ByteRange must come before Contents: @signpdf looks for "/Contents " after the ByteRange placeholder.
    ByteRange: byteRange,
    Contents: PDFHexString.of('00'.repeat(o.contentsLength)),
    M: PDFString.fromDate(o.signingTime),
    Prop_Build: { App: { Name: 'skillcert' } },
  };
  for (const [k, v] of [['Name', o.name], ['Reason', o.reason], ['Location', o.location], ['ContactInfo', o.contactInfo]] as const) {
    if (v !== undefined && v !== '') sigEntries[k] = text(v);
  }
  const sigDict = ctx.obj(sigEntries as Parameters<typeof ctx.obj>[0]);
  const raw = new Uint8Array(sigDict.sizeInBytes());
  sigDict.copyBytesInto(raw, 0);
  const sigRef = ctx.register(PDFInvalidObject.of(raw));

  const [x1, y1, x2, y2] = rect;
  const w = x2 - x1;
  const h = y2 - y1;
  let appearance: PDFRef;
  if (o.appearanceImage) {
    const img = isPng(o.appearanceImage) ? await doc.embedPng(o.appearanceImage) : await doc.embedJpg(o.appearanceImage);
    const ops = [pushGraphicsState(), concatTransformationMatrix(w, 0, 0, h, 0, 0), drawObject('Im0'), popGraphicsState()];
    appearance = ctx.register(ctx.formXObject(ops, { BBox: [0, 0, w, h], Resources: { XObject: { Im0: img.ref } } }));
  } else {
    // An empty appearance (the renderer drew the seal on the page); /Resources avoids an Acrobat quirk.
    appearance = ctx.register(ctx.formXObject([], { BBox: [0, 0, w, h], Resources: {} }));
  }
  const widgetRef = ctx.register(
    ctx.obj({
      Type: 'Annot',
      Subtype: 'Widget',
      FT: 'Sig',
      Rect: [x1, y1, x2, y2],
      V: sigRef,
      T: PDFHexString.fromText(fieldName),
      F: 4 | 128, // Print | Locked
      P: page.ref,
      AP: { N: appearance },
    }),
  );

  const annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray) ?? ctx.obj([]);
  annots.push(widgetRef);
  page.node.set(PDFName.of('Annots'), annots);
  if (!acroForm) {
    acroForm = ctx.obj({ Fields: [] });
    doc.catalog.set(PDFName.of('AcroForm'), ctx.register(acroForm));
  }
  const formFields = acroForm.lookupMaybe(PDFName.of('Fields'), PDFArray) ?? ctx.obj([]);
  formFields.push(widgetRef);
  acroForm.set(PDFName.of('Fields'), formFields);
  const flags = acroForm.lookupMaybe(PDFName.of('SigFlags'), PDFNumber)?.asNumber() ?? 0;
  acroForm.set(PDFName.of('SigFlags'), PDFNumber.of(flags | 1 | 2)); // SignaturesExist | AppendOnly

  const out = await doc.save({ useObjectStreams: o.useObjectStreams ?? true, addDefaultPage: false, updateFieldAppearances: false });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function isPng(b: Uint8Array): boolean {
  return b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}
