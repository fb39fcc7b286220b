import test from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber } from 'pdf-lib';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { derElementLength, OID } from '../../pipeline/pki/asn1.js';
import { loadSigner, placeholderLength, readPassword, signPdf } from '../../pipeline/sign/index.js';
import { parseCms } from '../../pipeline/verify/cms.js';
import { verifyPdfSignature } from '../../pipeline/verify/index.js';
import { GENERATED, password, pem, testSigner } from './_identity.js';
import { makeTestPdf, SEAL_RECT, SIGNING_TIME } from './_pdf.js';
import { startTestTsa } from './_tsa.js';
import { hasTool, pdfsig, qpdfCheck, testNssDb, writeTemp } from './_tools.js';

const sign = (pdf: Uint8Array, signer = testSigner(), extra: Partial<Parameters<typeof signPdf>[2]> = {}) =>
  signPdf(pdf, signer, { signingTime: SIGNING_TIME, reason: '职业技能等级证书', location: '北京', name: signer.label, widget: { pageIndex: 0, rect: SEAL_RECT }, ...extra });

/** The CMS in the signed file, read back from the bytes the /ByteRange leaves out. */
function cmsOf(signed: Buffer) {
  const m = /\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+\d+\s*\]/.exec(signed.toString('latin1'))!;
  const hex = signed.toString('latin1', Number(m[1]) + 1, Number(m[2]) - 1);
  const raw = Buffer.from(hex, 'hex');
  return { raw, der: raw.subarray(0, derElementLength(raw)), hexLength: hex.length };
}

test('a signed certificate PDF is valid for pdfsig, trusted through an NSS db with the test root, and passes qpdf --check', async (t) => {
  const signed = await sign(await makeTestPdf());
  const file = writeTemp('signed.pdf', signed);
  const report = pdfsig(file, { trustTestRoot: true });
  t.regex(report, /Signature Type: ETSI\.CAdES\.detached/);
  t.regex(report, /Signing Hash Algorithm: SHA-256/);
  t.regex(report, /Total document signed/);
  t.regex(report, /Signature Validation: Signature is Valid\./);
  if (testNssDb()) t.regex(report, /Certificate Validation: Certificate is Trusted\./);
  else t.log('certutil (libnss3-tools) is missing: the trust part was not checked by pdfsig');
  t.regex(report, /Signing Time: May 01 2024 08:00:00/);
  const q = qpdfCheck(file);
  t.true(q.ok, q.output);
});

test('our verifier passes every check on a valid EC and a valid RSA signature', async (t) => {
  for (const id of ['org', 'org-rsa'] as const) {
    const signed = await sign(await makeTestPdf(), testSigner(id));
    const checks = await verifyPdfSignature(signed, { trustAnchors: [pem('root-ca')], at: new Date('2025-06-01T00:00:00Z') });
    t.deepEqual(checks.filter((c) => c.ok !== true), [], `${id}: ${JSON.stringify(checks, null, 1)}`);
    t.true(checks.some((c) => c.id === 'signer.trusted'));
    t.regex(pdfsig(writeTemp('s.pdf', signed)), /Signature is Valid/);
  }
});

test('the CMS is CAdES for PAdES B-B: content-type, message-digest, signing-certificate-v2, and no signing-time', async (t) => {
  const signed = await sign(await makeTestPdf());
  const cms = parseCms(cmsOf(signed).der);
  t.deepEqual([...cms.signedAttrs!.keys()].sort(), [OID.contentType, OID.messageDigest, OID.signingCertificateV2].sort());
  t.false(cms.signedAttrs!.has(OID.signingTime));
  t.is(cms.digestAlgorithm, OID.sha256);
  t.is(cms.signatureAlgorithm, OID.ecdsaWithSha256);
  t.is(cms.certs.length, 2, 'the signer certificate and the test root from the P12');
  // The time is in the signature dictionary's /M instead.
  t.regex(signed.toString('latin1'), /\/M \(D:20240501080000Z\)/);
  t.regex(signed.toString('latin1'), /\/SubFilter \/ETSI\.CAdES\.detached/);
});

test('the placeholder is sized to the chain (under 2 KB for EC), not @signpdf\'s 8 KB default', async (t) => {
  const ec = testSigner('org');
  const rsa = testSigner('org-rsa');
  const signed = await sign(await makeTestPdf(), ec);
  const { der, raw, hexLength } = cmsOf(signed);
  t.log(`EC: placeholder ${placeholderLength(ec)} bytes (${hexLength} hex digits), CMS ${der.length} bytes, padding ${raw.length - der.length} bytes`);
  t.log(`RSA 2048: placeholder ${placeholderLength(rsa)} bytes`);
  t.true(placeholderLength(ec) < 2048);
  t.is(hexLength, placeholderLength(ec) * 2);
  t.true(raw.length - der.length <= 40, 'at most the margin is left as zeros');
  t.true(placeholderLength(rsa) < 2560);
});

test('the widget sits on the requested page at the seal rect, with an appearance, and the AcroForm has SigFlags 3', async (t) => {
  const signed = await sign(await makeTestPdf({ pages: 2 }), testSigner(), { widget: { pageIndex: 1, rect: SEAL_RECT } });
  const doc = await PDFDocument.load(signed);
  t.is(doc.getPages()[0]!.node.lookupMaybe(PDFName.of('Annots'), PDFArray)?.size() ?? 0, 0);
  const annots = doc.getPages()[1]!.node.lookup(PDFName.of('Annots'), PDFArray);
  const widget = annots.lookup(0, PDFDict);
  const rect = widget.lookup(PDFName.of('Rect'), PDFArray).asArray().map((n) => (n as PDFNumber).asNumber());
  rect.forEach((v, i) => t.true(Math.abs(v - SEAL_RECT[i]!) < 1e-3));
  t.truthy(widget.lookup(PDFName.of('AP'), PDFDict).get(PDFName.of('N')));
  const acro = doc.catalog.lookup(PDFName.of('AcroForm'), PDFDict);
  t.is(acro.lookup(PDFName.of('SigFlags'), PDFNumber).asNumber(), 3);
  const checks = await verifyPdfSignature(signed, { trustAnchors: [pem('root-ca')] });
  t.true(checks.every((c) => c.ok === true), JSON.stringify(checks));
});

test('an image can serve as the widget appearance', async (t) => {
  const { makeDemoSeal } = await import('../../pipeline/stamp/demo-seal.js');
  const seal = await makeDemoSeal('北京海淀演示技能评价中心');
  const signed = await sign(await makeTestPdf(), testSigner(), { appearanceImage: seal });
  t.regex(pdfsig(writeTemp('ap.pdf', signed)), /Signature is Valid/);
  t.true(qpdfCheck(writeTemp('ap.pdf', signed)).ok);
});

test('PDFs saved with and without object streams both sign (the signature dictionary stays outside object streams)', async (t) => {
  for (const useObjectStreams of [true, false]) {
    const signed = await sign(await makeTestPdf(), testSigner(), { useObjectStreams });
    t.is(/\/Type\s*\/XRef/.test(signed.toString('latin1')), useObjectStreams);
    const file = writeTemp('o.pdf', signed);
    t.regex(pdfsig(file), /Signature is Valid/);
    t.true(qpdfCheck(file).ok);
  }
});

test('an already signed PDF is refused instead of being rewritten', async (t) => {
  const signed = await sign(await makeTestPdf());
  const err = await t.throwsAsync(sign(signed), { instanceOf: SkillcertError });
  t.is((err as SkillcertError).code, 'E_SIGN');
  t.regex(err!.message, /already signed/);
});

test('a certificate that is not valid at the signing time is refused (E_SIGN) unless the test-only flag is set', async (t) => {
  const pdf = await makeTestPdf();
  const err = await t.throwsAsync(sign(pdf, testSigner('org-expired')), { instanceOf: SkillcertError });
  t.regex(err!.message, /expired on 2019-12-31T23:59:59\.000Z, before the signing time 2024-05-01T08:00:00\.000Z/);
  await t.notThrowsAsync(sign(pdf, testSigner('org-expired'), { allowInvalidCertificate: true }));
  await t.throwsAsync(signPdf(pdf, testSigner(), { signingTime: new Date('invalid'), widget: { pageIndex: 0, rect: SEAL_RECT } }), { message: /Expected a Date for signingTime/ });
});

test('a wrong P12 password stops with one E_SIGN error naming the integrity check', (t) => {
  const err = t.throws(() => loadSigner({ p12: readFileSync(join(GENERATED, 'org.p12')), password: 'wrong', source: 'org.p12' }), { instanceOf: SkillcertError });
  t.is((err as SkillcertError).code, 'E_SIGN');
  t.regex(err!.message, /org\.p12: wrong password: the PKCS#12 integrity check \(MAC\) does not match/);
  t.throws(() => loadSigner({ p12: Buffer.from('not a p12'), password: 'x' }), { message: /not a PKCS#12 file/ });
});

test('the P12 is read once into a node:crypto key and chain; kid is 8 bytes of SHA-256 over the SPKI', (t) => {
  const s = loadSigner({ p12: readFileSync(join(GENERATED, 'org.p12')), password: password() });
  t.is(s.key.type, 'private');
  t.is(s.keyType, 'ec');
  t.is(s.chain.length, 2);
  t.is(s.kid.length, 8);
  t.is(s.label, 'skillcert TEST ONLY organisation signer');
  t.is(s.notBefore.toISOString(), '2020-01-01T00:00:00.000Z');
  t.is(s.notAfter.toISOString(), '2040-01-01T00:00:00.000Z');
});

test('readPassword takes the environment variable first, then the file, and says what is missing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-pw-'));
  writeFileSync(join(dir, 'p12.pass'), 's3cret\n');
  t.is(readPassword({ passwordEnv: 'SC_PW' }, { SC_PW: 'from-env' }, dir), 'from-env');
  t.is(readPassword({ passwordEnv: 'SC_PW', passwordFile: 'p12.pass' }, {}, dir), 's3cret');
  t.is(readPassword({ passwordFile: 'p12.pass' }, {}, dir), 's3cret');
  t.throws(() => readPassword({ passwordEnv: 'SC_PW' }, {}, dir), { message: /SC_PW, but that environment variable is not set/ });
  t.throws(() => readPassword({ passwordFile: 'missing.pass' }, {}, dir), { message: /cannot read signer\.passwordFile .*missing\.pass: ENOENT/ });
  t.throws(() => readPassword({}, {}, dir), { message: /never a command-line argument/ });
});

test('B-T: a timestamp from a local openssl TSA is embedded and verified', async (t) => {
  const tsa = await startTestTsa();
  try {
    const signer = testSigner();
    const signed = await sign(await makeTestPdf(), signer, { tsaUrl: tsa.url });
    t.is(tsa.requests(), 1);
    const cms = parseCms(cmsOf(signed).der);
    t.true(cms.unsignedAttrs.has(OID.signatureTimeStampToken));
    const checks = await verifyPdfSignature(signed, { trustAnchors: [pem('root-ca')] });
    t.deepEqual(checks.filter((c) => c.ok !== true), [], JSON.stringify(checks, null, 1));
    for (const id of ['timestamp.imprint', 'timestamp.signature', 'timestamp.trusted']) t.true(checks.some((c) => c.id === id && c.ok === true), id);
    t.regex(checks.find((c) => c.id === 'signer.validAtSigningTime')!.message, /the timestamp time/);
    t.regex(checks.find((c) => c.id === 'signature.pades')!.message, /B-T/);
    const file = writeTemp('bt.pdf', signed);
    t.regex(pdfsig(file, { trustTestRoot: true }), /Signature is Valid/);
    t.true(qpdfCheck(file).ok);
    // The second signature uses the measured token size: no retry, a tight placeholder.
    const again = await sign(await makeTestPdf(), signer, { tsaUrl: tsa.url });
    t.is(tsa.requests(), 2);
    const { raw, der } = cmsOf(again);
    t.log(`B-T placeholder ${raw.length} bytes, CMS ${der.length} bytes`);
    t.true(raw.length - der.length < 200);
  } finally {
    await tsa.close();
  }
});

test('a timestamp token larger than reserved is measured and the file signed again with a placeholder that fits', async (t) => {
  const tsa = await startTestTsa();
  try {
    const signer = testSigner('org-rsa'); // a fresh signer/TSA pair: no token size remembered yet
    const signed = await sign(await makeTestPdf(), signer, { tsaUrl: tsa.url, timestampAllowance: 100 });
    t.is(tsa.requests(), 2, 'the first token did not fit; the second attempt asked again');
    const checks = await verifyPdfSignature(signed, { trustAnchors: [pem('root-ca')] });
    t.deepEqual(checks.filter((c) => c.ok !== true), []);
    const { raw, der } = cmsOf(signed);
    t.true(raw.length - der.length < 200, `${raw.length - der.length} bytes of padding`);
  } finally {
    await tsa.close();
  }
});

test('a TSA that fails or answers garbage stops signing with E_SIGN and the reason', async (t) => {
  for (const [mode, re] of [['http500', /answered HTTP 500/], ['garbage', /is not a TimeStampResp/]] as const) {
    const tsa = await startTestTsa(mode);
    try {
      const err = await t.throwsAsync(sign(await makeTestPdf(), testSigner(), { tsaUrl: tsa.url }), { instanceOf: SkillcertError });
      t.regex(err!.message, re);
      t.is((err as SkillcertError).code, 'E_SIGN');
    } finally {
      await tsa.close();
    }
  }
  const err = await t.throwsAsync(sign(await makeTestPdf(), testSigner(), { tsaUrl: 'http://127.0.0.1:9/tsa', tsaTimeoutMs: 2000 }));
  t.regex(err!.message, /time-stamping authority http:\/\/127\.0\.0\.1:9\/tsa: request failed/);
});

test('the tools used here are installed', (t) => {
  for (const tool of ['pdfsig', 'qpdf', 'openssl']) t.true(hasTool(tool), tool);
});
