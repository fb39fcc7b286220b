import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { FIXTURES_DIR } from '../../pipeline/core/paths.js';
import { signPdf } from '../../pipeline/sign/index.js';
import { buildQrText, drawQr, makeDemoSeal, preparePhoto, type QrInput } from '../../pipeline/stamp/index.js';
import { allPassed, decodeQrFromPng, keysFromCertificates, verifyPdfSignature, verifyQrCode } from '../../pipeline/verify/index.js';
import { pem, testSigner } from '../sign/_identity.js';
import { MM, SIGNING_TIME } from '../sign/_pdf.js';
import { pdfsig, qpdfCheck } from '../sign/_tools.js';

const RECORD: QrInput = {
  number: 'S000011082003225000001',
  name: '欧阳·娜娜',
  idNo: '11010519491231002X',
  occupation: '计算机程序设计员',
  job: '网络与信息安全管理员',
  level: 3,
  issueDate: '2022-05-01',
  orgCode: '0000',
};

test('a stamped and signed certificate verifies from its PDF and from the QR code of its 150 dpi render', async (t) => {
  const signer = testSigner();
  const doc = await PDFDocument.create({ updateMetadata: false });
  const page = doc.addPage([297 * MM, 210 * MM]);
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  page.drawText('Certificate of Occupational Skill Level', { x: 80 * MM, y: 180 * MM, size: 16, font });

  const photo = await preparePhoto(join(FIXTURES_DIR, 'photos'), 'demo-1.jpg');
  if (!photo.ok) return t.fail(photo.problem.message);
  page.drawImage(await doc.embedJpg(photo.photo.jpeg), { x: 30 * MM, y: 120 * MM, width: 30 * MM, height: 30 * MM });
  const sealRect: [number, number, number, number] = [220 * MM, 20 * MM, 260 * MM, 60 * MM];
  page.drawImage(await doc.embedPng(await makeDemoSeal('北京海淀演示技能评价中心')), { x: sealRect[0], y: sealRect[1], width: 40 * MM, height: 40 * MM });
  const qrText = buildQrText(RECORD, signer, { verifyUrl: 'http://jndj.osta.org.cn/' });
  drawQr(page, qrText, { x: 30 * MM, y: 20 * MM, size: 24 * MM });

  const signed = await signPdf(await doc.save(), signer, { signingTime: SIGNING_TIME, reason: '职业技能等级证书', location: '北京', widget: { pageIndex: 0, rect: sealRect } });
  t.log(`certificate PDF with photo, seal, QR and signature: ${signed.length} bytes`);

  const checks = await verifyPdfSignature(signed, { trustAnchors: [pem('root-ca')], at: new Date('2026-01-01T00:00:00Z') });
  t.true(allPassed(checks), JSON.stringify(checks, null, 1));

  const dir = mkdtempSync(join(tmpdir(), 'skillcert-e2e-'));
  writeFileSync(join(dir, 'cert.pdf'), signed);
  t.true(qpdfCheck(join(dir, 'cert.pdf')).ok);
  t.regex(pdfsig(join(dir, 'cert.pdf'), { trustTestRoot: true }), /Signature is Valid/);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', join(dir, 'cert.pdf'), join(dir, 'page')], { stdio: 'ignore' });
  const decoded = await decodeQrFromPng(join(dir, 'page.png'));
  t.deepEqual(decoded, [qrText]);
  const qr = verifyQrCode(decoded[0]!, keysFromCertificates([pem('org')]));
  t.true(allPassed(qr.checks));
  t.deepEqual(qr.payload, {
    number: RECORD.number,
    name: RECORD.name,
    idMasked: '1101**********002X',
    occupation: RECORD.occupation,
    job: RECORD.job,
    level: 3,
    issueDate: '2022-05-01',
    orgCode: '0000',
  });
});
