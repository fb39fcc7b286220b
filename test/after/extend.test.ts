/**
 * `skillcert extend` (issue 15): archive renewal of a folder of issued certificates — fresh DSS data and a new
 * document timestamp in an incremental update, the earlier bytes (and so every signature) unchanged; revocation
 * data fetched once for the whole run.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extend } from '../../pipeline/after/extend.js';
import { makeContext } from '../../pipeline/core/context.js';
import { verifyPdfSignatures } from '../../pipeline/verify/pdf-signature.js';
import { startTestPki, type TestPki } from '../pki/_pki.js';
import { pdfsigWith, signAt } from '../sign/_ltv.js';
import { qpdfCheck } from '../sign/_tools.js';

let pki: TestPki;
test.before(async () => {
  pki = await startTestPki();
});
test.after.always(async () => {
  await pki?.close();
});

function profileFor(dir: string): string {
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  const file = join(dir, 'profile.json');
  const { file: p12, passwordFile } = pki.p12('org');
  writeFileSync(
    file,
    JSON.stringify({
      id: 'extend-test',
      name: { zh: '演示评价机构', en: 'Demo Evaluation Organisation (TEST ONLY)' },
      category: 'S',
      orgCode: '0000',
      numbering: { rule: 'beijing', district: '08', serial: '4012' },
      seals: { evaluation: 'seal.png' },
      signer: { p12, passwordFile, tsaUrl: pki.tsaUrl, level: 'B-LTA', trustAnchors: ['root.pem'] },
      scope: [{ occupation: '电工', levels: [3] }],
      stock: { from: 1, to: 9 },
    }),
  );
  return file;
}

test('extend renews a folder: B-T files become B-LTA, a second run adds a second document timestamp, the signatures untouched', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-extend-'));
  const profile = profileFor(dir);
  const certs = join(dir, 'batch');
  mkdirSync(certs);
  const originals: Buffer[] = [];
  for (const n of ['S000011084012263000001', 'S000011084012263000002', 'S000011084012263000003']) {
    const pdf = await signAt(pki, pki.signer('org'), 'B-T');
    originals.push(pdf);
    writeFileSync(join(certs, `${n}.pdf`), pdf);
  }
  const ctx = makeContext({ now: new Date() });
  const first = await extend(ctx, { paths: [certs], profile, to: 'B-LTA', out: dir });
  t.deepEqual(first.failed, []);
  t.is(first.extended.length, 3);
  t.deepEqual(first.sent, { ocsp: 1, crl: 2, tsa: 0 }, 'one OCSP request and each CRL once for the whole folder');
  const files = first.extended.map((e) => e.file);
  for (const [i, f] of files.entries()) {
    const renewed = readFileSync(f);
    t.true(renewed.subarray(0, originals[i]!.length).equals(originals[i]!), 'the signed revision is the first bytes, unchanged');
    const { signatures } = await verifyPdfSignatures(renewed, { trustAnchors: [pki.rootPem] });
    t.like(signatures[0], { indication: 'TOTAL-PASSED', level: 'B-LTA' });
    t.like(signatures[1], { kind: 'document timestamp', indication: 'TOTAL-PASSED' });
  }
  const second = await extend(ctx, { paths: [files[0]!], profile, to: 'B-LTA', out: dir });
  t.deepEqual(second.failed, []);
  const twice = readFileSync(files[0]!);
  const { checks, signatures } = await verifyPdfSignatures(twice, { trustAnchors: [pki.rootPem] });
  t.deepEqual(checks.filter((c) => c.ok !== true), [], JSON.stringify(checks, null, 1));
  t.deepEqual(signatures.map((s) => `${s.kind}:${s.indication}`), ['signature:TOTAL-PASSED', 'document timestamp:TOTAL-PASSED', 'document timestamp:TOTAL-PASSED']);
  t.true(qpdfCheck(files[0]!).ok);
  const report = await pdfsigWith(files[0]!, pki.rootPem);
  t.regex(report.split('Signature #2:')[0]!, /Signature is Valid\.[\s\S]*Certificate is Trusted\./, report);
  t.regex(report.split('Signature #3:')[1]!, /Total document signed/);
});

test('extend refuses B-LTA without a TSA in the profile, with the field to set', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-extend-'));
  const file = profileFor(dir);
  const p = JSON.parse(readFileSync(file, 'utf8'));
  delete p.signer.tsaUrl;
  delete p.signer.level;
  writeFileSync(file, JSON.stringify(p));
  await t.throwsAsync(extend(makeContext({ now: new Date() }), { paths: [dir], profile: file, to: 'B-LTA', out: dir }), { message: /needs a time-stamping authority: set signer.tsaUrl/ });
});
