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
  type PDFContext,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFInvalidObject,
  PDFName,
  PDFNumber,
  type PDFObject,
  PDFRef,
  PDFString,
  concatTransformationMatrix,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
} from '../pdf/lib.js';
import { SkillcertError } from '../core/errors.js';

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
  checkWidget(o.widget, pages.length);
  const page = pages[o.widget.pageIndex]!;
  const ctx = doc.context;

  let acroForm = doc.catalog.lookupMaybe(PDFName.of('AcroForm'), PDFDict);
  const fieldName = uniqueFieldName(acroForm, (ref) => ctx.lookup(ref), o.fieldName);
  const sigRef = ctx.register(signatureDictionary(ctx, o));
  const widgetRef = ctx.register(await signatureWidget(ctx, o, sigRef, page.ref, fieldName, (png) => (isPng(png) ? doc.embedPng(png) : doc.embedJpg(png)).then((img) => img.ref)));

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
  acroForm.set(PDFName.of('SigFlags'), sigFlags(acroForm.lookupMaybe(PDFName.of('SigFlags'), PDFNumber)));

  const out = await doc.save({ useObjectStreams: o.useObjectStreams ?? true, addDefaultPage: false, updateFieldAppearances: false });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Refuses a widget outside the document's pages or with a rectangle that is not one. */
export function checkWidget(widget: PlaceholderOptions['widget'], pageCount: number): void {
  const { pageIndex, rect } = widget;
  if (!Number.isInteger(pageIndex) || pageIndex < 0 || pageIndex >= pageCount) {
    throw new SkillcertError('E_SIGN', `Expected a page index 0-${pageCount - 1} for the signature widget but received ${pageIndex}`);
  }
  if (rect.length !== 4 || !rect.every(Number.isFinite) || rect[2] <= rect[0] || rect[3] <= rect[1]) {
    throw new SkillcertError('E_SIGN', `Expected a widget rect [x1, y1, x2, y2] with x2 > x1 and y2 > y1 but received [${rect.join(', ')}]`);
  }
}

/**
 * A field name not yet used in the AcroForm (Signature1, Signature2, …); refuses a PDF that is already signed,
 * since signing rewrites it — unless `allowSigned` (an incremental update, which leaves earlier signatures intact). `lookup` resolves the form's references in whichever document holds them.
 */
export function uniqueFieldName(acroForm: PDFDict | undefined, lookup: (ref: PDFRef) => PDFObject | undefined, wanted?: string, o: { allowSigned?: boolean } = {}): string {
  const resolve = (v: PDFObject | undefined) => (v instanceof PDFRef ? lookup(v) : v);
  const fields = resolve(acroForm?.get(PDFName.of('Fields')));
  const names = new Set<string>();
  for (let i = 0; fields instanceof PDFArray && i < fields.size(); i++) {
    const f = resolve(fields.get(i));
    if (!(f instanceof PDFDict)) continue;
    if (!o.allowSigned && f.get(PDFName.of('FT')) === PDFName.of('Sig') && f.get(PDFName.of('V'))) {
      throw new SkillcertError('E_SIGN', 'the PDF is already signed; signing rewrites the file and would break the existing signature (sign the freshly rendered PDF)');
    }
    const t = resolve(f.get(PDFName.of('T')));
    if (t instanceof PDFString || t instanceof PDFHexString) names.add(t.decodeText());
  }
  let fieldName = wanted ?? 'Signature1';
  for (let n = 2; names.has(fieldName); n++) fieldName = `${wanted ?? 'Signature'}${n}`;
  return fieldName;
}

/**
 * The signature dictionary with its placeholders, as raw bytes (PDFInvalidObject) so that it never lands in a
 * compressed object stream and the signer can patch /ByteRange and /Contents in place.
 */
export function signatureDictionary(ctx: PDFContext, o: Pick<PlaceholderOptions, 'signingTime' | 'reason' | 'location' | 'contactInfo' | 'name' | 'contentsLength'>): PDFInvalidObject {
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
  return PDFInvalidObject.of(raw);
}

/** The /DocTimeStamp dictionary (ETSI EN 319 142-1 §5.4.3, PAdES B-LTA): /SubFilter ETSI.RFC3161, no /M. */
export function docTimestampDictionary(ctx: PDFContext, contentsLength: number): PDFInvalidObject {
  const byteRange = PDFArray.withContext(ctx);
  byteRange.push(PDFNumber.of(0));
  for (let i = 0; i < 3; i++) byteRange.push(PDFName.of(BYTE_RANGE_PLACEHOLDER));
  const dict = ctx.obj({ Type: 'DocTimeStamp', Filter: 'Adobe.PPKLite', SubFilter: 'ETSI.RFC3161', ByteRange: byteRange, Contents: PDFHexString.of('00'.repeat(contentsLength)) });
  const raw = new Uint8Array(dict.sizeInBytes());
  dict.copyBytesInto(raw, 0);
  return PDFInvalidObject.of(raw);
}

/**
 * The visible signature: a locked, printed widget on the caller's rectangle whose value is the signature
 * dictionary; its appearance is empty (the renderer drew the seal on the page) or the given image.
 */
export async function signatureWidget(
  ctx: PDFContext,
  o: Pick<PlaceholderOptions, 'widget' | 'appearanceImage'>,
  sigRef: PDFRef,
  pageRef: PDFRef,
  fieldName: string,
  embedImage: (image: Uint8Array) => Promise<PDFRef>,
): Promise<PDFDict> {
  const [x1, y1, x2, y2] = o.widget.rect;
  const w = x2 - x1;
  const h = y2 - y1;
  let appearance: PDFRef;
  if (o.appearanceImage) {
    const img = await embedImage(o.appearanceImage);
    const ops = [pushGraphicsState(), concatTransformationMatrix(w, 0, 0, h, 0, 0), drawObject('Im0'), popGraphicsState()];
    appearance = ctx.register(ctx.formXObject(ops, { BBox: [0, 0, w, h], Resources: { XObject: { Im0: img } } }));
  } else {
    // An empty appearance (the renderer drew the seal on the page); /Resources avoids an Acrobat quirk.
    appearance = ctx.register(ctx.formXObject([], { BBox: [0, 0, w, h], Resources: {} }));
  }
  return ctx.obj({
    Type: 'Annot',
    Subtype: 'Widget',
    FT: 'Sig',
    Rect: [x1, y1, x2, y2],
    V: sigRef,
    T: PDFHexString.fromText(fieldName),
    F: 4 | 128, // Print | Locked
    P: pageRef,
    AP: { N: appearance },
  });
}

/** SigFlags with SignaturesExist | AppendOnly set. */
export function sigFlags(current: PDFNumber | undefined): PDFNumber {
  return PDFNumber.of((current?.asNumber() ?? 0) | 1 | 2);
}

export function isPng(b: Uint8Array): boolean {
  return b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}
