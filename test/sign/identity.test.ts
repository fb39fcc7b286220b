import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../pipeline/core/paths.js';
import { ensureIdentity, GENERATED, pem } from './_identity.js';

const x509 = (name: Parameters<typeof pem>[0]) => new X509Certificate(pem(name));
const ext = (name: string, which: string) =>
  execFileSync('openssl', ['x509', '-in', join(GENERATED, `${name}.pem`), '-noout', '-ext', which], { encoding: 'utf8' });

test('make-test-identity.sh is idempotent: a second run skips and leaves the files alone', (t) => {
  ensureIdentity();
  const before = statSync(join(GENERATED, 'org.p12')).mtimeMs;
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'make-test-identity.sh')], { encoding: 'utf8' });
  t.regex(out, /skipping/);
  t.is(statSync(join(GENERATED, 'org.p12')).mtimeMs, before);
});

test('every certificate says TEST ONLY; the root says not for production', (t) => {
  t.regex(x509('root-ca').subject, /CN=skillcert TEST ONLY Root CA — not for production/);
  for (const n of ['org', 'org-rsa', 'org-expired', 'other-ca', 'other-org', 'tsa'] as const) t.regex(x509(n).subject, /TEST ONLY/, n);
});

test('the organisation certificate is EC P-256, digitalSignature + nonRepudiation, valid 2020-2040, issued by the test root', (t) => {
  const c = x509('org');
  t.is(c.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.is(new Date(c.validFrom).toISOString(), '2020-01-01T00:00:00.000Z');
  t.is(new Date(c.validTo).toISOString(), '2040-01-01T00:00:00.000Z');
  t.true(c.checkIssued(x509('root-ca')));
  t.regex(ext('org', 'keyUsage'), /critical\s+Digital Signature, Non Repudiation/);
});

test('the expired certificate ended in 2019; the untrusted one comes from the other CA; the TSA has critical timeStamping', (t) => {
  t.is(new Date(x509('org-expired').validTo).toISOString(), '2019-12-31T23:59:59.000Z');
  t.true(x509('other-org').checkIssued(x509('other-ca')));
  t.false(x509('other-org').checkIssued(x509('root-ca')));
  t.regex(ext('tsa', 'extendedKeyUsage'), /Extended Key Usage: critical\s+Time Stamping/);
  t.regex(readFileSync(join(GENERATED, 'tsa.cnf'), 'utf8'), /signer_cert\s+= \$dir\/tsa\.pem/);
});

test('the P12 files open with the password from password.txt (AES-256 / SHA-256 MAC)', (t) => {
  for (const n of ['org', 'org-rsa', 'org-expired', 'other-org']) {
    // openssl pkcs12 -info reports on stderr.
    const r = spawnSync('openssl', ['pkcs12', '-in', join(GENERATED, `${n}.p12`), '-info', '-noout', '-passin', `file:${join(GENERATED, 'password.txt')}`], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stderr, /MAC: sha256/, n);
    t.regex(r.stderr, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/, n);
  }
});
