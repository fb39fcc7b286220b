/**
 * After issue, end to end (SPEC §8): a real batch, then corrections, a reissue and a revocation through the same
 * render → stamp → sign path, each result read back by the verifier; the audit chain checked by the CLI after the
 * registry file is edited behind its back.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { correct, forms, reissue, revoke } from '../../pipeline/after/commands.js';
import { openRegistry } from '../../pipeline/registry/index.js';
import { verifyFiles, verifyQr } from '../../pipeline/verify/certificate.js';
import { personId } from '../helpers/roster-fixtures.js';
import { afterBatch, cli, ctx, PEOPLE } from './_batch.js';

// The haidian profile, with the office block the 附件4 forms need.
const batch = afterBatch('amend', { office: { filingNo: 'BJ-2026-0415', address: '北京市海淀区学院路 1 号', handler: '周敏', phone: '010-12345678' } });
const { work, out, registry, profile, numbers, pdf } = batch;
const anchors = [readFileSync('fixtures/signer/generated/root-ca.pem', 'utf8')];

test.before(() => batch.issue());

test.serial('a batch of three issues three valid certificates', async (t) => {
  t.is(numbers.length, 3);
  const v = await verifyFiles(numbers.map(pdf), { trustAnchors: anchors, registry });
  t.deepEqual(v.map((x) => x.verdict), ['valid', 'valid', 'valid']);
});

test.serial('第十七条: a name correction re-renders and re-signs under the same number; the old PDF is superseded', async (t) => {
  const n = numbers[0]!;
  const rec = await correct(ctx('2026-12-01T02:00:00Z'), { profile, out, registry, number: n, change: { name: '王建华' }, reason: '户籍姓名变更（派出所证明）' });
  t.is(rec.number, n);
  t.truthy(rec.file && rec.file !== `${batch.batchDir()}/certificates/${n}.pdf`);
  const [fresh, old] = await verifyFiles([join(out, rec.file!), pdf(n)], { trustAnchors: anchors, registry });
  t.is(fresh!.verdict, 'valid', JSON.stringify(fresh!.checks.filter((c) => c.ok !== true)));
  t.is(fresh!.number, n);
  t.true(execFileSync('pdftotext', [join(out, rec.file!), '-'], { encoding: 'utf8' }).includes('王建华'));
  t.is(old!.verdict, 'invalid');
  t.regex(old!.checks.find((c) => c.id === 'registry.status')!.message, /superseded by a correction \(第十七条\)/);
});

test.serial('第十七条: the ID number of a certificate whose name was corrected can never be corrected too', async (t) => {
  const n = numbers[0]!;
  const err = await t.throwsAsync(correct(ctx('2026-12-02T02:00:00Z'), { profile, out, registry, number: n, change: { idNo: personId('110108', '19850312', 9, '男') }, reason: '证件号码录入错误' }));
  t.regex(err!.message, /第十七条/);
  t.regex(err!.message, /name and the ID number can never both be corrected/);
});

test.serial('a correction without a written reason is refused before anything is recorded', (t) => {
  const r = cli('correct', numbers[1]!, '--name', '李秀瑛', '--profile', profile, '--out', out, '--registry', registry);
  t.is(r.status, 2);
  t.regex(r.stderr, /E_USAGE: 第十七条: a correction needs a written reason/);
  const r2 = cli('correct', numbers[1]!, '--name', '李秀瑛', '--id-number', '110108199005210023', '--reason', 'x', '--profile', profile, '--out', out, '--registry', registry);
  t.is(r2.status, 2);
  t.regex(r2.stderr, /exactly one of --name, --id-number or --photo/);
});

test.serial('correcting an unknown number is refused', async (t) => {
  const err = await t.throwsAsync(correct(ctx('2026-12-02T02:00:00Z'), { profile, out, registry, number: 'S000011084012263999999', change: { name: '张三' }, reason: '更正' }));
  t.regex(err!.message, /S000011084012263999999/);
});

test.serial('第二十二条: a reissue keeps the number, prints 补发日期 and supersedes the previous PDF', async (t) => {
  const n = numbers[2]!;
  const rec = await reissue(ctx('2027-03-01T02:00:00Z'), { profile, out, registry, number: n, kind: 'lost' });
  t.is(rec.number, n);
  const text = execFileSync('pdftotext', [join(out, rec.file!), '-'], { encoding: 'utf8' });
  t.true(text.includes('补发日期：2027年3月1日'), text);
  t.true(text.replace(/\s+/g, '').includes(n));
  const [fresh, old] = await verifyFiles([join(out, rec.file!), pdf(n)], { trustAnchors: anchors, registry });
  t.is(fresh!.verdict, 'valid');
  t.regex(old!.checks.find((c) => c.id === 'registry.status')!.message, /superseded by a reissue \(第二十二条\)/);
});

test.serial('第十八条: a revoked certificate stays on record and the verifier reports it revoked, from the PDF and from its QR code', async (t) => {
  const n = numbers[1]!;
  await revoke(ctx('2027-04-01T02:00:00Z'), { out, registry, number: n, reason: '以不正当手段取得证书' });
  t.true(existsSync(pdf(n)), 'the PDF is not deleted');
  const [v] = await verifyFiles([pdf(n)], { trustAnchors: anchors, registry });
  t.is(v!.verdict, 'invalid');
  t.regex(v!.checks.find((c) => c.id === 'registry.status')!.message, /revoked on 2027-04-01: 以不正当手段取得证书/);
  const png = join(work, 'revoked');
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', pdf(n), png]);
  const q = await verifyQr({ png: `${png}.png` }, { trustAnchors: [readFileSync('fixtures/signer/generated/root-ca.pem', 'utf8')], orgCertificates: [readFileSync('fixtures/signer/generated/org.pem', 'utf8')], registry });
  t.is(q.verdict, 'invalid');
  t.is(q.number, n);
  const reg = await openRegistry(registry);
  t.is((await reg.getByNumber(n))!.status, 'revoked');
  await reg.close();
  const err = await t.throwsAsync(correct(ctx('2027-04-02T02:00:00Z'), { profile, out, registry, number: n, change: { name: '李秀瑛' }, reason: '更正' }));
  t.regex(err!.message, /revoked/);
});

test.serial('the 附件4 forms are produced from the corrections of the period', async (t) => {
  const dir = join(work, 'forms');
  const r = await forms(ctx('2026-12-31T02:00:00Z'), { profile, out, registry, from: new Date('2026-12-01T00:00:00+08:00'), to: new Date('2027-01-01T00:00:00+08:00'), dir });
  t.is(r.corrections, 1);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(r.dataModification!.file);
  const values = wb.worksheets[0]!.getSheetValues().flat().map(String);
  t.true(values.includes(numbers[0]!));
  t.true(values.includes('王建国') && values.includes('王建华'), 'original and corrected name');
  t.truthy(r.application);
});

test.serial('skillcert audit lists who, what and why with ID numbers masked, and --verify passes on an intact chain', (t) => {
  const r = cli('audit', '--out', out, '--registry', registry, '--verify', '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { ok: boolean; entries: { action: string; operator: string; reason: string | null }[] };
  t.true(j.ok);
  t.true(j.entries.some((e) => e.action === 'correct' && e.operator === 'test-operator' && e.reason === '户籍姓名变更（派出所证明）'));
  t.true(j.entries.some((e) => e.action === 'revoke'));
  for (const [, , region, birth] of PEOPLE) t.false(r.stdout.includes(`${region}${birth}`), 'no full ID number in the listing');
});

test.serial('skillcert audit --verify names the first broken entry when the registry is edited behind its back', (t) => {
  const copy = (name: string) => {
    const f = join(work, name);
    execFileSync('cp', [registry, f]);
    return f;
  };
  const edited = copy('edited.sqlite');
  let raw = new Database(edited);
  raw.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;');
  raw.prepare("UPDATE audit SET reason = '笔误' WHERE seq = 5").run();
  raw.close();
  let r = cli('audit', '--out', out, '--registry', edited, '--verify');
  t.is(r.status, 1);
  t.regex(r.stdout, /AUDIT CHAIN BROKEN at entry 5/);

  const deleted = copy('deleted.sqlite');
  raw = new Database(deleted);
  raw.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;');
  raw.prepare('DELETE FROM audit WHERE seq = 7').run();
  raw.close();
  r = cli('audit', '--out', out, '--registry', deleted, '--verify');
  t.is(r.status, 1);
  t.regex(r.stdout, /AUDIT CHAIN BROKEN at entry 7/);
});
