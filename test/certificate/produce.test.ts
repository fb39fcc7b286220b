/**
 * Signatures per style (issue 15): a style-two certificate is signed twice — the issuing branch first, on its seal,
 * the evaluation organisation second, on its own — each its own incremental signature; style one keeps one. Read
 * back by pdfsig and the verifier, at B-B with the TEST ONLY identity and at B-LTA with the loopback test PKI.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber } from 'pdf-lib';
import sharp from 'sharp';
import { produceCertificate } from '../../pipeline/certificate/produce.js';
import { loadBranchSigner } from '../../pipeline/certificate/identity.js';
import { loadProfile, type Profile } from '../../pipeline/core/profile.js';
import type { Numbered } from '../../pipeline/core/record.js';
import { FontSet } from '../../pipeline/fonts/index.js';
import { buildTemplate, launchBrowser, type BrowserHandle } from '../../pipeline/render/index.js';
import { verifyPdfSignatures } from '../../pipeline/verify/pdf-signature.js';
import { startTestPki, type TestPki } from '../pki/_pki.js';
import { pem, testSigner } from '../sign/_identity.js';
import { dssFiles, pdfsigWith, run, signedParts } from '../sign/_ltv.js';
import { pdfsig, qpdfCheck, writeTemp } from '../sign/_tools.js';

const fonts = FontSet.load();
let browser: BrowserHandle;
let pki: TestPki;
const record: Numbered = {
  rowNo: 2, name: '阿依古丽·买买提', idType: '201', idNo: '11010519491231002X', occupation: '电工', job: '', level: 3,
  result: '合格', issueDate: '2026-11-20', number: 'Y021711020105263000001', stockSerial: '10000001',
};
const photo = () =>
  sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="390" height="390"><rect width="390" height="390" fill="#fff"/><circle cx="195" cy="150" r="80" fill="#c96"/></svg>')).jpeg().toBuffer();

test.before(async () => {
  browser = await launchBrowser();
  pki = await startTestPki();
});
test.after.always(async () => {
  await browser?.close();
  await pki?.close();
});

async function produce(profile: Profile, signer = testSigner('org')): Promise<Buffer> {
  const template = await buildTemplate(profile, fonts, browser);
  return Buffer.from(await produceCertificate({ profile, fonts, template, signer }, record, await photo(), { now: new Date() }));
}

const widgets = async (pdf: Buffer) => {
  const doc = await PDFDocument.load(pdf);
  const annots = doc.getPages()[0]!.node.lookup(PDFName.of('Annots'), PDFArray);
  return annots.asArray().map((_, i) => annots.lookup(i, PDFDict).lookup(PDFName.of('Rect'), PDFArray).asArray().map((n) => Math.round((n as PDFNumber).asNumber())));
};

test('style two: the branch signs first on its seal, the organisation second on its own; pdfsig and the verifier find both valid', async (t) => {
  const profile = loadProfile('fixtures/profiles/jingdian-maintenance.json');
  t.is(profile.styleId, 'style-two');
  const pdf = await produce(profile);
  const { checks, signatures } = await verifyPdfSignatures(pdf, { trustAnchors: [pem('root-ca')] });
  t.deepEqual(checks.filter((c) => c.ok !== true), [], JSON.stringify(checks, null, 1));
  t.deepEqual(signatures.map((s) => `${s.field} ${s.signer} ${s.indication}`), ['Signature1 skillcert TEST ONLY branch signer TOTAL-PASSED', 'Signature2 skillcert TEST ONLY organisation signer TOTAL-PASSED']);
  const file = writeTemp('style-two.pdf', pdf);
  const report = pdfsig(file, { trustTestRoot: true });
  t.is(report.match(/Signature is Valid\./g)?.length, 2, report);
  t.regex(report.split('Signature #2:')[0]!, /Not total document signed/);
  t.regex(report.split('Signature #2:')[1]!, /Total document signed/);
  t.true(qpdfCheck(file).ok);
  // The widgets sit on the seals of the parameter sheet: branch left (62 mm), organisation right (172 mm).
  const [branchRect, orgRect] = await widgets(pdf);
  t.true(branchRect![0]! < orgRect![0]!, `${branchRect} left of ${orgRect}`);
});

test('style one keeps one signature, the organisation\'s', async (t) => {
  const pdf = await produce(loadProfile('fixtures/profiles/haidian-qihang.json'));
  const { signatures } = await verifyPdfSignatures(pdf, { trustAnchors: [pem('root-ca')] });
  t.is(signatures.length, 1);
  t.like(signatures[0], { field: 'Signature1', indication: 'TOTAL-PASSED', level: 'B-B' });
});

test('style two at B-LTA: two signatures, one DSS for both paths, one document timestamp; each TOTAL-PASSED at B-LTA', async (t) => {
  // The demo profile with the loopback PKI's identities, TSA and root (absolute paths: the copy lives elsewhere).
  const src = resolve('fixtures/profiles/jingdian-maintenance.json');
  const json = JSON.parse(readFileSync(src, 'utf8'));
  const abs = (rel: string) => resolve(dirname(src), rel);
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-style-two-'));
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  json.seals.evaluation = abs(json.seals.evaluation);
  json.branch.seal = abs(json.branch.seal);
  json.branch.signer = { p12: pki.p12('branch').file, passwordFile: pki.p12('branch').passwordFile };
  json.signer = { p12: pki.p12('org').file, passwordFile: pki.p12('org').passwordFile, tsaUrl: pki.tsaUrl, level: 'B-LTA', trustAnchors: ['root.pem'] };
  writeFileSync(join(dir, 'profile.json'), JSON.stringify(json));
  const profile = loadProfile(join(dir, 'profile.json'));
  t.truthy(loadBranchSigner(profile));
  const pdf = await produce(profile, pki.signer('org'));
  const { checks, signatures } = await verifyPdfSignatures(pdf, { trustAnchors: [pki.rootPem] });
  t.deepEqual(checks.filter((c) => c.ok !== true), [], JSON.stringify(checks, null, 1));
  t.deepEqual(signatures.map((s) => `${s.kind} ${s.indication} ${s.level ?? ''}`.trim()), ['signature TOTAL-PASSED B-LTA', 'signature TOTAL-PASSED B-LTA', 'document timestamp TOTAL-PASSED']);
  const report = await pdfsigWith(writeTemp('style-two-lta.pdf', pdf), pki.rootPem);
  t.is(report.match(/Signature is Valid\./g)?.length, 2, report);
  // poppler 22.12 + NSS judge the certificate of only the FIRST of several CRL-checked signatures in one run (the
  // second is "Unknown issue" whichever certificate it is, a state of NSS: "NSS_Shutdown failed … still in use");
  // openssl judges each signature on its own, with the DSS's CRLs.
  t.regex(report.split('Signature #2:')[0]!, /Certificate is Trusted\./, report);
  const dss = await dssFiles(pdf);
  writeFileSync(join(dss.dir, 'root+crls.pem'), pki.rootPem + readFileSync(dss.crls, 'utf8'));
  for (const [i, part] of signedParts(pdf).filter((p) => !p.docTimestamp).entries()) {
    writeFileSync(join(dss.dir, `sig${i}.der`), part.der);
    writeFileSync(join(dss.dir, `content${i}.bin`), part.signedBytes);
    const r = run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dss.dir, `sig${i}.der`), '-content', join(dss.dir, `content${i}.bin`), '-CAfile', join(dss.dir, 'root+crls.pem'), '-certfile', dss.certs, '-crl_check_all', '-purpose', 'any', '-out', '/dev/null']);
    t.true(r.ok, `signature ${i + 1}: ${r.out}`);
  }
});
