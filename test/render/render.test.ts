import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import sharp from 'sharp';
import { FontSet } from '../../pipeline/fonts/index.js';
import { loadProfile, type Profile } from '../../pipeline/core/profile.js';
import type { Numbered } from '../../pipeline/core/record.js';
import { buildTemplate, launchBrowser, loadSheet, printedFields, renderCertificate, type BrowserHandle, type Template } from '../../pipeline/render/index.js';
import { fillText } from '../../pipeline/render/template.js';
import { imageBoxes, pdffonts, stext, type Char } from '../helpers/pdf.js';

const TOL = 0.3; // mm, SPEC §5
const SIZE_TOL = 0.05; // pt: Chromium prints 12 pt as 11.9925 pt

const fonts = FontSet.load();
let browser: BrowserHandle;
const templates = new Map<string, Template>();
const out = mkdtempSync(join(tmpdir(), 'skillcert-render-'));

const record: Numbered = {
  rowNo: 2, name: '阿依古丽·买买提', idType: '201', idNo: '11010519491231002X', occupation: '电工', job: '', level: 3,
  result: '合格', issueDate: '2026-11-20', number: 'S000011084012263000001', stockSerial: '26080001',
};

async function photo(): Promise<Buffer> {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="390" height="390"><rect width="390" height="390" fill="#fff"/><circle cx="195" cy="150" r="80" fill="#c96"/><rect x="85" y="250" width="220" height="140" rx="60" fill="#236"/></svg>';
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

test.before(async () => {
  browser = await launchBrowser();
  for (const id of ['haidian-qihang', 'jingdian-maintenance']) {
    const p = loadProfile(`fixtures/profiles/${id}.json`);
    templates.set(p.styleId, await buildTemplate(p, fonts, browser));
  }
});
test.after.always(async () => { await browser?.close(); });

async function certificate(styleId: string, rec: Numbered = record): Promise<{ file: string; t: Template }> {
  const t = templates.get(styleId)!;
  const r = await renderCertificate(t, fonts, { fields: printedFields(rec), photoJpeg: await photo(), date: new Date('2026-11-20T00:00:00Z') });
  const file = join(out, `${styleId}-${rec.number}.pdf`);
  writeFileSync(file, r.bytes);
  return { file, t };
}

const isCjk = (c: string) => c.codePointAt(0)! >= 0x2e80;
const noSpace = (s: string) => s.replace(/\s+/g, '');

/** The characters of one sheet element read back from the PDF, line by line. */
function readElement(chars: readonly Char[], el: ReturnType<typeof loadSheet>['text'][number], size: number): Char[][] {
  const left = el.align === 'left' ? el.x : el.align === 'center' ? el.x - el.w / 2 : el.x - el.w;
  const lh = (el.lineHeight ?? el.size * (25.4 / 72) * 1.2) * (size / el.size);
  const lines: Char[][] = [];
  for (let i = 0; i < el.maxLines; i++) {
    const y = el.y + i * lh;
    const line = chars.filter((c) => c.c.trim() && Math.abs(c.y - y) < TOL && c.x >= left - TOL && c.right <= left + el.w + TOL);
    if (line.length === 0) break;
    lines.push(line.sort((a, b) => a.x - b.x));
  }
  return lines;
}

for (const styleId of ['style-one', 'style-two'] as const) {
  test(`${styleId}: the page is A4 landscape`, async (t) => {
    const { file } = await certificate(styleId);
    const [page, ...rest] = stext(file);
    t.is(rest.length, 0);
    t.true(Math.abs(page!.width - 297) < 0.05, `width ${page!.width}`);
    t.true(Math.abs(page!.height - 210) < 0.05, `height ${page!.height}`);
  });

  test(`${styleId}: every text element has the sheet's font role, point size and position within 0.3 mm`, async (t) => {
    const { file, t: tpl } = await certificate(styleId);
    const chars = stext(file)[0]!.chars;
    const scope = { org: tpl.profile.name, branch: tpl.profile.branch?.name, f: { reissueNote: '', ...printedFields(record) } };
    const face = { kai: fonts.primary('kai').postscriptName, fangsong: fonts.primary('fangsong').postscriptName, times: fonts.primary('times').postscriptName };
    let checked = 0;
    for (const el of tpl.sheet.text) {
      const expected = fillText(el.text, scope);
      if (el.optional && expected === '') continue;
      const lines = readElement(chars, el, el.size);
      t.true(lines.length > 0, `${el.id}: nothing printed at (${el.x}, ${el.y})`);
      if (lines.length === 0) continue;
      t.is(noSpace(lines.flat().map((c) => c.c).join('')), noSpace(expected), `${el.id}: printed text`);
      for (const c of lines.flat()) {
        const role = el.role === 'mixed' ? (isCjk(c.c) ? 'kai' : 'times') : el.role;
        t.is(c.font, face[role], `${el.id}: "${c.c}" is in ${c.font}, expected the ${role} face ${face[role]}`);
        t.true(Math.abs(c.size - el.size) <= SIZE_TOL, `${el.id}: "${c.c}" is ${c.size} pt, expected ${el.size} pt`);
      }
      lines.forEach((line, i) => {
        const start = line[0]!.x;
        const end = line[line.length - 1]!.right;
        const indent = i === 0 ? el.indent * el.size * (25.4 / 72) : 0;
        const anchor = el.align === 'left' ? start - indent : el.align === 'center' ? (start + end) / 2 : end;
        t.true(Math.abs(anchor - el.x) <= TOL, `${el.id} line ${i + 1}: ${el.align} edge at ${anchor.toFixed(2)} mm, sheet says ${el.x} mm`);
        t.true(start >= (el.align === 'left' ? el.x : el.align === 'center' ? el.x - el.w / 2 : el.x - el.w) - TOL && end <= (el.align === 'left' ? el.x + el.w : el.align === 'center' ? el.x + el.w / 2 : el.x) + TOL, `${el.id} line ${i + 1} leaves its box`);
      });
      checked++;
    }
    t.true(checked >= 30, `checked ${checked} elements`);
  });

  test(`${styleId}: the photo box is 30.0 × 30.0 mm and the seals sit where the sheet puts them`, async (t) => {
    const { file, t: tpl } = await certificate(styleId);
    const boxes = imageBoxes(file);
    const near = (a: number, b: number) => Math.abs(a - b) <= TOL;
    const photoEl = tpl.sheet.images.find((i) => i.kind === 'photo')!;
    const photoBox = boxes.find((b) => near(b.x, photoEl.x) && near(b.y, photoEl.y));
    t.truthy(photoBox, 'photo drawn at its box');
    t.true(near(photoBox!.w, 30) && near(photoBox!.h, 30), `photo is ${photoBox!.w.toFixed(2)} × ${photoBox!.h.toFixed(2)} mm`);
    t.true(photoBox!.px / (30 / 25.4) >= 300, `photo is ${(photoBox!.px / (30 / 25.4)).toFixed(0)} dpi`);
    const seals = tpl.sheet.images.filter((i) => i.kind === 'seal');
    t.is(seals.length, styleId === 'style-one' ? 1 : 2, '第十条: one seal for style one, two for style two');
    for (const s of seals) {
      // seals are square PNGs, drawn to fill their square box
      t.truthy(boxes.find((b) => near(b.x, s.x) && near(b.y, s.y) && near(b.w, s.w) && near(b.h, s.h)), `${s.id} at (${s.x}, ${s.y}) ${s.w}×${s.h} mm`);
    }
    if (styleId === 'style-two') {
      const evaluation = seals.find((s) => s.source === 'evaluation')!;
      const branch = seals.find((s) => s.source === 'branch')!;
      t.true(evaluation.x > branch.x, '第十条（二）: the evaluation organisation seals the right side, the issuing organisation the left');
    }
  });

  test(`${styleId}: every font is embedded and subset`, async (t) => {
    const { file } = await certificate(styleId);
    const rows = pdffonts(file);
    t.true(rows.length >= 4);
    for (const row of rows) {
      t.true(row.embedded, `${row.name} embedded`);
      t.true(row.subset, `${row.name} subset`);
      t.not(row.type, 'Type 3', `${row.name} is a real font, not Type 3 glyph procedures`);
    }
  });

  test(`${styleId}: nothing overlaps and nothing leaves the inner frame`, async (t) => {
    const { file, t: tpl } = await certificate(styleId);
    const chars = stext(file)[0]!.chars.filter((c) => c.c.trim());
    const inner = tpl.sheet.frame.inner;
    for (const c of chars) t.true(c.x >= inner && c.right <= 297 - inner && c.top >= inner && c.bottom <= 210 - inner, `"${c.c}" at (${c.x.toFixed(1)}, ${c.y.toFixed(1)}) is outside the frame`);
    const overlaps = [];
    for (let i = 0; i < chars.length; i++) {
      for (let j = i + 1; j < chars.length; j++) {
        const a = chars[i]!, b = chars[j]!;
        const dx = Math.min(a.right, b.right) - Math.max(a.x, b.x);
        const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (dx > 0.2 && dy > 0.2) overlaps.push(`"${a.c}" and "${b.c}" at (${a.x.toFixed(1)}, ${a.y.toFixed(1)})`);
      }
    }
    t.deepEqual(overlaps, []);
    // text may not run under the photo or the QR code
    for (const img of tpl.sheet.images.filter((i) => i.kind === 'photo' || i.kind === 'qr')) {
      const under = chars.filter((c) => c.right > img.x && c.x < img.x + img.w && c.bottom > img.y && c.top < img.y + img.h);
      t.deepEqual(under.map((c) => c.c), [], `text under ${img.id}`);
    }
  });
}

test('a portrait photo embedded as it came is fitted into the 30 mm box, centred, even from a view into a larger buffer', async (t) => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="520"><rect width="400" height="520" fill="#fff"/><circle cx="200" cy="190" r="90" fill="#c96"/></svg>';
  const jpeg = await sharp(Buffer.from(svg)).jpeg({ quality: 60 }).toBuffer();
  // As Node hands out a small Buffer: a view at an offset into a shared pool.
  const pool = Buffer.alloc(jpeg.length + 100);
  jpeg.copy(pool, 37);
  const view = pool.subarray(37, 37 + jpeg.length);
  const tpl = templates.get('style-one')!;
  const r = await renderCertificate(tpl, fonts, { fields: printedFields(record), photoJpeg: view, date: new Date('2026-11-20T00:00:00Z') });
  const el = tpl.sheet.images.find((i) => i.kind === 'photo')!;
  const box = imageBoxes(r.bytes).find((b) => Math.abs(b.px - 400) < 1);
  if (!box) return t.fail('the photo is not in the PDF');
  const near = (a: number, b: number) => Math.abs(a - b) <= TOL;
  t.true(near(box.h, 30) && near(box.w, (30 * 400) / 520), `photo is ${box.w.toFixed(2)} × ${box.h.toFixed(2)} mm`);
  t.true(near(box.y, el.y) && near(box.x + box.w / 2, el.x + el.w / 2), `centred in its box at (${box.x.toFixed(2)}, ${box.y.toFixed(2)})`);
});

/** The overlay's fonts (resources SkF…) of a certificate: PostScript name (without the subset tag) → font file bytes. */
async function overlayFontFiles(file: string): Promise<Map<string, string>> {
  const doc = await PDFDocument.load(readFileSync(file));
  const fontsDict = doc.getPage(0).node.Resources()!.lookup(PDFName.of('Font'), PDFDict);
  const files = new Map<string, string>();
  for (const [name, ref] of fontsDict.entries()) {
    if (!name.asString().startsWith('/SkF')) continue;
    const type0 = doc.context.lookup(ref, PDFDict);
    const descendant = doc.context.lookup(type0.lookup(PDFName.of('DescendantFonts'), PDFArray).get(0), PDFDict);
    const descriptor = descendant.lookup(PDFName.of('FontDescriptor'), PDFDict);
    const stream = doc.context.lookup(descriptor.get(PDFName.of('FontFile2')));
    if (!(stream instanceof PDFRawStream)) throw new Error(`${name.asString()}: no FontFile2 stream`);
    files.set(descendant.lookup(PDFName.of('BaseFont'), PDFName).asString().replace(/^\/[A-Z]{6}\+/, ''), Buffer.from(stream.getContents()).toString('base64'));
  }
  return files;
}

test('two certificates that draw the same Latin letters and digits carry the same Latin subset, byte for byte; their names\' subsets differ', async (t) => {
  const a = await overlayFontFiles((await certificate('style-one')).file);
  const b = await overlayFontFiles((await certificate('style-one', { ...record, name: '王芳', number: 'S000011084012263000002' })).file);
  const latin = fonts.primary('times').postscriptName;
  const cjk = fonts.primary('fangsong').postscriptName;
  t.truthy(a.get(latin), `an overlay font ${latin} in ${[...a.keys()].join(', ')}`);
  t.is(a.get(latin), b.get(latin), 'the same Latin code points give the same subset');
  t.truthy(a.get(cjk));
  t.not(a.get(cjk), b.get(cjk), 'other names, other CJK glyphs');
});

test('第九条: an empty job is printed as —— and the level as 三级/高级工', async (t) => {
  const { file } = await certificate('style-one');
  const text = stext(file)[0]!.chars.map((c) => c.c).join('');
  t.true(text.includes('——'));
  t.true(text.includes('三级/高级工'));
});

test('a long occupation wraps inside its box; one that cannot fit even at the minimum size is refused', async (t) => {
  const long = { ...record, number: 'S000011084012263000002', occupation: '计算机程序设计员（人工智能训练与数据标注方向）高级研修' };
  const { file, t: tpl } = await certificate('style-one', long);
  const el = tpl.sheet.text.find((e) => e.id === 'field.occupation')!;
  const chars = stext(file)[0]!.chars.filter((c) => c.c.trim() && c.x >= el.x - TOL && c.y > el.y - 1 && c.y < el.y + el.maxLines * (el.lineHeight ?? 5) + 1);
  t.is(noSpace(chars.map((c) => c.c).join('')), noSpace(long.occupation));
  t.true(chars.every((c) => c.right <= el.x + el.w + TOL), 'stays inside its box');
  t.true(new Set(chars.map((c) => c.y.toFixed(1))).size === 2, 'wrapped onto two lines');
  const tooLong = { ...record, occupation: '电工'.repeat(60) };
  const err = await t.throwsAsync(certificate('style-one', tooLong));
  t.regex(err!.message, /field\.occupation is too long for its box/);
});

test('第七条: a profile that would print a forbidden word fails with the word and where it came from', async (t) => {
  const p: Profile = { ...loadProfile('fixtures/profiles/haidian-qihang.json') };
  const bad = { ...p, name: { zh: '全国启航职业技能培训学校', en: p.name.en } };
  const err = await t.throwsAsync(buildTemplate(bad, fonts, browser));
  t.regex(err!.message, /"全国" in profile haidian-qihang \(style-one\): certify\.zh/);
  t.regex(err!.message, /"全国" in profile haidian-qihang \(style-one\): org\.zh/);
});

test('a character no configured font covers is refused naming the character and the field', async (t) => {
  // U+2B81D (𫠝, CJK Extension D) is in none of the open faces
  const rare = { ...record, name: '王\u{2B81D}' };
  t.deepEqual(fonts.uncovered(rare.name, 'fangsong'), ['\u{2B81D}']);
  const err = await t.throwsAsync(certificate('style-one', rare));
  t.regex(err!.message, /field\.name: the character \u{2B81D} \(U\+2B81D\) is not in any fangsong font/u);
});

test('rare name characters that the fallback faces do cover are printed, not boxed', async (t) => {
  const rare = { ...record, number: 'S000011084012263000003', name: '龚䶮𠮷' };
  const { file } = await certificate('style-one', rare);
  const chars = stext(file)[0]!.chars;
  for (const ch of ['䶮', '𠮷']) t.truthy(chars.find((c) => c.c === ch && c.font === fonts.primary('fangsong').postscriptName), ch);
});
