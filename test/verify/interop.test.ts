import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPdfSignature } from '../../pipeline/verify/index.js';
import { GENERATED, pem } from '../sign/_identity.js';
import { makeTestPdf } from '../sign/_pdf.js';
import { hasTool } from '../sign/_tools.js';

// Signed by an independent implementation: poppler's `pdfsig -add-signature` (NSS, BER indefinite lengths, adbe.pkcs7.detached).
// With the RSA identity: poppler 22.12 sizes its placeholder from one trial ECDSA signature and fails at random
// ("unable update signature") when the real one comes out a byte longer.
const canRun = hasTool('pk12util') && hasTool('certutil') && hasTool('pdfsig');

(canRun ? test : test.skip)('a signature made by poppler/NSS verifies; only the PAdES profile is indeterminate (it is adbe.pkcs7.detached)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-poppler-'));
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  execFileSync('pk12util', ['-i', join(GENERATED, 'org-rsa.p12'), '-d', `sql:${dir}`, '-w', join(GENERATED, 'password.txt'), '-K', ''], { stdio: 'ignore' });
  writeFileSync(join(dir, 'plain.pdf'), await makeTestPdf());
  execFileSync('pdfsig', ['-nssdir', `sql:${dir}`, '-add-signature', '-nick', 'skillcert TEST ONLY organisation signer RSA', join(dir, 'plain.pdf'), join(dir, 'signed.pdf')], { stdio: 'ignore' });
  const checks = await verifyPdfSignature(readFileSync(join(dir, 'signed.pdf')), { trustAnchors: [pem('root-ca')] });
  t.deepEqual(checks.filter((c) => c.ok === false), []);
  t.deepEqual(checks.filter((c) => c.ok === null).map((c) => c.id), ['signature.pades']);
  t.regex(checks.find((c) => c.id === 'signature.pades')!.message, /SubFilter is adbe\.pkcs7\.detached/);
  for (const id of ['signature.wholeFile', 'signature.digest', 'signature.cms', 'signer.trusted', 'signer.validAtSigningTime']) {
    t.is(checks.find((c) => c.id === id)?.ok, true, id);
  }
});
