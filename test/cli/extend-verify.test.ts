/**
 * `skillcert extend` and `skillcert verify --at / --online` as built commands (issue 15), on files signed with the
 * loopback test PKI: the renewal's summary and exit code, the ETSI line per signature, a bad --at in one line.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuiltCli, skillcert } from '../helpers/cli.js';
import { startTestPki, type TestPki } from '../pki/_pki.js';
import { signAt } from '../sign/_ltv.js';

let pki: TestPki;
let dir: string;
let file: string;
let profile: string;
test.before(async () => {
  requireBuiltCli();
  pki = await startTestPki();
  dir = mkdtempSync(join(tmpdir(), 'skillcert-cli-extend-'));
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  profile = join(dir, 'profile.json');
  const { file: p12, passwordFile } = pki.p12('org');
  writeFileSync(profile, JSON.stringify({
    id: 'cli-extend', name: { zh: '演示评价机构', en: 'Demo Evaluation Organisation (TEST ONLY)' }, category: 'S', orgCode: '0000',
    numbering: { rule: 'beijing', district: '08', serial: '4012' }, seals: { evaluation: 'seal.png' },
    signer: { p12, passwordFile, tsaUrl: pki.tsaUrl, level: 'B-LTA', trustAnchors: ['root.pem'] },
    scope: [{ occupation: '电工', levels: [3] }], stock: { from: 1, to: 9 },
  }));
  file = join(dir, 'S000011084012263000001.pdf');
  writeFileSync(file, await signAt(pki, pki.signer('org'), 'B-T'));
});
test.after.always(async () => {
  await pki?.close();
});

test.serial('extend renews the file to B-LTA; verify prints the ETSI indication of each signature, offline', async (t) => {
  const r = await skillcert(['extend', dir, '--profile', profile, '--out', dir]);
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /extended .*S000011084012263000001\.pdf to B-LTA/);
  t.regex(r.stdout, /1\/1 extended; requests: 1 OCSP, 2 CRL, 0 TSA probe/);
  const v = await skillcert(['verify', file, '--anchor', join(dir, 'root.pem'), '--json']);
  const json = JSON.parse(v.stdout) as { results: { signatures: { kind: string; indication: string; level?: string }[] }[] };
  t.deepEqual(json.results[0]!.signatures.map((s) => `${s.kind} ${s.indication} ${s.level ?? ''}`.trim()), ['signature TOTAL-PASSED B-LTA', 'document timestamp TOTAL-PASSED']);
});

test.serial('verify --at a date after the TSA certificate expired: the document timestamp needs renewing', async (t) => {
  const v = await skillcert(['verify', file, '--anchor', join(dir, 'root.pem'), '--at', '2042-06-01', '--online']);
  t.regex(v.stdout, /signature Signature1: TOTAL-PASSED \(B-LTA\)/);
  t.regex(v.stdout, /document timestamp DocTimeStamp: INDETERMINATE\/OUT_OF_BOUNDS_NO_POE/);
});

test('a bad --at is one line, no stack trace', async (t) => {
  const v = await skillcert(['verify', file, '--anchor', join(dir, 'root.pem'), '--at', '2042-13-45']);
  t.not(v.code, 0);
  t.regex(v.stderr, /Expected a date YYYY-MM-DD for --at/);
  t.notRegex(v.stderr, /\n\s+at /);
});
