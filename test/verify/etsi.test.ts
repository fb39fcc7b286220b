/**
 * The verifier speaks ETSI EN 319 102-1 (issue 15): per signature and document timestamp an indication with its
 * sub-indication, the PAdES level found, validation at a given time with the timestamps as proof of existence,
 * offline with the file's DSS by default and with fresh answers when online. The negative cases are checked
 * against openssl, which must agree.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyPdfSignatures } from '../../pipeline/verify/pdf-signature.js';
import { startTestPki, type TestPki } from '../pki/_pki.js';
import { dssFiles, run, signAt, signedParts } from '../sign/_ltv.js';

let pki: TestPki;
test.before(async () => {
  pki = await startTestPki();
});
test.after.always(async () => {
  await pki?.close();
});

const verify = (pdf: Buffer, o: { at?: Date; online?: boolean } = {}) => verifyPdfSignatures(pdf, { trustAnchors: [pki.rootPem], ...o });

test('a B-LTA file verifies offline: the signature TOTAL-PASSED at level B-LTA, the document timestamp TOTAL-PASSED', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const { checks, signatures } = await verify(pdf);
  t.deepEqual(checks.filter((c) => c.ok !== true), [], JSON.stringify(checks, null, 1));
  t.is(signatures.length, 2);
  const [sig, stamp] = signatures;
  t.like(sig, { kind: 'signature', indication: 'TOTAL-PASSED', level: 'B-LTA', field: 'Signature1' });
  t.like(stamp, { kind: 'document timestamp', indication: 'TOTAL-PASSED', field: 'DocTimeStamp' });
  t.truthy(checks.find((c) => c.id === 'signer.revocation' && /is good|is not revoked/.test(c.message)));
  t.truthy(checks.find((c) => c.id === 'docTimestamp.imprint' && c.ok));
});

test('the levels found: B-B, B-T, B-LT, B-LTA', async (t) => {
  for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as const) {
    const { signatures } = await verify(await signAt(pki, pki.signer('org'), level), { online: true });
    t.is(signatures[0]!.level, level);
    t.is(signatures[0]!.indication, 'TOTAL-PASSED', `${level}: ${JSON.stringify(signatures[0])}`);
  }
});

test('a B-T file offline has no revocation data: INDETERMINATE/TRY_LATER; --online fetches it and it passes', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-T');
  const offline = await verify(pdf);
  t.like(offline.signatures[0], { indication: 'INDETERMINATE', subIndication: 'TRY_LATER', level: 'B-T' });
  t.is(offline.checks.find((c) => c.id === 'signer.revocation')!.ok, null);
  const online = await verify(pdf, { online: true });
  t.like(online.signatures[0], { indication: 'TOTAL-PASSED', level: 'B-T' });
});

test('a certificate revoked before signing, signed anyway: TOTAL-FAILED/REVOKED, and openssl cms -crl_check_all refuses it too', async (t) => {
  const pdf = await signAt(pki, pki.signer('org-revoked'), 'B-LT', { force: true });
  const { checks, signatures } = await verify(pdf);
  t.like(signatures[0], { indication: 'TOTAL-FAILED', subIndication: 'REVOKED' });
  t.is(checks.find((c) => c.id === 'signer.revocation')!.ok, false);
  const [sig] = signedParts(pdf);
  const dss = await dssFiles(pdf);
  writeFileSync(join(dss.dir, 'sig.der'), sig!.der);
  writeFileSync(join(dss.dir, 'content.bin'), sig!.signedBytes);
  writeFileSync(join(dss.dir, 'root+crls.pem'), pki.rootPem + (await import('node:fs')).readFileSync(dss.crls, 'utf8'));
  const r = run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dss.dir, 'sig.der'), '-content', join(dss.dir, 'content.bin'), '-CAfile', join(dss.dir, 'root+crls.pem'), '-certfile', dss.certs, '-crl_check_all', '-purpose', 'any', '-out', '/dev/null']);
  t.false(r.ok);
  t.regex(r.out, /certificate revoked/);
  const o = run('openssl', ['ocsp', '-respin', dss.ocsps[0]!, '-CAfile', join(pki.dir, 'root.pem'), '-issuer', join(pki.dir, 'issuing.pem'), '-cert', join(pki.dir, 'org-revoked.pem'), '-no_nonce']);
  t.regex(o.out, /org-revoked\.pem: revoked/);
});

test.serial('revoked after signing: the B-LTA file stays TOTAL-PASSED, offline and with the fresh answer that says revoked', async (t) => {
  const pdf = await signAt(pki, pki.signer('branch'), 'B-LTA');
  await new Promise((ok) => setTimeout(ok, 1100));
  pki.revoke('branch', new Date());
  try {
    const offline = await verify(pdf);
    t.like(offline.signatures[0], { indication: 'TOTAL-PASSED', level: 'B-LTA' });
    const online = await verify(pdf, { online: true });
    t.like(online.signatures[0], { indication: 'TOTAL-PASSED', level: 'B-LTA' }, JSON.stringify(online.signatures));
    t.regex(online.checks.find((c) => c.id === 'signer.revocation')!.message, /revoked on .*the revocation came after the signature/);
    // A B-B signature (no proof of existence) by the same certificate now is INDETERMINATE/REVOKED_NO_POE at best.
    const late = await signAt(pki, pki.signer('branch'), 'B-B', { force: true, signingTime: new Date(Date.now() - 3_600_000) });
    t.like((await verify(late, { online: true })).signatures[0], { indication: 'INDETERMINATE', subIndication: 'REVOKED_NO_POE' });
  } finally {
    pki.revoke('branch', new Date('2100-01-01T00:00:00Z'));
  }
});

test('--at after every certificate expired: the signature is proved by its timestamp; the last document timestamp needs renewing', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const { checks, signatures } = await verify(pdf, { at: new Date('2042-06-01T00:00:00Z') });
  t.like(signatures[0], { indication: 'TOTAL-PASSED', level: 'B-LTA' });
  t.regex(checks.find((c) => c.id === 'signer.validAt')!.message, /but the timestamp proves the signature was made at/);
  t.like(signatures[1], { kind: 'document timestamp', indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
});

test('an expired organisation certificate, signed anyway without a timestamp: INDETERMINATE/OUT_OF_BOUNDS_NO_POE', async (t) => {
  const pdf = await signAt(pki, pki.signer('org-expired'), 'B-B', { force: true });
  t.like((await verify(pdf, { online: true })).signatures[0], { indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
});

test('one byte changed under the signature of a B-LTA file: TOTAL-FAILED/HASH_FAILURE for the signature and the document timestamp', async (t) => {
  const pdf = await signAt(pki, pki.signer('org'), 'B-LTA');
  const bad = Buffer.from(pdf);
  // a byte of the binary comment on line 2: the PDF still parses, only the signatures can tell.
  const i = bad.indexOf('%', 5) + 1;
  bad[i] = bad[i]! ^ 0x01;
  const { signatures } = await verify(bad);
  t.like(signatures[0], { indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
  t.like(signatures[1], { indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
});
