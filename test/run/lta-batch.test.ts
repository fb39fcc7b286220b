/**
 * A batch at B-LTA (issue 15) on the loopback test PKI: every certificate carries the DSS and a document timestamp
 * and is TOTAL-PASSED at B-LTA, and the signer's revocation data is fetched once for the whole batch — not once per
 * worker thread, nor per certificate (a nightly batch of 100,000 must not make 100,000 OCSP requests).
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { verifyPdfSignatures } from '../../pipeline/verify/pdf-signature.js';
import { batchDir, PHOTOS, show, skillcert, validPeople, writeRoster } from '../helpers/cli.js';
import { startTestPki, type TestPki } from '../pki/_pki.js';

let pki: TestPki;
test.before(async () => {
  pki = await startTestPki();
});
test.after.always(async () => {
  await pki?.close();
});

test('two worker threads sign a B-LTA batch with one OCSP request and one fetch of each CRL; every file TOTAL-PASSED at B-LTA', async (t) => {
  // (the built command: worker threads run dist/, as `skillcert run` does)
  const src = resolve('fixtures/profiles/haidian-qihang.json');
  const json = JSON.parse(readFileSync(src, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-lta-batch-'));
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  for (const k of Object.keys(json.seals)) json.seals[k] = resolve(dirname(src), json.seals[k]);
  json.signer = { p12: pki.p12('org').file, passwordFile: pki.p12('org').passwordFile, tsaUrl: pki.tsaUrl, level: 'B-LTA', trustAnchors: ['root.pem'] };
  writeFileSync(join(dir, 'profile.json'), JSON.stringify(json));
  const roster = await writeRoster(join(dir, 'roster.xlsx'), validPeople(6, 900));
  const before = new Map(pki.requests);
  const out = join(dir, 'out');
  const r = await skillcert(['run', '--roster', roster, '--profile', join(dir, 'profile.json'), '--out', out, '--photos', PHOTOS, '--workers', '2', '--json']);
  t.is(r.code, 0, show(r));
  t.is((JSON.parse(r.stdout) as { issued: number }).issued, 6, show(r));
  const asked = (k: string) => (pki.requests.get(k) ?? 0) - (before.get(k) ?? 0);
  t.is(asked('ocsp'), 1, 'the organisation certificate: one OCSP request for the batch');
  t.true(asked('crl/root.crl') <= 1 && asked('crl/issuing.crl') <= 1, `each CRL fetched at most once: ${JSON.stringify([...pki.requests])}`);
  const certs = join(batchDir(out), 'certificates');
  const files = readdirSync(certs).filter((f) => f.endsWith('.pdf'));
  t.is(files.length, 6);
  for (const f of files) {
    const { checks, signatures } = await verifyPdfSignatures(readFileSync(join(certs, f)), { trustAnchors: [pki.rootPem] });
    t.deepEqual(checks.filter((c) => c.ok !== true), [], f);
    t.deepEqual(signatures.map((s) => `${s.kind} ${s.indication} ${s.level ?? ''}`.trim()), ['signature TOTAL-PASSED B-LTA', 'document timestamp TOTAL-PASSED'], f);
  }
});
