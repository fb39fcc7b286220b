/**
 * Issue 14, part 0: the verifier's printed-text ⇔ QR check reads what the page draws in each field box of its
 * parameter sheet, and the QR code from the page's drawing operators. Certificates from a real batch (Chromium
 * template, pdf-lib overlay, signature), then forged the ways the issue lists — a name covered by a white box and
 * drawn anew, an image over a field, a name moved out of its box, another certificate's QR code — each forgery but
 * the appended update signed again with the organisation's own key, so that only the printed-text check can tell.
 * No registry anywhere: an HR desk's verifier.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import { PDFArray, PDFDocument, PDFName, PDFRawStream, PDFRef, rgb, StandardFonts, type PDFPage } from 'pdf-lib';
import sharp from 'sharp';
import { makeContext } from '../../pipeline/core/context.js';
import { runBatch } from '../../pipeline/batch/run.js';
import { loadSheet, PT_PER_MM } from '../../pipeline/render/sheet.js';
import { signPdf } from '../../pipeline/sign/index.js';
import { verifyFiles, type FileVerdict } from '../../pipeline/verify/certificate.js';
import { readPage } from '../../pipeline/verify/page.js';
import { printedFieldsCheck, sheetOfPage } from '../../pipeline/verify/fields.js';
import { parseQrText } from '../../pipeline/stamp/qr.js';
import { qrFromDrawing } from '../../pipeline/verify/vector-qr.js';
import { batchDir, certificateFiles, PHOTOS, profile, removeTempDirs, ROSTERS, tempDir, validPeople, writeRoster } from '../helpers/cli.js';
import { rasterise } from '../helpers/pdf.js';
import { appendNameChange, dropSignature, pasteQr } from '../helpers/tamper.js';
import { ensureIdentity, pem, testSigner } from '../sign/_identity.js';

test.after.always(removeTempDirs);

const SIGNING_TIME = new Date('2026-11-20T03:00:00Z');
const people = validPeople(2, 700);
let work: string;
let certs: { file: string; number: string; name: string }[];

test.before(async () => {
  ensureIdentity();
  work = tempDir('skillcert-printed-');
  const roster = await writeRoster(join(work, 'results.xlsx'), people);
  const out = join(work, 'out');
  await runBatch(makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), operator: 'test' }), {
    roster, profile: profile('haidian-qihang'), out, registry: join(work, 'registry.sqlite'), photos: PHOTOS, workers: 0,
  });
  const dir = batchDir(out);
  const files = certificateFiles(dir).pdfs.map((f) => join(dir, 'certificates', f));
  if (files.length !== people.length) throw new Error(`expected ${people.length} certificates, found ${files.length}`);
  // Each file's holder: the roster name its page draws (the genuine test checks it against the QR payload).
  certs = await Promise.all(files.map(async (file) => {
    const drawn = readPage(await PDFDocument.load(readFileSync(file))).glyphs.map((g) => g.text).join('');
    return { file, number: file.slice(-26, -4), name: people.map((p) => p.name).find((n) => drawn.includes(n)) ?? '' };
  }));
});

const anchors = () => [pem('root-ca')];
async function verify(bytes: Uint8Array, name: string): Promise<FileVerdict[]> {
  const file = join(work, `${name}.pdf`);
  writeFileSync(file, bytes);
  return verifyFiles([file], { trustAnchors: anchors(), at: new Date('2026-11-21T00:00:00Z') });
}
const failed = (v: FileVerdict) => v.checks.filter((c) => c.ok === false).map((c) => c.id);
const check = (v: FileVerdict, id: string) => v.checks.find((c) => c.id === id);

/** A field's value box of style one in PDF points (the media box's top edge is the sheet's top), from the parameter sheet. */
function valueBox(id: string, page: PDFPage): { x: number; y: number; w: number; h: number } {
  const media = page.getMediaBox();
  const pageHeight = media.y + media.height;
  const el = loadSheet('style-one').text.find((e) => e.id === id)!;
  const baseline = pageHeight - el.y * PT_PER_MM;
  return { x: el.x * PT_PER_MM, y: baseline - 3, w: 40 * PT_PER_MM, h: 14 };
}

/**
 * An insider's forgery: the certificate edited with pdf-lib (`edit`), its signature removed and the file signed
 * again with the organisation's TEST ONLY key on the old widget's rectangle. Every signature check then passes.
 */
async function editAndResign(pdf: Buffer, edit: (page: PDFPage, doc: PDFDocument) => Promise<void> | void): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const page = doc.getPages()[0]!;
  const rect = dropSignature(doc, page);
  await edit(page, doc);
  return signPdf(await doc.save({ useObjectStreams: false }), testSigner('org'), { signingTime: SIGNING_TIME, reason: 'test: a forgery signed by an insider', widget: { pageIndex: 0, rect } });
}

const signatureChecksPass = (v: FileVerdict) => v.checks.filter((c) => /^(signature|signer)\./.test(c.id)).every((c) => c.ok !== false);

test('a genuine certificate is VALID without a registry, status "not checked", its QR read from the drawing operators as zbarimg reads the render', async (t) => {
  const { file, number } = certs[0]!;
  const [v] = await verifyFiles([file], { trustAnchors: anchors() });
  t.is(v!.verdict, 'valid', JSON.stringify(v!.checks.filter((c) => c.ok !== true)));
  t.is(v!.status, 'not checked');
  t.is(v!.number, number);
  t.truthy(certs[0]!.name);
  t.regex(check(v!, 'qr.printedText')!.message, /number, name, occupation/);
  t.regex(check(v!, 'qr.decode')!.message, /^QR code read from the page's drawing operators \(\d+ × \d+ modules in \d+ rectangles, no rendering\)$/);
  t.regex(check(v!, 'qr.printedText')!.message, /agrees with what the field boxes of style-one print/);
  // The text read from the rectangles is the one zbarimg decodes from a 150 dpi render, byte for byte.
  const png = rasterise(file, 150, join(work, 'genuine-150dpi'));
  const zbar = execFileSync('zbarimg', ['--raw', '-q', '--nodbus', png], { encoding: 'utf8' }).trim();
  const drawing = readPage(await PDFDocument.load(readFileSync(file)));
  const box = loadSheet('style-one').images.find((i) => i.kind === 'qr')!;
  const top = drawing.media.y1;
  const vector = qrFromDrawing(drawing, { x0: (box.x - 3) * PT_PER_MM, x1: (box.x + box.w + 3) * PT_PER_MM, y0: top - (box.y + box.h + 3) * PT_PER_MM, y1: top - (box.y - 3) * PT_PER_MM });
  t.true(vector.ok);
  if (vector.ok) t.is(vector.text, zbar);
  t.true(zbar.startsWith(`HTTP://127.0.0.1:8480/v?n=${number}#SC1:`), zbar);
});

test("what page.ts reads agrees with pdf.js: every text item of getTextContent is drawn, from its origin, by glyphs of the same text", async (t) => {
  // pdf.js is the oracle here, not the verifier's reader: its operator list converts fonts and decodes images,
  // 40-65 ms CPU a certificate (README, Dependencies).
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const bytes = readFileSync(certs[0]!.file);
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0 }).promise;
  const content = await (await doc.getPage(1)).getTextContent();
  await doc.destroy();
  const glyphs = readPage(await PDFDocument.load(bytes)).glyphs.filter((g) => g.visible);
  const items = content.items.filter((i): i is Extract<typeof i, { str: string }> => 'str' in i && i.str.trim() !== '');
  t.true(items.length > 30, `${items.length} text items`);
  for (const item of items) {
    const [, , , , x, y] = item.transform as number[];
    const start = glyphs.findIndex((g) => Math.abs(g.x - x!) < 0.05 && Math.abs(g.y - y!) < 0.05);
    t.true(start >= 0, `no glyph at the origin of "${item.str}"`);
    const want = item.str.replace(/\s+/g, '');
    let got = '';
    for (let k = start; k < glyphs.length && got.length < want.length; k++) got += glyphs[k]!.text.replace(/\s+/g, '');
    t.is(got, want, `the text item "${item.str}" at (${x!.toFixed(1)}, ${y!.toFixed(1)})`);
  }
});

test('a name covered by a white box and drawn anew in an appended update is INVALID, qr.printedText naming 姓名', async (t) => {
  const { file, name } = certs[0]!;
  const forged = await appendNameChange(readFileSync(file), name, 'Li Si');
  const [v] = await verify(forged, 'renamed-update');
  t.is(v!.verdict, 'invalid');
  t.deepEqual(failed(v!), ['signature.wholeFile', 'qr.printedText']);
  const message = check(v!, 'qr.printedText')!.message;
  t.regex(message, new RegExp(`^the QR code does not match the printed certificate: not printed: 姓名 "${name}" in their field boxes`));
  t.regex(message, /a filled shape drawn over the 姓名 box after its text/);
});

test('the same white box and new name signed again by an insider: every signature check passes, qr.printedText fails naming 姓名', async (t) => {
  const { file, name } = certs[0]!;
  const forged = await editAndResign(readFileSync(file), async (page, doc) => {
    const b = valueBox('field.name', page);
    page.drawRectangle({ x: b.x, y: b.y, width: b.w, height: b.h, color: rgb(1, 1, 1) });
    page.drawText('Li Si', { x: b.x, y: b.y + 3, size: 12, font: await doc.embedFont(StandardFonts.Helvetica) });
  });
  const [v] = await verify(forged, 'renamed-resigned');
  t.true(signatureChecksPass(v!), JSON.stringify(v!.checks.filter((c) => c.ok === false)));
  t.is(v!.verdict, 'invalid');
  t.deepEqual(failed(v!), ['qr.printedText']);
  const message = check(v!, 'qr.printedText')!.message;
  t.regex(message, new RegExp(`not printed: 姓名 "${name}"`));
  t.regex(message, /a filled shape drawn over the 姓名 box after its text/);
  t.regex(message, /text drawn over text in the 姓名 box/);
});

test('an image over the ID number box is INVALID, naming 证件号码, and the message never shows the whole ID number', async (t) => {
  const { file } = certs[1]!;
  const white = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } }).png().toBuffer();
  const forged = await editAndResign(readFileSync(file), async (page, doc) => {
    const b = valueBox('field.idNo', page);
    page.drawImage(await doc.embedPng(white), { x: b.x + 20, y: b.y, width: 30, height: b.h });
  });
  const [v] = await verify(forged, 'image-over-id');
  t.true(signatureChecksPass(v!));
  t.deepEqual(failed(v!), ['qr.printedText']);
  const message = check(v!, 'qr.printedText')!.message;
  t.regex(message, /an image drawn over the 证件号码 box after its text/);
  for (const p of people) t.false(message.includes(String(p.idNo)), 'no whole ID number in the message');
});

test('the name moved out of its box is INVALID: the 姓名 box prints nothing', async (t) => {
  const { file, name } = certs[0]!;
  const el = loadSheet('style-one').text.find((e) => e.id === 'field.name')!;
  const forged = await editAndResign(readFileSync(file), (page, doc) => {
    // The overlay is the page's last content stream; its name run starts at the sheet's origin of field.name.
    const contents = page.node.lookup(PDFName.of('Contents'), PDFArray);
    const ref = contents.get(contents.size() - 1) as PDFRef;
    const stream = doc.context.lookup(ref);
    if (!(stream instanceof PDFRawStream)) throw new Error('the overlay is not a stream');
    const text = inflateSync(stream.contents).toString('latin1');
    const media = page.getMediaBox();
    const y = media.y + media.height - el.y * PT_PER_MM;
    const origin = new RegExp(`1 0 0 1 ${(el.x * PT_PER_MM).toFixed(1).replace('.', '\\.')}\\d* ${y.toFixed(1).replace('.', '\\.')}\\d* Tm`);
    if (!origin.test(text)) throw new Error('the name run was not found in the overlay');
    const moved = text.replace(origin, `1 0 0 1 ${(el.x * PT_PER_MM).toFixed(3)} ${(y - 8 * PT_PER_MM).toFixed(3)} Tm`);
    doc.context.assign(ref, doc.context.flateStream(moved));
  });
  const [v] = await verify(forged, 'name-moved');
  t.true(signatureChecksPass(v!));
  t.deepEqual(failed(v!), ['qr.printedText']);
  t.regex(check(v!, 'qr.printedText')!.message, new RegExp(`not printed: 姓名 "${name}" in their field boxes \\(they print 姓名 ""\\)`));
});

test("another certificate's QR code pasted over this one is read (as drawn last) and fails qr.printedText naming 证书编号 and 姓名", async (t) => {
  const [a, b] = certs as [(typeof certs)[0], (typeof certs)[0]];
  const drawingB = readPage(await PDFDocument.load(readFileSync(b.file)));
  const box = loadSheet('style-one').images.find((i) => i.kind === 'qr')!;
  const top = drawingB.media.y1;
  const other = qrFromDrawing(drawingB, { x0: (box.x - 3) * PT_PER_MM, x1: (box.x + box.w + 3) * PT_PER_MM, y0: top - (box.y + box.h + 3) * PT_PER_MM, y1: top - (box.y - 3) * PT_PER_MM });
  if (!other.ok) return t.fail(other.reason);
  const forged = await pasteQr(readFileSync(a.file), other.text, 'style-one', testSigner('org'), SIGNING_TIME);
  const [v] = await verify(forged, 'pasted-qr');
  t.true(signatureChecksPass(v!));
  t.is(v!.number, b.number, "the QR code read is the pasted one, the other certificate's");
  t.regex(check(v!, 'qr.decode')!.message, /read from the page's drawing operators/);
  t.deepEqual(failed(v!), ['qr.printedText']);
  t.regex(check(v!, 'qr.printedText')!.message, new RegExp(`not printed: 证书编号 "${b.number}", 姓名 "${b.name}".*\\(a QR code from another certificate\\?\\)`));
});

test('a QR code that is not vector (an image of it) falls back to a 150 dpi render and zbarimg, and says so', async (t) => {
  const { file } = certs[1]!;
  const box = loadSheet('style-one').images.find((i) => i.kind === 'qr')!;
  // The genuine symbol as a picture: the QR box cut out of a 300 dpi render of the page.
  const png = rasterise(file, 300, join(work, 'qr-300dpi'));
  const px = (mm: number) => Math.round((mm * 300) / 25.4);
  const margin = 2;
  const picture = await sharp(png).extract({ left: px(box.x - margin), top: px(box.y - margin), width: px(box.w + 2 * margin), height: px(box.h + 2 * margin) }).png().toBuffer();
  const forged = await editAndResign(readFileSync(file), async (page, doc) => {
    const top = page.getMediaBox().y + page.getMediaBox().height;
    page.drawImage(await doc.embedPng(picture), { x: (box.x - margin) * PT_PER_MM, y: top - (box.y + box.h + margin) * PT_PER_MM, width: (box.w + 2 * margin) * PT_PER_MM, height: (box.h + 2 * margin) * PT_PER_MM });
  });
  const [v] = await verify(forged, 'qr-image');
  t.is(v!.verdict, 'valid', JSON.stringify(v!.checks.filter((c) => c.ok !== true)));
  t.regex(check(v!, 'qr.decode')!.message, /^QR code decoded from a 150 dpi render, because it could not be read as vector rectangles: the QR box holds an image/);
});

test('the page reader survives mangled content streams: 150 mutants of a real page, each read to an answer without a throw', async (t) => {
  const bytes = readFileSync(certs[0]!.file);
  const base = await PDFDocument.load(bytes);
  const page = base.getPages()[0]!;
  const contents = page.node.lookup(PDFName.of('Contents'), PDFArray);
  const refs = contents.asArray() as PDFRef[];
  const originals = refs.map((r) => {
    const st = base.context.lookup(r);
    return st instanceof PDFRawStream ? inflateSync(st.contents) : Buffer.alloc(0);
  });
  const box = loadSheet('style-one').images.find((i) => i.kind === 'qr')!;
  let seed = 14;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const payload = parseQrText(execFileSync('zbarimg', ['--raw', '-q', '--nodbus', rasterise(certs[0]!.file, 150, join(work, 'mutant-base'))], { encoding: 'utf8' }).trim()).payload;
  let answered = 0;
  for (let i = 0; i < 150; i++) {
    const k = Math.floor(rnd() * refs.length);
    const b = Buffer.from(originals[k]!);
    const kind = i % 3;
    if (kind === 0) for (let n = 0; n < 20; n++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const mutated = kind === 1 ? b.subarray(0, Math.floor(rnd() * b.length)) : kind === 2 ? Buffer.concat([b, Buffer.from(' q 1 0 0 1 9 9 cm /X Do [(a) 3 <41 >] TJ BI /W 1 ID \x00 EI ( \\( ) Tj << /A [1 2 >> re f* Q Q Q')]) : b;
    base.context.assign(refs[k]!, base.context.flateStream(mutated));
    const drawing = readPage(base);
    const found = sheetOfPage(drawing);
    const top = drawing.media.y1;
    qrFromDrawing(drawing, { x0: (box.x - 3) * PT_PER_MM, x1: (box.x + box.w + 3) * PT_PER_MM, y0: top - (box.y + box.h + 3) * PT_PER_MM, y1: top - (box.y - 3) * PT_PER_MM });
    if ('sheet' in found) printedFieldsCheck(payload, drawing, found.sheet);
    answered++;
    base.context.assign(refs[k]!, base.context.flateStream(originals[k]!));
  }
  t.is(answered, 150);
});

test('style two: certificates of a style-two organisation are read with their own sheet, style two, and VALID', async (t) => {
  const out = join(work, 'out-style-two');
  await runBatch(makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), operator: 'test' }), {
    roster: join(ROSTERS, 'jingdian-maintenance-2026-11.xlsx'), profile: profile('jingdian-maintenance'), out, registry: join(work, 'registry-two.sqlite'), workers: 0,
  });
  const dir = batchDir(out);
  const files = certificateFiles(dir).pdfs.slice(0, 4).map((f) => join(dir, 'certificates', f));
  t.true(files.length > 0);
  for (const v of await verifyFiles(files, { trustAnchors: anchors() })) {
    t.is(v.verdict, 'valid', `${v.file}: ${JSON.stringify(v.checks.filter((c) => c.ok !== true))}`);
    t.regex(check(v, 'qr.printedText')!.message, /field boxes of style-two print/);
    t.regex(check(v, 'qr.decode')!.message, /drawing operators/);
  }
});
