/** Pieces every bundle form shares: the page margins, a title, a continuation page, signature lines. */
import { A4, LABEL, type PdfKit } from './kit.js';

export const MARGIN = 15;
export const CONTENT_W = A4.width - 2 * MARGIN;
/** Rows stop here, above the page number. */
export const BOTTOM = A4.height - 16;

export async function title(kit: PdfKit, text: string, y = 24, size = 18): Promise<void> {
  await kit.text(text, MARGIN, y, { size, script: LABEL, align: 'center', w: CONTENT_W, minSize: 11 });
}

/** A new page whose top repeats the document's title with （续）; returns where the content goes on. */
export function continuation(kit: PdfKit, docTitle: string): () => Promise<number> {
  return async () => {
    kit.addPage();
    await kit.text(`${docTitle}（续）`, MARGIN, 16, { size: 11, script: LABEL, align: 'center', w: CONTENT_W });
    return 22;
  };
}

/** Section heading; starts a new page first when fewer than `need` mm are left. */
export async function section(kit: PdfKit, text: string, y: number, docTitle: string, need = 30): Promise<number> {
  let yy = y;
  if (yy + need > BOTTOM) yy = await continuation(kit, docTitle)();
  await kit.text(text, MARGIN, yy + 6, { size: 12, script: LABEL, w: CONTENT_W });
  return yy + 9;
}

/** Signature and seal lines in a row: 经办人：____  日期：____ … */
export async function signatureLines(kit: PdfKit, labels: readonly string[], y: number, docTitle: string): Promise<number> {
  let yy = y;
  if (yy + 16 > BOTTOM) yy = await continuation(kit, docTitle)();
  const w = CONTENT_W / labels.length;
  for (let i = 0; i < labels.length; i++) await kit.field(labels[i]!, undefined, MARGIN + i * w, yy + 10, w - 4, 11);
  return yy + 16;
}
