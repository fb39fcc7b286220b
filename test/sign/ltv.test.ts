/**
 * PAdES B-LT / B-LTA (issue 15) with the loopback test PKI: the DSS and the document timestamp checked by the
 * independent tools — pdfsig (every signature valid, the last over the whole file), openssl cms -verify with the
 * CRLs of the DSS (-crl_check_all), openssl ocsp -respin for each OCSP response, openssl ts -verify for the
 * signature timestamp and the document timestamp, qpdf --check — and the revocation data fetched once per batch.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { ValidationCache, prefetchValidation, signatureContents, vriKey } from '../../pipeline/sign/index.js';
import { startTestPki, type TestPki } from '../pki/_pki.js';
import { dssFiles, pdfsigWith, run, signAt, signedParts } from './_ltv.js';
import { qpdfCheck, writeTemp } from './_tools.js';

let pki: TestPki;
test.before(async () => {
  pki = await startTestPki();
});
test.after.always(async () => {
  await pki?.close();
});

test('a B-LTA file: pdfsig finds the signature valid and trusted with the DSS\'s CRLs, and the document timestamp over the whole file', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const file = writeTemp('lta.pdf', pdf);
  const report = await pdfsigWith(file, pki.rootPem);
  const [one, two] = report.split(/Signature #2:/);
  t.regex(one!, /Signature Type: ETSI\.CAdES\.detached/);
  t.regex(one!, /Signature Validation: Signature is Valid\./, report);
  t.regex(one!, /Certificate Validation: Certificate is Trusted\./, report);
  // poppler 22.12 reads but cannot validate ETSI.RFC3161 ("Unimplemented Feature"); openssl ts checks it below.
  t.regex(two!, /Signature Field Name: DocTimeStamp/);
  t.regex(two!, /Signer Certificate Common Name: skillcert TEST ONLY PKI Time-Stamping Authority/);
  t.regex(two!, /Total document signed/, report);
  const q = qpdfCheck(file);
  t.true(q.ok, q.output);
  t.is(pdf.toString('latin1').match(/%%EOF/g)?.length, 3, 'base, signature, DSS + document timestamp');
});

test('openssl verifies the signature over its byte ranges with the chain and the CRLs from the DSS (-crl_check_all)', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const [sig] = signedParts(pdf);
  const dss = await dssFiles(pdf);
  t.deepEqual(dss.counts, { certs: 4, ocsps: 1, crls: 2 }, 'org, issuing CA, root, TSA (the root once); OCSP for org; the CRLs of the issuing CA and the root');
  writeFileSync(join(dss.dir, 'sig.der'), sig!.der);
  writeFileSync(join(dss.dir, 'content.bin'), sig!.signedBytes);
  // openssl cms has no -CRLfile: the CA file's lookup loads the CRLs in it too (X509_load_cert_crl_file).
  writeFileSync(join(dss.dir, 'root+crls.pem'), pki.rootPem + readFileSync(dss.crls, 'utf8'));
  const r = run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dss.dir, 'sig.der'), '-content', join(dss.dir, 'content.bin'), '-CAfile', join(dss.dir, 'root+crls.pem'), '-certfile', dss.certs, '-crl_check_all', '-purpose', 'any', '-out', '/dev/null']);
  t.true(r.ok, r.out);
  t.regex(r.out, /Verification successful/);
});

test('openssl ocsp -respin accepts each OCSP response of the DSS, and it says good', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LT');
  const dss = await dssFiles(pdf);
  t.true(dss.ocsps.length >= 1);
  for (const f of dss.ocsps) {
    const r = run('openssl', ['ocsp', '-respin', f, '-CAfile', join(pki.dir, 'root.pem'), '-issuer', join(pki.dir, 'issuing.pem'), '-cert', join(pki.dir, 'org.pem'), '-no_nonce']);
    t.true(r.ok, r.out);
    t.regex(r.out, /Response verify OK/);
    t.regex(r.out, /org\.pem: good/);
  }
  t.is(signedParts(pdf).length, 1, 'B-LT has no document timestamp');
});

test('openssl ts -verify accepts the signature timestamp (over the signature value) and the document timestamp (over the file)', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const [sig, doc] = signedParts(pdf);
  t.false(sig!.docTimestamp);
  t.true(doc!.docTimestamp);
  const dir = (await dssFiles(pdf)).dir;
  const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(sig!.der).content });
  const si = sd.signerInfos[0]!;
  const token = si.unsignedAttrs!.attributes.find((a) => a.type === '1.2.840.113549.1.9.16.2.14')!.values[0]!;
  writeFileSync(join(dir, 'sigts.der'), Buffer.from(token.toBER(false)));
  writeFileSync(join(dir, 'sigvalue.bin'), Buffer.from(si.signature.valueBlock.valueHexView));
  writeFileSync(join(dir, 'docts.der'), doc!.der);
  writeFileSync(join(dir, 'doc.bin'), doc!.signedBytes);
  for (const [tok, data] of [['sigts.der', 'sigvalue.bin'], ['docts.der', 'doc.bin']] as const) {
    const r = run('openssl', ['ts', '-verify', '-in', join(dir, tok), '-token_in', '-data', join(dir, data), '-CAfile', join(pki.dir, 'root.pem'), '-untrusted', join(pki.dir, 'tsa.pem')]);
    t.true(r.ok, `${tok}: ${r.out}`);
    t.regex(r.out, /Verification: OK/);
  }
});

test('the DSS has a VRI entry for the signature, keyed by the SHA-1 of its /Contents', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const key = vriKey(signatureContents(pdf)[0]!);
  t.regex(pdf.toString('latin1'), new RegExp(`/${key}\\s*<<`), 'VRI key written');
  // The DSS streams are Flate-compressed, so only its dictionary is found in the raw file; the VRI is inside it.
  t.regex(pdf.toString('latin1'), /\/Type \/DSS/);
  t.regex(pdf.toString('latin1'), /\/ESIC/);
});

test.serial('revocation data is fetched once per certificate for a whole batch (one cache), not once per file', async (t) => {
  const cache = new ValidationCache({ trustAnchors: [pki.rootPem] });
  const before = new Map(pki.requests);
  for (let i = 0; i < 4; i++) await signAt(pki, pki.signer('org'), 'B-LTA', { cache });
  const delta = (k: string) => (pki.requests.get(k) ?? 0) - (before.get(k) ?? 0);
  t.is(delta('ocsp'), 1, 'one OCSP request: the organisation certificate');
  t.is(delta('crl/issuing.crl'), 1);
  t.is(delta('crl/root.crl'), 1, 'the issuing CA and the TSA share the root CRL');
  t.is(delta('tsa'), 4 * 2 + 1, 'per file a signature timestamp and a document timestamp; one probe for the TSA chain');
  t.deepEqual(cache.sent, { ocsp: 1, crl: 2, tsa: 1 });
});

test('an organisation certificate revoked before signing is refused before anything is signed', async (t) => {
  const err = await t.throwsAsync(prefetchValidation({ tsaUrl: pki.tsaUrl, trustAnchorPems: [pki.rootPem] }, pki.signer('org-revoked'), new Date()));
  t.regex(err!.message, /was revoked on .* before the signing time/);
  t.is((err as { code?: string }).code, 'E_SIGN');
});
