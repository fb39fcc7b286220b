/**
 * Issue 14, part 3, end to end: a real batch numbers three certificates, whose QR codes carry their status list
 * index (claim 8), and publishes the organisation's signed lists; suspend, lift and revoke (in process, then
 * through the built CLI) re-sign them; the verifier, given only the list files (no registry), reports each
 * certificate suspended, issued or revoked, from its PDF and from its QR code, and refuses a list signed by
 * another organisation.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { liftSuspension, revoke, suspend } from '../../pipeline/after/commands.js';
import { openRegistry } from '../../pipeline/registry/index.js';
import { parseQrText } from '../../pipeline/stamp/qr.js';
import { bitAt } from '../../pipeline/status/bitstring.js';
import { signStatusList, verifyStatusList } from '../../pipeline/status/index.js';
import { verifyFiles, type FileVerdict } from '../../pipeline/verify/certificate.js';
import { decodeQrFromPng } from '../../pipeline/verify/qr.js';
import { pem, testSigner } from '../sign/_identity.js';
import { afterBatch, cli, ctx } from './_batch.js';

const batch = afterBatch('status');
const { work, out, registry, profile, numbers, pdf } = batch;
const anchors = [pem('root-ca')];
const lists = () => ['revocation', 'suspension'].map((p) => join(out, 'status', `0000-${p}.jwt`));
const listTexts = () => lists().map((f) => readFileSync(f, 'utf8').trim());
const qrTexts = new Map<string, string>();
const statusCheck = (v: FileVerdict) => v.checks.find((c) => c.id === 'status.list');

test.before(async () => {
  await batch.issue();
  for (const n of numbers) {
    execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', pdf(n), join(work, n)]);
    qrTexts.set(n, (await decodeQrFromPng(join(work, `${n}.png`)))[0]!);
  }
});

test.serial('the batch gives each certificate a status list index, carried in its QR code, and publishes both signed lists', async (t) => {
  t.is(numbers.length, 3);
  const reg = await openRegistry(registry);
  try {
    const indexes = await Promise.all(numbers.map(async (n) => (await reg.getByNumber(n))!.statusIndex));
    t.deepEqual([...indexes].sort(), [0, 1, 2]);
    numbers.forEach((n, i) => t.is(parseQrText(qrTexts.get(n)!).payload.statusIndex, indexes[i], `claim 8 of ${n}`));
    const [revocation, suspension] = listTexts();
    t.is(await reg.statusList('0000', 'revocation'), revocation);
    t.is(await reg.statusList('0000', 'suspension'), suspension);
  } finally {
    await reg.close();
  }
  const v = await verifyStatusList(listTexts()[0]!, [pem('org')], { now: new Date('2026-11-20T03:00:00Z') });
  t.like(v, { orgCode: '0000', purpose: 'revocation' });
  t.deepEqual(v.validUntil, new Date('2026-11-27T02:00:00Z'));
  t.false([0, 1, 2].some((i) => bitAt(v.list, i)));
  const [valid] = await verifyFiles([pdf(numbers[0]!)], { trustAnchors: anchors, statusLists: listTexts(), at: new Date('2026-11-20T03:00:00Z') });
  t.is(valid!.verdict, 'valid', JSON.stringify(valid!.checks.filter((c) => c.ok !== true)));
  t.is(valid!.status, 'issued');
  t.regex(statusCheck(valid!)!.message, /neither revoked nor suspended according to the status lists of organisation 0000/);
});

test.serial('suspend, lift and revoke re-sign the lists; the verifier with the list files alone reports suspended, issued, revoked', async (t) => {
  const [a, b, c] = numbers as [string, string, string];
  const at = (iso: string) => ({ trustAnchors: anchors, statusLists: listTexts(), at: new Date(iso) });

  const s = await suspend(ctx('2026-11-21T02:00:00Z'), { profile, out, registry, number: a, reason: '第二十条: 筛查预警' });
  t.like(s.certificate, { suspendedAt: '2026-11-21T02:00:00.000Z' });
  t.deepEqual(s.lists.map((l) => [l.purpose, l.set, l.file]), [['revocation', 0, lists()[0]], ['suspension', 1, lists()[1]]]);
  let [va, vb] = await verifyFiles([pdf(a), pdf(b)], at('2026-11-21T03:00:00Z'));
  t.is(va!.verdict, 'invalid');
  t.is(va!.status, 'suspended');
  t.regex(statusCheck(va!)!.message, new RegExp(`certificate ${a} is suspended \\(第二十条`));
  t.is(vb!.verdict, 'valid');
  t.is(vb!.status, 'issued');

  await liftSuspension(ctx('2026-11-22T02:00:00Z'), { profile, out, registry, number: a, reason: '核查无误' });
  [va] = await verifyFiles([pdf(a)], at('2026-11-22T03:00:00Z'));
  t.is(va!.verdict, 'valid');
  t.is(va!.status, 'issued');

  const r = await revoke(ctx('2026-11-23T02:00:00Z'), { profile, out, registry, number: c, reason: '第十八条: 以不正当手段取得证书' });
  t.deepEqual(r.lists.map((l) => l.set), [1, 0]);
  const [vc] = await verifyFiles([pdf(c)], at('2026-11-23T03:00:00Z'));
  t.is(vc!.verdict, 'invalid');
  t.is(vc!.status, 'revoked');
  t.regex(statusCheck(vc!)!.message, /is revoked \(第十八条\) according to the revocation list of organisation 0000/);
  // With the registry as well, both say it.
  const [both] = await verifyFiles([pdf(c)], { ...at('2026-11-23T03:00:00Z'), registry });
  t.regex(both!.checks.find((x) => x.id === 'registry.status')!.message, /was revoked on 2026-11-23/);

  // An expired list decides nothing: the status is then indeterminate, not "issued".
  const [stale] = await verifyFiles([pdf(b)], at('2026-12-05T00:00:00Z'));
  t.is(statusCheck(stale!)!.ok, null);
  t.regex(statusCheck(stale!)!.message, /expired on 2026-11-30/);

  const reg = await openRegistry(registry);
  try {
    t.deepEqual((await reg.audit({ number: a })).map((e) => [e.action, e.operator]), [['issue', 'test-operator'], ['sign', 'test-operator'], ['suspend', 'test-operator'], ['lift', 'test-operator']]);
    t.like(await reg.verifyAudit(), { ok: true });
  } finally {
    await reg.close();
  }
});

test.serial('the CLI: suspend --lift, status-lists, and verify --qr-text --status-list report from the list files, and refuse a list of another signer', async (t) => {
  const [a, b, c] = numbers as [string, string, string];
  const common = ['--out', out, '--registry', registry];
  const s = cli('suspend', b, '--reason', '第二十条: 可疑', '--profile', profile, ...common);
  t.is(s.status, 0, s.stderr);
  t.regex(s.stdout, new RegExp(`suspended ${b}: issued, suspended since `));
  t.regex(s.stdout, /suspension list: 1 of 131072 bits set, .*0000-suspension\.jwt/);
  const noProfile = cli('suspend', a, '--reason', '测试', ...common);
  t.is(noProfile.status, 0, noProfile.stderr);
  t.regex(noProfile.stdout, /status lists not signed anew \(no --profile\)/);
  t.is(cli('suspend', a, '--lift', '--reason', '测试结束', ...common).status, 0);
  const again = cli('suspend', '--lift', a, '--reason', '再次', ...common);
  t.is(again.status, 1);
  t.regex(again.stderr, new RegExp(`^skillcert: E_REGISTRY: certificate ${a} is not suspended; there is no suspension to lift`));
  // Re-signed now (the lists made at the pinned times above have expired by the real clock).
  const relisted = cli('status-lists', '--profile', profile, ...common, '--json');
  t.is(relisted.status, 0, relisted.stderr);
  t.like(JSON.parse(relisted.stdout), { ok: true, lists: [{ purpose: 'revocation', set: 1, bits: 131072 }, { purpose: 'suspension', set: 1 }] });

  const verify = (n: string, ...extra: string[]) => {
    const r = cli('verify', '--qr-text', qrTexts.get(n)!, '--org-cert', join('fixtures/signer/generated/org.pem'), '--anchor', 'fixtures/signer/generated/root-ca.pem', '--json', ...extra);
    return { code: r.status, v: JSON.parse(r.stdout).results[0] as FileVerdict };
  };
  const withLists = ['--status-list', ...lists()];
  t.like(verify(a, ...withLists), { code: 0, v: { verdict: 'valid', status: 'issued' } });
  t.like(verify(b, ...withLists), { code: 1, v: { verdict: 'invalid', status: 'suspended' } });
  t.like(verify(c, ...withLists), { code: 1, v: { verdict: 'invalid', status: 'revoked' } });
  t.like(verify(a), { v: { verdict: 'valid', status: 'not checked' } });

  // A list signed by another organisation's key is not evidence: the status stays undecided.
  const forged = join(work, 'forged-revocation.jwt');
  const now = new Date();
  writeFileSync(forged, await signStatusList({ orgCode: '0000', purpose: 'revocation', indexes: [], validFrom: now, validUntil: new Date(now.getTime() + 86_400_000) }, testSigner('other-org')));
  const f = verify(c, '--status-list', forged, lists()[1]!);
  t.is(f.v.verdict, 'indeterminate');
  t.regex(statusCheck(f.v)!.message, /not one of the trusted organisation certificates/);
  const missing = cli('verify', '--qr-text', qrTexts.get(a)!, '--status-list', join(work, 'nope.jwt'));
  t.is(missing.status, 2);
  t.regex(missing.stderr, /^skillcert: E_USAGE: cannot read the status list .*nope\.jwt: ENOENT/);
});
