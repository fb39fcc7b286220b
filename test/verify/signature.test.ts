import test from 'ava';
import { SignPdf } from '@signpdf/signpdf';
import { PDFArray, PDFDocument, PDFName, PDFRef } from 'pdf-lib';
import { PdfBase, PdfUpdate } from '../../pipeline/pdf/update.js';
import { addSignaturePlaceholder, CadesDetachedSigner, placeholderLength, requestTimestamp, signPdf, signUpdate } from '../../pipeline/sign/index.js';
import { allPassed, verifyPdfSignature, type Check } from '../../pipeline/verify/index.js';
import { parsePdfDate } from '../../pipeline/verify/pdf-signature.js';
import { pem, testSigner, type TestIdentity } from '../sign/_identity.js';
import { makeTestPdf, SEAL_RECT, SIGNING_TIME } from '../sign/_pdf.js';
import { startTestTsa } from '../sign/_tsa.js';
import { pdfsig, qpdfCheck, testNssDb, writeTemp } from '../sign/_tools.js';

const anchors = () => [pem('root-ca')];

async function signed(id: TestIdentity = 'org', extra: Partial<Parameters<typeof signPdf>[2]> = {}): Promise<Buffer> {
  return signPdf(await makeTestPdf(), testSigner(id), {
    signingTime: SIGNING_TIME,
    reason: '职业技能等级证书',
    widget: { pageIndex: 0, rect: SEAL_RECT },
    useObjectStreams: false,
    ...extra,
  });
}

const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id);
const failed = (checks: Check[]) => checks.filter((c) => c.ok === false).map((c) => c.id);

/**
 * Appends a real incremental update (ISO 32000-1 §7.5.6) that adds a red box to page 1: a new content
 * stream, the page dictionary again with /Contents [old new], an xref section and a trailer with /Prev.
 */
async function appendIncrementalUpdate(pdf: Buffer): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const page = doc.getPages()[0]!;
  const newNum = doc.context.largestObjectNumber + 1;
  const old = page.node.get(PDFName.of('Contents'));
  const contents = old instanceof PDFArray ? [...old.asArray()] : [old!];
  page.node.set(PDFName.of('Contents'), doc.context.obj([...contents, PDFRef.of(newNum)]));
  const stream = 'q 1 0 0 rg 100 100 200 60 re f Q';
  const prev = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(pdf.toString('latin1'))![1]);
  const root = doc.context.trailerInfo.Root!.toString();
  let out = pdf.toString('latin1') + '\n';
  const offPage = out.length;
  out += `${page.ref.objectNumber} 0 obj\n${page.node.toString()}\nendobj\n`;
  const offStream = out.length;
  out += `${newNum} 0 obj\n<< /Length ${stream.length} >>\nstream\n${stream}\nendstream\nendobj\n`;
  const xref = out.length;
  const entry = (o: number) => `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `xref\n${page.ref.objectNumber} 1\n${entry(offPage)}${newNum} 1\n${entry(offStream)}`;
  out += `trailer\n<< /Size ${newNum + 1} /Root ${root} /Prev ${prev} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

test('no false alarm: a valid B-B signature passes every check', async (t) => {
  const checks = await verifyPdfSignature(await signed(), { trustAnchors: anchors(), at: new Date('2026-01-01T00:00:00Z') });
  t.true(allPassed(checks));
  t.deepEqual(checks.filter((c) => c.ok !== true), []);
  t.deepEqual(checks.map((c) => c.id), [
    'signature.present',
    'signature.byteRange',
    'signature.wholeFile',
    'signature.digest',
    'signature.cms',
    'signature.signingCertificate',
    'signature.pades',
    'signer.trusted',
    'signer.keyUsage',
    'signer.validAtSigningTime',
    'signer.validAt',
  ]);
});

test('one byte changed inside the signed range is a digest mismatch, for pdfsig too', async (t) => {
  const good = await signed();
  // (a) a byte of the binary comment on line 2: the PDF still parses, only the signature can tell.
  const a = Buffer.from(good);
  const comment = a.indexOf('%', 5);
  a[comment + 1] = a[comment + 1]! ^ 0x01;
  // (b) a character of the document title (a hex string in the Info dictionary).
  const b = Buffer.from(good);
  const title = b.indexOf('/Title <FEFF00') + '/Title <FEFF00'.length;
  b[title + 1] = b[title + 1] === 0x33 ? 0x34 : 0x33;
  for (const tampered of [a, b]) {
    const checks = await verifyPdfSignature(tampered, { trustAnchors: anchors() });
    t.deepEqual(failed(checks), ['signature.digest']);
    t.regex(byId(checks, 'signature.digest')!.message, /the file was changed after signing/);
    t.true(byId(checks, 'signature.wholeFile')!.ok === true);
    t.regex(pdfsig(writeTemp('flip.pdf', tampered)), /Digest Mismatch/);
  }
});

test('an incremental update appended after signing is caught: the signature no longer covers the whole file', async (t) => {
  const good = await signed();
  const updated = await appendIncrementalUpdate(good);
  const file = writeTemp('updated.pdf', updated);
  t.true(qpdfCheck(file).ok, 'the update is a well-formed PDF revision');
  const checks = await verifyPdfSignature(updated, { trustAnchors: anchors() });
  t.deepEqual(failed(checks), ['signature.wholeFile']);
  const msg = byId(checks, 'signature.wholeFile')!.message;
  t.regex(msg, new RegExp(`${updated.length - good.length} bytes were added after signing \\(an incremental update\\)`));
  t.regex(msg, new RegExp(`covers bytes 0-${good.length - 1} of ${updated.length}`));
  // The signed revision itself is intact, and pdfsig agrees that the file is not entirely signed.
  t.is(byId(checks, 'signature.digest')!.ok, true);
  const report = pdfsig(file);
  t.regex(report, /Not total document signed/);
  t.regex(report, /Signature is Valid/);
});

test('a page change between two signatures fails the first one; a second signature alone changes nothing it signed', async (t) => {
  const first = await signed();
  const second = (base: Buffer) => PdfBase.parse(base).then((b) => signUpdate(new PdfUpdate(b), testSigner('org'), { signingTime: SIGNING_TIME, reason: '职业技能等级证书', widget: { pageIndex: 0, rect: SEAL_RECT } }));
  // Control: one signature over another, as style two signs (branch, then organisation).
  const clean = await verifyPdfSignature(await second(first), { trustAnchors: anchors() });
  t.deepEqual(clean.filter((c) => c.id === 'signature.changesAfter').map((c) => c.ok), [true]);
  // A red box added to page 1 after the first signature, then signed over: the second signature covers the change,
  // the first must say that its revision's page was changed afterwards.
  const tampered = await second(await appendIncrementalUpdate(first));
  t.true(qpdfCheck(writeTemp('between.pdf', tampered)).ok);
  const checks = await verifyPdfSignature(tampered, { trustAnchors: anchors() });
  const after = checks.filter((c) => c.id === 'signature.changesAfter');
  t.is(after.length, 1);
  t.false(after[0]!.ok);
  t.regex(after[0]!.message, /a later revision changes object \d+ \(Contents\)/);
  t.deepEqual(failed(checks), ['signature.changesAfter']);
});

test('a PDF re-saved by pdf-lib after signing is caught', async (t) => {
  const resaved = Buffer.from(await (await PDFDocument.load(await signed(), { updateMetadata: false })).save({ useObjectStreams: false }));
  const checks = await verifyPdfSignature(resaved, { trustAnchors: anchors() });
  t.false(allPassed(checks));
  t.true(failed(checks).some((id) => id === 'signature.byteRange' || id === 'signature.digest'), JSON.stringify(checks));
});

test('a signer certificate from a CA outside the trust anchors is untrusted, for pdfsig too', async (t) => {
  const pdf = await signed('other-org');
  const checks = await verifyPdfSignature(pdf, { trustAnchors: anchors() });
  t.deepEqual(failed(checks), ['signer.trusted']);
  t.regex(byId(checks, 'signer.trusted')!.message, /the chain ends at the self-signed "skillcert TEST ONLY Other Root CA — untrusted", which is not one of the 1 trust anchor\(s\)/);
  t.is(byId(checks, 'signature.cms')!.ok, true, 'the signature itself is fine');
  if (testNssDb()) t.regex(pdfsig(writeTemp('other.pdf', pdf), { trustTestRoot: true }), /Certificate issuer isn't Trusted/);
  // Trusting that CA makes the same file pass: the anchors are configuration, not code.
  t.true(allPassed(await verifyPdfSignature(pdf, { trustAnchors: [pem('other-ca')] })));
});

test('an expired signing certificate is reported as not valid at the signing time, for pdfsig too', async (t) => {
  const pdf = await signed('org-expired', { allowInvalidCertificate: true });
  const checks = await verifyPdfSignature(pdf, { trustAnchors: anchors(), at: new Date('2026-01-01T00:00:00Z') });
  t.deepEqual(failed(checks), ['signer.validAtSigningTime', 'signer.validAt']);
  t.is(
    byId(checks, 'signer.validAtSigningTime')!.message,
    '"skillcert TEST ONLY EXPIRED organisation signer" expired on 2019-12-31T23:59:59Z, which does not include the signing time 2024-05-01T08:00:00Z (claimed in /M; no timestamp proves it)',
  );
  t.regex(pdfsig(writeTemp('expired.pdf', pdf), { trustTestRoot: true }), /Certificate has Expired/);
});

test('a B-B signature checked after its certificate expired is indeterminate, a B-T one stays valid', async (t) => {
  const later = new Date('2041-01-01T00:00:00Z');
  const bb = await verifyPdfSignature(await signed(), { trustAnchors: anchors(), at: later });
  t.is(byId(bb, 'signer.validAt')!.ok, null);
  t.regex(byId(bb, 'signer.validAt')!.message, /without a timestamp that cannot be proved/);
  t.true(allPassed(bb), 'indeterminate is not a failure');
  const tsa = await startTestTsa();
  try {
    const bt = await verifyPdfSignature(await signed('org', { tsaUrl: tsa.url }), { trustAnchors: anchors(), at: later });
    t.is(byId(bt, 'signer.validAt')!.ok, true);
    t.regex(byId(bt, 'signer.validAt')!.message, /the timestamp proves the signature was made at/);
  } finally {
    await tsa.close();
  }
});

test('a timestamp token taken over another signature is caught', async (t) => {
  const tsa = await startTestTsa();
  try {
    const signer = testSigner();
    const prepared = await addSignaturePlaceholder(await makeTestPdf(), {
      signingTime: SIGNING_TIME,
      widget: { pageIndex: 0, rect: SEAL_RECT },
      contentsLength: placeholderLength(signer) + 8192,
    });
    const wrongToken = new CadesDetachedSigner(signer, () => requestTimestamp(Buffer.from('some other signature value'), { url: tsa.url }));
    const pdf = await new SignPdf().sign(prepared, wrongToken, SIGNING_TIME);
    const checks = await verifyPdfSignature(pdf, { trustAnchors: anchors() });
    t.deepEqual(failed(checks), ['timestamp.imprint']);
    t.regex(byId(checks, 'timestamp.imprint')!.message, /it belongs to another signature/);
    // Without a trustworthy timestamp the claimed /M is what is left.
    t.regex(byId(checks, 'signer.validAtSigningTime')!.message, /claimed in \/M/);
  } finally {
    await tsa.close();
  }
});

test('a timestamp from a TSA outside the trust anchors is not trusted', async (t) => {
  const tsa = await startTestTsa();
  try {
    const pdf = await signed('org', { tsaUrl: tsa.url });
    // Trust only the signer's own certificate as an anchor: the signer passes, the TSA (issued by the root) does not.
    const checks = await verifyPdfSignature(pdf, { trustAnchors: [pem('org')] });
    t.deepEqual(failed(checks), ['timestamp.trusted']);
    t.regex(byId(checks, 'timestamp.trusted')!.message, /TSA not trusted/);
  } finally {
    await tsa.close();
  }
});

test('a PDF without a signature says so', async (t) => {
  const checks = await verifyPdfSignature(await makeTestPdf(), { trustAnchors: anchors() });
  t.deepEqual(checks, [{ id: 'signature.present', ok: false, message: 'the PDF has no signature (no signature dictionary with a /ByteRange)' }]);
});

test('unreadable trust anchors are a configuration error, not a verification result', async (t) => {
  await t.throwsAsync(verifyPdfSignature(await signed(), { trustAnchors: ['not a pem'] }), { message: /trust anchor #1 holds no PEM certificate/ });
});

test('PDF dates with offsets are read as UTC instants', (t) => {
  t.is(parsePdfDate('D:20240501080000Z')!.toISOString(), '2024-05-01T08:00:00.000Z');
  t.is(parsePdfDate("D:20240501160000+08'00'")!.toISOString(), '2024-05-01T08:00:00.000Z');
  t.is(parsePdfDate('D:2024')!.toISOString(), '2024-01-01T00:00:00.000Z');
  t.is(parsePdfDate('yesterday'), undefined);
});
