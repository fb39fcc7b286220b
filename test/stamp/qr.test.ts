import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { decodeBase45, encodeBase45 } from '../../pipeline/stamp/base45.js';
import { buildQrText, drawQr, keysFromCertificates, mergeModules, parseQrText, qrAddress, verifyQrText } from '../../pipeline/stamp/qr.js';
import { decodeQrFromPng } from '../../pipeline/verify/qr.js';
import { testSigner } from '../sign/_identity.js';
import { LONG } from './_payload.js';

const MM = 72 / 25.4;


async function renderAt150dpi(text: string, at: { x: number; y: number }, sizeMm = 24) {
  const doc = await PDFDocument.create();
  const page = doc.addPage([297 * MM, 210 * MM]);
  const drawing = drawQr(page, text, { x: at.x, y: at.y, size: sizeMm * MM });
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-qr-'));
  const pdf = await doc.save();
  writeFileSync(join(dir, 'page.pdf'), pdf);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', join(dir, 'page.pdf'), join(dir, 'page')], { stdio: ['ignore', 'ignore', 'ignore'] });
  return { png: join(dir, 'page.png'), drawing, pdfBytes: pdf.length };
}

test('a 24 mm QR code decodes with zbarimg from a 150 dpi render (pdftoppm -r 150), at any position on the page', async (t) => {
  const text = buildQrText(LONG, testSigner());
  // Twelve positions with different sub-pixel offsets: the layout snaps to the 150 dpi grid wherever the box is.
  const positions = Array.from({ length: 12 }, (_, i) => ({ x: 30 + i * 47.137, y: 25 + i * 37.071 }));
  for (const at of positions) {
    const { png, drawing } = await renderAt150dpi(text, at);
    t.deepEqual(await decodeQrFromPng(png), [text], `at ${at.x}, ${at.y}`);
    t.true(['M', 'Q', 'H'].includes(drawing.errorCorrection));
    t.is(drawing.pixelsPerModule, 2);
    t.is(drawing.warning, undefined);
  }
  const { drawing, pdfBytes } = await renderAt150dpi(text, positions[0]!);
  t.is(drawing.version, 13);
  t.true(drawing.symbolMm > 23 && drawing.symbolMm <= 24, `${drawing.symbolMm} mm`);
  t.log(
    `${text.length} characters → version ${drawing.version} (${drawing.modules} × ${drawing.modules} modules), EC ${drawing.errorCorrection}, module ${drawing.moduleMm.toFixed(3)} mm = ${drawing.pixelsPerModule} px at 150 dpi, symbol ${drawing.symbolMm.toFixed(1)} mm in the 24 mm box, ${drawing.rectangles} rectangles, page PDF ${pdfBytes} bytes`,
  );
});

test('the decoded QR text verifies against the organisation certificate', async (t) => {
  const signer = testSigner();
  const text = buildQrText(LONG, signer);
  const { png } = await renderAt150dpi(text, { x: 50, y: 50 });
  const [decoded] = await decodeQrFromPng(png);
  const r = verifyQrText(decoded!, keysFromCertificates([signer.certificate]));
  t.deepEqual(r.checks.map((c) => c.ok), [true, true, true]);
  t.like(r.payload, { number: LONG.number, name: LONG.name, idMasked: '1101**********002X', occupation: LONG.occupation, job: LONG.job, level: 3, issueDate: '2022-05-01', orgCode: '0001' });
});

test('the QR text is the query address with the number, then the payload in the fragment', (t) => {
  const text = buildQrText(LONG, testSigner(), { verifyUrl: 'http://jndj.osta.org.cn/' });
  t.true(text.startsWith('HTTP://JNDJ.OSTA.ORG.CN/?n=Y000111020001225000001#SC1:'));
  t.regex(text.slice(text.indexOf('#SC1:') + 5), /^[0-9A-Z $%*+\-./:]+$/, 'the payload is QR alphanumeric only');
  t.is(qrAddress('https://verify.example.org/cert?lang=zh', 'S000011082003225000001'), 'HTTPS://VERIFY.EXAMPLE.ORG/cert?lang=zh&n=S000011082003225000001');
  t.is(parseQrText(text).url, 'HTTP://JNDJ.OSTA.ORG.CN/?n=Y000111020001225000001');
});

test('unaligned drawing fills the box; a payload too long for the box says so instead of printing an unreadable code', async (t) => {
  const doc = await PDFDocument.create();
  const page = doc.addPage();
  const text = buildQrText(LONG, testSigner());
  const exact = drawQr(page, text, { x: 10, y: 10, size: 24 * MM }, { alignDpi: false });
  t.is(exact.errorCorrection, 'M');
  t.true(Math.abs(exact.symbolMm - 24) < 1e-9);
  t.is(exact.warning, undefined);
  const tooLong = buildQrText({ ...LONG, occupation: '职业'.repeat(20), job: '方向'.repeat(20) }, testSigner());
  const d = drawQr(page, tooLong, { x: 10, y: 300, size: 24 * MM });
  t.is(d.errorCorrection, 'L');
  t.regex(d.warning ?? '', /under 2 px at 150 dpi: shorten the payload or enlarge the box/);
  const roomy = drawQr(page, tooLong, { x: 10, y: 500, size: 40 * MM });
  t.true(['M', 'Q', 'H'].includes(roomy.errorCorrection));
  t.is(roomy.warning, undefined);
});

test('merged rectangles cover exactly the dark modules', (t) => {
  const n = 29;
  const dark = (r: number, c: number) => ((r * 7 + c * 3) % 5 === 0) || (r < 7 && c < 7);
  const rects = mergeModules(n, dark);
  const seen = new Set<string>();
  for (const { r, c, w, h } of rects) for (let i = r; i < r + h; i++) for (let j = c; j < c + w; j++) {
    t.false(seen.has(`${i},${j}`), 'no overlap');
    seen.add(`${i},${j}`);
  }
  let count = 0;
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (dark(r, c)) { count++; t.true(seen.has(`${r},${c}`)); }
  t.is(seen.size, count);
  t.true(rects.length < count, 'merging saves rectangles');
});

test('decodeQrFromPng returns nothing for an image without a code', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-qr-'));
  const file = join(dir, 'blank.png');
  await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ffffff' } }).png().toFile(file);
  t.deepEqual(await decodeQrFromPng(file), []);
});

test('base45 follows RFC 9285 and rejects what is not base45', (t) => {
  t.is(encodeBase45(Buffer.from('AB')), 'BB8');
  t.is(encodeBase45(Buffer.from('Hello!!')), '%69 VD92EX0');
  t.is(encodeBase45(Buffer.from('ietf!')), 'QED8WEX0');
  t.is(decodeBase45('QED8WEX0').toString(), 'ietf!');
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  t.deepEqual(decodeBase45(encodeBase45(all)), all);
  t.throws(() => decodeBase45("GGW"), { message: /triplet "GGW" at 0 is 65536, above 65535/ });
  t.throws(() => decodeBase45(':::'), { message: /above 65535/ });
  t.throws(() => decodeBase45('ab'), { message: /invalid base45 character "a" at 0/ });
  t.throws(() => decodeBase45('AAAA'), { message: /length is not 1 mod 3/ });
});
