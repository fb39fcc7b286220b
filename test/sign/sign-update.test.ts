/**
 * signUpdate (issue 5): the signature field joins an incremental update of a base document and the file is written
 * once. Read back with pdfsig, qpdf and our verifier: the same PAdES signature as signPdf's, over the whole file.
 */
import test from 'ava';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber } from 'pdf-lib';
import { PdfBase, PdfUpdate } from '../../pipeline/pdf/update.js';
import { placeholderLength, signUpdate } from '../../pipeline/sign/index.js';
import { verifyPdfSignature } from '../../pipeline/verify/index.js';
import { pem, testSigner } from './_identity.js';
import { makeTestPdf, SEAL_RECT, SIGNING_TIME } from './_pdf.js';
import { pdfsig, qpdfCheck, testNssDb, writeTemp } from './_tools.js';

/** A base saved with a cross-reference table, as the certificate template is. */
async function base(pages = 1): Promise<PdfBase> {
  const doc = await PDFDocument.load(await makeTestPdf({ pages }));
  return PdfBase.parse(await doc.save({ useObjectStreams: false }));
}

const options = { signingTime: SIGNING_TIME, reason: '职业技能等级证书', location: '北京', name: 'TEST ONLY', widget: { pageIndex: 0, rect: SEAL_RECT } };

test('a signed update keeps the base bytes, appends one update, and the signature covers the whole file', async (t) => {
  const b = await base();
  const signed = await signUpdate(new PdfUpdate(b), testSigner(), options);
  t.true(Buffer.from(b.bytes).equals(signed.subarray(0, b.bytes.length)), 'the base is written unchanged');
  t.is(signed.toString('latin1').match(/%%EOF/g)?.length, 2, 'one incremental update');
  const file = writeTemp('update.pdf', signed);
  const report = pdfsig(file, { trustTestRoot: true });
  t.regex(report, /Signature Type: ETSI\.CAdES\.detached/);
  t.regex(report, /Total document signed/);
  t.regex(report, /Signature Validation: Signature is Valid\./);
  if (testNssDb()) t.regex(report, /Certificate Validation: Certificate is Trusted\./);
  const q = qpdfCheck(file);
  t.true(q.ok, q.output);
  const checks = await verifyPdfSignature(signed, { trustAnchors: [pem('root-ca')], at: new Date('2025-06-01T00:00:00Z') });
  t.deepEqual(checks.filter((c) => c.ok !== true), [], JSON.stringify(checks, null, 1));
});

test('the widget, the AcroForm and the placeholder are those of signPdf', async (t) => {
  const signer = testSigner();
  const signed = await signUpdate(new PdfUpdate(await base(2)), signer, { ...options, widget: { pageIndex: 1, rect: SEAL_RECT } });
  const doc = await PDFDocument.load(signed);
  t.is(doc.getPages()[0]!.node.lookupMaybe(PDFName.of('Annots'), PDFArray)?.size() ?? 0, 0);
  const widget = doc.getPages()[1]!.node.lookup(PDFName.of('Annots'), PDFArray).lookup(0, PDFDict);
  t.deepEqual(widget.lookup(PDFName.of('Rect'), PDFArray).asArray().map((n) => Math.round((n as PDFNumber).asNumber())), SEAL_RECT.map(Math.round));
  t.is(doc.catalog.lookup(PDFName.of('AcroForm'), PDFDict).lookup(PDFName.of('SigFlags'), PDFNumber).asNumber(), 3);
  const m = /\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/.exec(signed.toString('latin1'))!;
  t.is(Number(m[2]) - Number(m[1]) - 2, placeholderLength(signer) * 2, '/Contents holds the sized placeholder');
  t.is(Number(m[2]) + Number(m[3]), signed.length);
});

test('the update refuses a widget off the pages and a signing time that is not a date, like signPdf', async (t) => {
  const b = await base();
  await t.throwsAsync(signUpdate(new PdfUpdate(b), testSigner(), { ...options, widget: { pageIndex: 3, rect: SEAL_RECT } }), { message: /Expected a page index 0-0/ });
  await t.throwsAsync(signUpdate(new PdfUpdate(b), testSigner(), { ...options, signingTime: new Date('x') }), { message: /Expected a Date for signingTime/ });
});

test('a base that ends with a cross-reference stream is refused with what to do', async (t) => {
  await t.throwsAsync(PdfBase.parse(await makeTestPdf()), { message: /useObjectStreams: false/ });
});
