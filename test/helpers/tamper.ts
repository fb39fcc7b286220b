/**
 * Forgeries of a real certificate PDF, each the kind a verifier must catch (issue 4):
 * - `flipSignedByte`: one byte inside the signed byte range changed;
 * - `appendNameChange`: an incremental update (ISO 32000-1 §7.5.6) appended after signing that paints another
 *   name over the holder's — the signed revision stays intact, the file is no longer wholly signed;
 * - `pasteQr`: another certificate's QR code (its genuine text, drawn here with the qrcode package as vector
 *   modules) over this one's QR box with pdf-lib, the old signature removed and the file signed again with the
 *   same identity through the public signing API — every signature check passes, only the QR's agreement with
 *   the printed text can tell.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRef, rgb, type PDFPage } from 'pdf-lib';
import { STYLES_DIR } from '../../pipeline/core/paths.js';
import { type LoadedSigner, signPdf } from '../../pipeline/sign/index.js';
import QRCode from 'qrcode';
import { stext } from './pdf.js';

const PT = 72 / 25.4;

/** The signature's /ByteRange [a b c d] (the last one in the file). */
export function byteRange(pdf: Buffer): [number, number, number, number] {
  const all = [...pdf.toString('latin1').matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const m = all.at(-1);
  if (!m) throw new Error('no /ByteRange in the PDF');
  return [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
}

/** Changes one byte of the binary comment on line 2: inside the signed range, and the PDF still parses. */
export function flipSignedByte(pdf: Buffer): { bytes: Buffer; offset: number } {
  const b = Buffer.from(pdf);
  const offset = b.indexOf('%', 5) + 1;
  const [start, len] = byteRange(b);
  if (offset <= 0 || offset < start || offset >= start + len) throw new Error(`byte ${offset} is not inside the first signed range ${start}+${len}`);
  b[offset] = b[offset]! ^ 0x01;
  return { bytes: b, offset };
}

/** Where `name` is printed on page 1, in PDF points from the bottom-left: the box of its characters. */
export function printedBox(pdf: Buffer, name: string): { x: number; y: number; w: number; h: number; pageHeight: number } {
  const page = stext(pdf)[0];
  if (!page) throw new Error('no page');
  const chars = page.chars;
  const want = [...name];
  for (let i = 0; i + want.length <= chars.length; i++) {
    if (want.every((c, k) => chars[i + k]!.c === c)) {
      const run = chars.slice(i, i + want.length);
      const left = Math.min(...run.map((c) => c.x));
      const right = Math.max(...run.map((c) => c.right));
      const top = Math.min(...run.map((c) => c.top));
      const bottom = Math.max(...run.map((c) => c.bottom));
      return { x: left * PT, y: (page.height - bottom) * PT, w: (right - left) * PT, h: (bottom - top) * PT, pageHeight: page.height * PT };
    }
  }
  throw new Error(`"${name}" is not printed on page 1`);
}

/**
 * Appends an incremental update that paints a white box over the printed `name` and writes `newName` there
 * (Helvetica: Latin text needs no embedded font): a new content stream, a font, the page dictionary again with
 * /Contents [old new], a classic xref section and a trailer with /Prev.
 */
export async function appendNameChange(pdf: Buffer, name: string, newName: string): Promise<Buffer> {
  const box = printedBox(pdf, name);
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const ctx = doc.context;
  const page = doc.getPages()[0]!;
  // New objects start above the previous revision's /Size: its cross-reference stream is an object too, and
  // pdf-lib does not count it.
  const size = Math.max(...[...pdf.toString('latin1').matchAll(/\/Size\s+(\d+)/g)].map((m) => Number(m[1])));
  const fontNum = Math.max(size, ctx.largestObjectNumber + 1);
  const streamNum = fontNum + 1;
  const old = page.node.get(PDFName.of('Contents'));
  const contents = old instanceof PDFArray ? [...old.asArray()] : [old!];
  page.node.set(PDFName.of('Contents'), ctx.obj([...contents, PDFRef.of(streamNum)]));
  const resources = (page.node.lookup(PDFName.of('Resources'), PDFDict)).clone(ctx);
  const fonts = (resources.lookupMaybe(PDFName.of('Font'), PDFDict)?.clone(ctx)) ?? ctx.obj({});
  fonts.set(PDFName.of('FTamper'), PDFRef.of(fontNum));
  resources.set(PDFName.of('Font'), fonts);
  page.node.set(PDFName.of('Resources'), resources);
  const f = (n: number) => n.toFixed(2);
  const stream = `q 1 1 1 rg ${f(box.x - 2)} ${f(box.y - 2)} ${f(box.w + 4)} ${f(box.h + 4)} re f Q BT 0 0 0 rg /FTamper 12 Tf ${f(box.x)} ${f(box.y + 2)} Td (${newName}) Tj ET`;
  const prev = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(pdf.toString('latin1'))![1]);
  const root = ctx.trailerInfo.Root!.toString();
  let out = pdf.toString('latin1') + '\n';
  const offPage = out.length;
  out += `${page.ref.objectNumber} 0 obj\n${page.node.toString()}\nendobj\n`;
  const offFont = out.length;
  out += `${fontNum} 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\nendobj\n`;
  const offStream = out.length;
  out += `${streamNum} 0 obj\n<< /Length ${stream.length} >>\nstream\n${stream}\nendstream\nendobj\n`;
  const xref = out.length;
  const entry = (o: number) => `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `xref\n${page.ref.objectNumber} 1\n${entry(offPage)}${fontNum} 2\n${entry(offFont)}${entry(offStream)}`;
  out += `trailer\n<< /Size ${streamNum + 1} /Root ${root} /Prev ${prev} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** The QR box of a reference style, in mm from the page's top-left corner (from its parameter sheet). */
export function qrBoxMm(styleId: string): { x: number; y: number; w: number; h: number } {
  const sheet = JSON.parse(readFileSync(join(STYLES_DIR, `${styleId}.json`), 'utf8')) as { images: { id: string; x: number; y: number; w: number; h: number }[] };
  const qr = sheet.images.find((i) => i.id === 'qr');
  if (!qr) throw new Error(`${styleId} has no qr box`);
  return qr;
}

/**
 * Takes page 1's signature widget off the page and the AcroForm off the document (so that the file can be signed
 * again as if for the first time), and returns the widget's rectangle, for a signature in the same place.
 */
export function dropSignature(doc: PDFDocument, page: PDFPage): [number, number, number, number] {
  const annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  let rect: [number, number, number, number] | undefined;
  const keep: PDFRef[] = [];
  for (let i = 0; annots && i < annots.size(); i++) {
    const a = annots.lookup(i, PDFDict);
    if (a.get(PDFName.of('FT')) === PDFName.of('Sig')) {
      rect = a.lookup(PDFName.of('Rect'), PDFArray).asArray().map((n) => (n as PDFNumber).asNumber()) as [number, number, number, number];
    } else {
      keep.push(annots.get(i) as PDFRef);
    }
  }
  if (!rect) throw new Error('the PDF has no signature widget to replace');
  if (keep.length) page.node.set(PDFName.of('Annots'), doc.context.obj(keep));
  else page.node.delete(PDFName.of('Annots'));
  doc.catalog.delete(PDFName.of('AcroForm'));
  return rect;
}

/**
 * Draws `qrText` (another certificate's QR) over the QR box of `pdf`, drops the old signature (its field and
 * widget) and signs the result again with `signer` on the old widget's rectangle.
 */
export async function pasteQr(pdf: Buffer, qrText: string, styleId: string, signer: LoadedSigner, signingTime: Date): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const page = doc.getPages()[0]!;
  const rect = dropSignature(doc, page);

  const box = qrBoxMm(styleId);
  const h = page.getHeight();
  const x = box.x * PT;
  const y = h - (box.y + box.h) * PT;
  const size = Math.min(box.w, box.h) * PT;
  page.drawRectangle({ x: x - 2 * PT, y: y - 2 * PT, width: size + 4 * PT, height: size + 4 * PT, color: rgb(1, 1, 1) });
  // The symbol with a 4-module quiet zone inside the box, dark modules as filled squares.
  const qr = QRCode.create(qrText, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const m = size / (n + 8);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.modules.get(r, c)) page.drawRectangle({ x: x + (c + 4) * m, y: y + size - (r + 5) * m, width: m, height: m, color: rgb(0, 0, 0) });
    }
  }
  const edited = await doc.save({ useObjectStreams: false });
  return signPdf(edited, signer, { signingTime, reason: 'test: a QR code pasted from another certificate', widget: { pageIndex: 0, rect } });
}
