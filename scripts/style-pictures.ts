/**
 * Draws the README's labelled pictures of both styles: a sample certificate with every element of the parameter
 * sheet outlined and named (blue: template layer, green: per-certificate overlay, red: images).
 * Run: npx tsx scripts/style-pictures.ts   (writes docs/style-one.png and docs/style-two.png)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';
import { FontSet } from '../pipeline/fonts/index.js';
import { loadProfile } from '../pipeline/core/profile.js';
import type { Numbered } from '../pipeline/core/record.js';
import { buildTemplate, launchBrowser, PT_PER_MM, printedFields, renderCertificate } from '../pipeline/render/index.js';

const sample = JSON.parse(readFileSync('fixtures/records/sample.json', 'utf8')) as Numbered;
const fonts = FontSet.load();
const browser = await launchBrowser();
try {
  for (const id of ['haidian-qihang', 'jingdian-maintenance']) {
    const profile = loadProfile(`fixtures/profiles/${id}.json`);
    const t = await buildTemplate(profile, fonts, browser);
    const r = await renderCertificate(t, fonts, { fields: printedFields({ ...sample, rowNo: 0, result: '合格' }), date: new Date('2026-11-20T00:00:00Z') });
    const doc = await PDFDocument.load(r.bytes);
    const page = doc.getPage(0);
    const helv = await doc.embedFont(StandardFonts.Helvetica);
    const top = page.getMediaBox().y + page.getMediaBox().height;
    const box = (x: number, y: number, w: number, h: number, label: string, color: ReturnType<typeof rgb>) => {
      page.drawRectangle({ x: x * PT_PER_MM, y: top - (y + h) * PT_PER_MM, width: w * PT_PER_MM, height: h * PT_PER_MM, borderColor: color, borderWidth: 0.4, opacity: 0, borderOpacity: 0.8 });
      page.drawText(label, { x: x * PT_PER_MM + 1, y: top - y * PT_PER_MM - 4.5, size: 4.5, font: helv, color });
    };
    for (const el of t.sheet.text) {
      const left = el.align === 'left' ? el.x : el.align === 'center' ? el.x - el.w / 2 : el.x - el.w;
      const h = (el.lineHeight ?? el.size * 0.42) * el.maxLines;
      box(left, el.y - el.size * 0.3528, el.w, h, `${el.id} ${el.role} ${el.size}pt`, el.layer === 'template' ? rgb(0.1, 0.3, 0.9) : rgb(0.1, 0.6, 0.2));
    }
    for (const img of t.sheet.images) box(img.x, img.y, img.w, img.h, `${img.id} ${img.w}x${img.h}mm`, rgb(0.85, 0.1, 0.1));
    writeFileSync(`docs/${profile.styleId}.pdf`, await doc.save());
    execFileSync('pdftoppm', ['-png', '-r', '110', '-singlefile', `docs/${profile.styleId}.pdf`, `docs/${profile.styleId}`]);
    execFileSync('rm', [`docs/${profile.styleId}.pdf`]);
    console.log(`docs/${profile.styleId}.png`);
  }
} finally {
  await browser.close();
}
