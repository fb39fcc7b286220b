/** Small PDFs for signing tests, made with pdf-lib, deterministic (fixed dates, no clock). */
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';

export const SIGNING_TIME = new Date('2024-05-01T08:00:00Z');
export const MM = 72 / 25.4;
/** The seal box of a landscape A4 certificate: 40 mm at (220, 25) mm from the bottom-left. */
export const SEAL_RECT: [number, number, number, number] = [220 * MM, 25 * MM, 260 * MM, 65 * MM];

export async function makeTestPdf(opts: { pages?: number; title?: string } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(opts.title ?? 'skillcert test certificate');
  doc.setCreationDate(new Date('2024-05-01T00:00:00Z'));
  doc.setModificationDate(new Date('2024-05-01T00:00:00Z'));
  doc.setProducer('skillcert tests');
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  for (let i = 0; i < (opts.pages ?? 1); i++) {
    const page = doc.addPage([297 * MM, 210 * MM]);
    page.drawText('Certificate of Occupational Skill Level', { x: 60 * MM, y: 170 * MM, size: 16, font });
    page.drawText(`Certificate No. Y000111020001225000001 (page ${i + 1})`, { x: 60 * MM, y: 150 * MM, size: 12, font });
    page.drawCircle({ x: 240 * MM, y: 45 * MM, size: 20 * MM, borderColor: rgb(0.84, 0, 0.06), borderWidth: 2 });
  }
  return doc.save();
}
