/**
 * The verifier end to end (issue 4, SPEC §6): certificates from a real `skillcert run` of the built command,
 * checked by independent tools (pdfsig with an NSS database trusting the TEST ONLY root, qpdf --check, zbarimg on
 * a 150 dpi pdftoppm render) and by `skillcert verify`; then forged in the ways a verifier must catch, each
 * caught by `skillcert verify` with the failing check's id and reason, and by pdfsig where it can tell.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry } from '../../pipeline/registry/index.js';
import {
  certificateFiles, batchDir, GENERATED, PHOTOS, pdfText, profile, removeTempDirs, requireBuiltCli, show, skillcert, tempDir,
  tool, validPeople, writeRoster, type CliResult,
} from '../helpers/cli.js';
import { rasterise } from '../helpers/pdf.js';
import { appendNameChange, flipSignedByte, pasteQr } from '../helpers/tamper.js';
import { testSigner } from '../sign/_identity.js';
import { pdfsig, qpdfCheck, testNssDb } from '../sign/_tools.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

const PROFILE = profile('haidian-qihang');
const people = validPeople(3, 1200);

interface CheckJson { id: string; ok: boolean | null; message: string }
interface VerdictJson { file: string; verdict: 'valid' | 'invalid' | 'indeterminate'; number?: string; status?: string; checks: CheckJson[] }

let work: string;
let registry: string;
/** The three certificates of the run, in roster order: [file, number, holder]. */
let certs: { file: string; number: string; name: string }[];

test.before(async () => {
  work = tempDir('skillcert-e2e-verify-');
  const roster = await writeRoster(join(work, 'results.xlsx'), people);
  const out = join(work, 'out');
  registry = join(work, 'registry.sqlite');
  const r = await skillcert(['run', '--roster', roster, '--profile', PROFILE, '--out', out, '--registry', registry, '--photos', PHOTOS, '--workers', '0', '--quiet']);
  if (r.code !== 0) throw new Error(`skillcert run failed: ${show(r)}`);
  const dir = batchDir(out);
  const pdfs = certificateFiles(dir).pdfs.map((f) => join(dir, 'certificates', f));
  if (pdfs.length !== people.length) throw new Error(`expected ${people.length} certificates, found ${pdfs.length}`);
  // Each holder's certificate: the one whose printed text carries the holder's name.
  const texts = await Promise.all(pdfs.map((f) => pdfText(f)));
  certs = people.map((p) => {
    const i = texts.findIndex((t) => t.includes(p.name));
    return { file: pdfs[i]!, number: pdfs[i]!.slice(-26, -4), name: p.name };
  });
});

/** `skillcert verify … --json`: the exit code and the one verdict. */
async function verify(args: string[]): Promise<{ r: CliResult; v: VerdictJson }> {
  const r = await skillcert(['verify', ...args, '--json']);
  const parsed = JSON.parse(r.stdout) as { ok: boolean; results: VerdictJson[] };
  if (parsed.results.length !== 1) throw new Error(`expected one verdict: ${r.stdout}`);
  return { r, v: parsed.results[0]! };
}
const failed = (v: VerdictJson) => v.checks.filter((c) => c.ok === false).map((c) => c.id);
const check = (v: VerdictJson, id: string) => v.checks.find((c) => c.id === id);
const write = (name: string, bytes: Uint8Array) => {
  const f = join(work, name);
  writeFileSync(f, bytes);
  return f;
};

test('a certificate from a real run is accepted by pdfsig, qpdf --check, zbarimg on a 150 dpi render and skillcert verify', async (t) => {
  const { file, number } = certs[0]!;
  const nss = testNssDb();
  if (nss) {
    const report = pdfsig(file, { trustTestRoot: true });
    t.regex(report, /Signature Validation: Signature is Valid/);
    t.regex(report, /Certificate Validation: Certificate is Trusted/);
    t.regex(report, /Total document signed/);
    t.regex(report, /ETSI\.CAdES\.detached/);
  } else {
    t.log('certutil (libnss3-tools) is missing: pdfsig ran without the test root');
    t.regex(pdfsig(file), /Signature is Valid/);
  }
  t.true(qpdfCheck(file).ok, qpdfCheck(file).output);
  const png = rasterise(file, 150, join(work, 'valid-150dpi'));
  const zbar = await tool('zbarimg', ['--raw', '-q', '--nodbus', png]);
  t.is(zbar.code, 0, zbar.output);
  const qr = zbar.output.trim();
  t.true(qr.startsWith(`HTTP://JNDJ.OSTA.ORG.CN/?n=${number}#SC1:`), qr);

  const { r, v } = await verify([file, '--profile', PROFILE, '--registry', registry]);
  t.is(r.code, 0, show(r));
  t.is(v.verdict, 'valid');
  t.is(v.number, number);
  t.deepEqual(v.checks.filter((c) => c.ok !== true), [], 'every check passed, none indeterminate');
  for (const id of ['signature.wholeFile', 'signature.digest', 'signer.trusted', 'qr.decode', 'qr.printedText', 'number.format', 'registry.status']) t.truthy(check(v, id), id);
  // The human-readable form says the same.
  const plain = await skillcert(['verify', file, '--profile', PROFILE, '--registry', registry]);
  t.is(plain.code, 0, show(plain));
  t.regex(plain.stdout, new RegExp(`^VALID: .*${number}\\.pdf \\(${number}\\)$`, 'm'));
  // The text zbarimg decoded verifies on its own, against the organisation's certificate.
  const text = await verify(['--qr-text', qr, '--org-cert', join(GENERATED, 'org.pem'), '--anchor', join(GENERATED, 'root-ca.pem'), '--registry', registry]);
  t.is(text.r.code, 0, show(text.r));
  t.is(text.v.verdict, 'valid');
});

test('one byte changed inside the signed range fails signature.digest, for pdfsig too', async (t) => {
  const { bytes } = flipSignedByte(readFileSync(certs[0]!.file));
  const file = write('flipped.pdf', bytes);
  const { r, v } = await verify([file, '--profile', PROFILE, '--registry', registry]);
  t.is(r.code, 1, show(r));
  t.is(v.verdict, 'invalid');
  // The registry does not know this file's SHA-256 either; nothing else fails.
  t.deepEqual(failed(v), ['signature.digest', 'registry.status']);
  t.regex(check(v, 'signature.digest')!.message, /of the signed bytes is [0-9a-f]+…, the signature says .*the file was changed after signing/);
  t.regex(check(v, 'registry.status')!.message, /this PDF is not one the registry issued/);
  t.is(check(v, 'signature.wholeFile')!.ok, true);
  t.regex(pdfsig(file, { trustTestRoot: true }), /Digest Mismatch/);
});

test('an incremental update appended after signing that changes the name fails signature.wholeFile', async (t) => {
  const original = readFileSync(certs[0]!.file);
  const updated = await appendNameChange(original, certs[0]!.name, 'Li Si');
  const file = write('renamed.pdf', updated);
  t.true(qpdfCheck(file).ok, 'the update is a well-formed PDF revision');
  t.regex(await pdfText(file), /Li\s+Si/, 'the update really prints another name');
  const { r, v } = await verify([file, '--profile', PROFILE, '--registry', registry]);
  t.is(r.code, 1, show(r));
  t.is(v.verdict, 'invalid');
  // The page itself shows the change too: a white box and another name over the 姓名 box (issue 14).
  t.deepEqual(failed(v), ['signature.wholeFile', 'qr.printedText', 'registry.status']);
  t.regex(check(v, 'qr.printedText')!.message, /a filled shape drawn over the 姓名 box after its text/);
  t.regex(check(v, 'signature.wholeFile')!.message, new RegExp(`${updated.length - original.length} bytes were added after signing \\(an incremental update\\)`));
  t.is(check(v, 'signature.digest')!.ok, true, 'the signed revision itself is intact');
  const report = pdfsig(file, { trustTestRoot: true });
  t.regex(report, /Not total document signed/);
});

test('a QR code from another certificate pasted in and signed again passes every signature check but fails qr.printedText', async (t) => {
  const [a, b] = certs as [(typeof certs)[0], (typeof certs)[0]];
  const other = await tool('zbarimg', ['--raw', '-q', '--nodbus', rasterise(b.file, 150, join(work, 'other-150dpi'))]);
  t.is(other.code, 0, other.output);
  const forged = await pasteQr(readFileSync(a.file), other.output.trim(), 'style-one', testSigner('org'), new Date('2026-11-20T02:00:00Z'));
  const file = write('pasted-qr.pdf', forged);
  t.true(qpdfCheck(file).ok);
  if (testNssDb()) t.regex(pdfsig(file, { trustTestRoot: true }), /Signature is Valid[\s\S]*Certificate is Trusted/, 'a valid signature: only the content can tell');
  const { r, v } = await verify([file, '--profile', PROFILE, '--registry', registry]);
  t.is(r.code, 1, show(r));
  t.is(v.number, b.number, "the QR code read is the other certificate's");
  // Every signature check passes: the forger holds the key (or the file came from an insider).
  t.deepEqual(v.checks.filter((c) => c.id.startsWith('signature.') || c.id.startsWith('signer.') || c.id.startsWith('qr.signature')).filter((c) => c.ok !== true), []);
  t.is(check(v, 'qr.signature')?.ok, true, 'the pasted QR code is itself genuine');
  t.deepEqual(failed(v), ['qr.printedText', 'registry.status']);
  t.regex(check(v, 'qr.printedText')!.message, new RegExp(`the QR code does not match the printed certificate: not printed: 证书编号 "${b.number}", 姓名 "${b.name}".*\\(a QR code from another certificate\\?\\)`));
});

test('a PDF checked against a profile whose trust anchor is the other (untrusted) test CA fails signer.trusted', async (t) => {
  const p = JSON.parse(readFileSync(PROFILE, 'utf8')) as Record<string, unknown> & { signer: Record<string, unknown>; seals: Record<string, string> };
  const abs = (rel: string) => join(PROFILE, '..', rel);
  const untrusting = {
    ...p,
    seals: Object.fromEntries(Object.entries(p.seals).map(([k, v]) => [k, abs(v)])),
    signer: { ...p.signer, p12: abs(p.signer.p12 as string), passwordFile: abs(p.signer.passwordFile as string), trustAnchors: [join(GENERATED, 'other-ca.pem')] },
  };
  const profileFile = write('untrusting-profile.json', Buffer.from(JSON.stringify(untrusting, null, 2)));
  const { r, v } = await verify([certs[0]!.file, '--profile', profileFile]);
  t.is(r.code, 1, show(r));
  t.is(v.verdict, 'invalid');
  t.deepEqual(failed(v), ['signer.trusted']);
  t.regex(check(v, 'signer.trusted')!.message, /TEST ONLY Root CA.*which is not one of the 1 trust anchor\(s\)/);
  t.is(check(v, 'signature.digest')!.ok, true, 'the signature itself is fine');
});

test('revocation: the QR photo verifies with --org-cert and the registry, then fails registry.status as revoked, like the PDF', async (t) => {
  const c = certs[2]!;
  const png = rasterise(c.file, 150, join(work, 'revoked-150dpi'));
  const qrArgs = ['--qr-png', png, '--org-cert', join(GENERATED, 'org.pem'), '--anchor', join(GENERATED, 'root-ca.pem'), '--registry', registry];
  const before = await verify(qrArgs);
  t.is(before.r.code, 0, show(before.r));
  t.is(before.v.verdict, 'valid');
  t.is(before.v.number, c.number);
  t.is(check(before.v, 'registry.status')!.ok, true);

  const reg = await openRegistry(registry, { operator: 'skillcert-tests' });
  try {
    await reg.revoke(c.number, 'TEST: revoked by the end-to-end verifier test', new Date('2026-11-21T02:00:00Z'));
  } finally {
    await reg.close();
  }

  const after = await verify(qrArgs);
  t.is(after.r.code, 1, show(after.r));
  t.is(after.v.verdict, 'invalid');
  t.deepEqual(failed(after.v), ['registry.status']);
  t.regex(check(after.v, 'registry.status')!.message, new RegExp(`certificate ${c.number} was revoked on 2026-11-21: TEST: revoked by the end-to-end verifier test`));
  const pdf = await verify([c.file, '--profile', PROFILE, '--registry', registry]);
  t.is(pdf.r.code, 1, show(pdf.r));
  t.deepEqual(failed(pdf.v), ['registry.status']);
  t.regex(check(pdf.v, 'registry.status')!.message, /was revoked/);
});

test('without a registry a genuine certificate is VALID with its status not checked, and a changed one INVALID: an HR desk can tell them apart', async (t) => {
  const genuine = await verify([certs[0]!.file, '--profile', PROFILE]);
  t.is(genuine.r.code, 0, show(genuine.r));
  t.is(genuine.v.verdict, 'valid');
  t.is(genuine.v.status, 'not checked');
  t.is(check(genuine.v, 'registry.status'), undefined);
  const plain = await skillcert(['verify', certs[0]!.file, '--profile', PROFILE]);
  t.regex(plain.stdout, /status: not checked \(no status source/);
  const changed = await verify([write('changed-no-registry.pdf', flipSignedByte(readFileSync(certs[0]!.file)).bytes), '--profile', PROFILE]);
  t.is(changed.r.code, 1);
  t.is(changed.v.verdict, 'invalid');
  t.deepEqual(failed(changed.v), ['signature.digest']);
  // with the registry, the status is the registry's
  const withRegistry = await verify([certs[0]!.file, '--profile', PROFILE, '--registry', registry]);
  t.is(withRegistry.v.status, 'issued');
});

test('a QR code signed by a key whose certificate does not chain to the trust anchors is INVALID, even when that certificate is given', async (t) => {
  const { X509Certificate, createPrivateKey } = await import('node:crypto');
  const { buildQrText } = await import('../../pipeline/stamp/qr.js');
  // a forger's own key and certificate (here: an organisation of another CA)
  const forger = { key: createPrivateKey(readFileSync(join(GENERATED, 'other-org.key'))), certificate: new X509Certificate(readFileSync(join(GENERATED, 'other-org.pem'))) };
  const forged = buildQrText({ number: certs[0]!.number, name: certs[0]!.name, idNo: '110105194912310021', occupation: '电工', job: '', level: 3, issueDate: '2026-11-20', orgCode: '0000' }, forger, { verifyUrl: 'http://evil.example/' });
  const r = await verify(['--qr-text', forged, '--org-cert', join(GENERATED, 'other-org.pem'), '--anchor', join(GENERATED, 'root-ca.pem')]);
  t.is(r.r.code, 1, show(r.r));
  t.is(r.v.verdict, 'invalid');
  t.regex(check(r.v, 'qr.issuer')!.message, /organisation certificate .* is not trusted/);
  t.is(check(r.v, 'qr.key')!.ok, false);
  // the genuine organisation's code reports the address it was found behind
  const png = rasterise(certs[1]!.file, 150, join(work, 'address-150dpi'));
  const good = await verify(['--qr-png', png, '--org-cert', join(GENERATED, 'org.pem'), '--anchor', join(GENERATED, 'root-ca.pem')]);
  t.is(good.v.verdict, 'valid', show(good.r));
  t.regex(check(good.v, 'qr.address')!.message, /found behind HTTP:\/\/JNDJ\.OSTA\.ORG\.CN\/\?n=/);
  t.is(good.v.status, 'not checked');
});

test('verify --qr-text with a PDF beside it is a usage error, not a PDF silently left unchecked', async (t) => {
  const r = await skillcert(['verify', certs[0]!.file, '--qr-text', 'x', '--profile', PROFILE]);
  t.is(r.code, 2, show(r));
  t.regex(r.stderr, /^skillcert: E_USAGE: --qr-text and --qr-png verify a QR code alone/m);
});
