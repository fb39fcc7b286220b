/**
 * SPEC §8 after issue, in the registry: corrections (第十七条), reissues (第二十二条), logical revocation (第十八条),
 * and the correct → render → sign → recordDigest hand-over with a clear state after a crash in between.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { maskId } from '../../pipeline/core/privacy.js';
import { openRegistry, type Registry } from '../../pipeline/registry/index.js';
import { openSqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { idCard, issuedCertificate, NEW_ID, OPERATOR, PEOPLE, sha, sqlError } from '../helpers/registry-after.js';
import { tempRegistryPath } from '../helpers/registry-processes.js';

const T1 = new Date('2025-07-10T01:00:00.000Z');
const T2 = new Date('2025-07-20T01:00:00.000Z');
const T3 = new Date('2025-08-02T01:00:00.000Z');

async function fresh(): Promise<{ path: string; registry: Registry }> {
  const path = tempRegistryPath();
  return { path, registry: await openRegistry(path, { operator: 'test-default' }) };
}

async function refused(t: import('ava').ExecutionContext, p: Promise<unknown>, message: RegExp): Promise<SkillcertError> {
  const err = await t.throwsAsync(p, { instanceOf: SkillcertError, message });
  return err as SkillcertError;
}

test('a name correction updates the printed name, keeps the original for the forms and leaves the certificate pending', async (t) => {
  const { registry } = await fresh();
  const { number, sha256 } = await issuedCertificate(registry, PEOPLE.li);
  const job = await registry.correct(number, { name: '李晓刚' }, '  身份证姓名为李晓刚，录入有误  ', T1, OPERATOR);

  t.is(job.number, number);
  t.is(job.printed.name, '李晓刚');
  t.is(job.printed.idNo, PEOPLE.li.idNo, 'the other printed fields stay');
  t.is(job.next, 'recordDigest');
  t.false(job.photoChanged);
  t.is(job.reissue, undefined);
  t.is(job.certificate.sha256, sha256, 'the old PDF stays current until the new one is recorded');
  t.regex(job.reason, /第十七条 correction 1 \(name\): 身份证姓名为李晓刚，录入有误$/);

  const [c] = await registry.corrections({ number });
  t.like(c, { seq: 1, fields: ['name'], nameBefore: '李小刚', nameAfter: '李晓刚', idNoBefore: PEOPLE.li.idNo, idNoAfter: PEOPLE.li.idNo, reason: '身份证姓名为李晓刚，录入有误', operator: OPERATOR, supersedesSha256: sha256 });
  t.is(c?.appliedSha256, undefined);
  t.like(await registry.getByNumber(number), { number, corrected: true, pendingRender: true, status: 'issued' });
  t.like(await registry.status(number, sha256), { status: 'issued', digest: 'current', corrected: true, pendingRender: true });
  await registry.close();
});

test('correcting the ID number after the name was corrected is refused under 第十七条, and the other way round', async (t) => {
  const { registry } = await fresh();
  const a = await issuedCertificate(registry, PEOPLE.li);
  const b = await issuedCertificate(registry, PEOPLE.wu);
  await registry.correct(a.number, { name: '李晓刚' }, '姓名录入错误', T1, OPERATOR);
  await registry.correct(b.number, { idNo: NEW_ID }, '身份证号录入错误', T1, OPERATOR);

  const e1 = await refused(t, registry.correct(a.number, { idNo: NEW_ID }, '身份证号也错了', T2, OPERATOR), /第十七条: its name was already corrected \(correction 1\).*never both be corrected/);
  t.is(e1.code, 'E_REGISTRY');
  t.is(e1.details.rule, '第十七条');
  const e2 = await refused(t, registry.correct(b.number, { name: '吴明' }, '姓名也错了', T2, OPERATOR), /第十七条: its ID number was already corrected.*never both/);
  t.false(e2.message.includes(NEW_ID), 'no full ID number in the message');

  t.is((await registry.corrections({ number: a.number })).length, 1, 'nothing recorded by the refused correction');
  t.is((await registry.getByNumber(a.number))?.idNo, PEOPLE.li.idNo);
  await registry.close();
});

test('the name and the ID number in one request are refused under 第十七条', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  const err = await refused(t, registry.correct(number, { name: '李晓刚', idNo: NEW_ID }, '都错了', T1, OPERATOR), /第十七条: the name and the ID number can never both be corrected/);
  t.is(err.code, 'E_USAGE');
  await refused(t, registry.correct(number, {}, '没有内容', T1, OPERATOR), /nothing to correct/);
  await refused(t, registry.correct(number, { occupation: '焊工' } as never, '改职业', T1, OPERATOR), /occupation cannot be corrected; 第十七条 allows only the name, the ID number and the photo/);
  t.deepEqual(await registry.corrections({ number }), []);
  await registry.close();
});

test('correcting the same field twice is allowed and each correction keeps its own before and after', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  await registry.correct(number, { name: '李晓刚' }, '第一次更正', T1, OPERATOR);
  const job = await registry.correct(number, { name: '李晓钢' }, '第二次更正：钢字', T2, OPERATOR);
  t.is(job.printed.name, '李晓钢');
  t.deepEqual(job.corrections.map((c) => [c.seq, c.nameBefore, c.nameAfter]), [
    [1, '李小刚', '李晓刚'],
    [2, '李晓刚', '李晓钢'],
  ]);
  // ID number twice, on another certificate.
  const other = await issuedCertificate(registry, PEOPLE.wu);
  const second = idCard('11010819900307452');
  await registry.correct(other.number, { idNo: NEW_ID }, '第一次', T1, OPERATOR);
  const j2 = await registry.correct(other.number, { idNo: second }, '第二次', T2, OPERATOR);
  t.is(j2.certificate.idNo, second);
  await refused(t, registry.correct(number, { name: '李晓钢' }, '同名', T3, OPERATOR), /the new name is the name already on record/);
  await registry.close();
});

test('a correction without a written reason is refused', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  for (const reason of ['', '   ', '\n\t']) {
    const err = await refused(t, registry.correct(number, { name: '李晓刚' }, reason, T1, OPERATOR), /第十七条 requires a written reason/);
    t.is(err.details.field, 'reason');
  }
  t.deepEqual(await registry.corrections({ number }), []);
  await registry.close();
});

test('a correction of an unknown number is refused with the number and what to check', async (t) => {
  const { registry } = await fresh();
  await issuedCertificate(registry, PEOPLE.li);
  const err = await refused(t, registry.correct('S000011082003253999999', { name: '李晓刚' }, '姓名错误', T1, OPERATOR), /no certificate numbered S000011082003253999999.*check the number/);
  t.is(err.code, 'E_REGISTRY');
  await registry.close();
});

test('a correction or reissue of a revoked certificate is refused', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  await registry.revoke(number, '第十八条: 以弄虚作假取得', T1, { operator: OPERATOR });
  await refused(t, registry.correct(number, { name: '李晓刚' }, '姓名错误', T2, OPERATOR), /was revoked on 2025-07-10.*cannot be corrected/);
  await refused(t, registry.reissue(number, 'lost', T2, OPERATOR), /was revoked on .* cannot be reissued/);
  t.deepEqual(await registry.corrections({ number }), []);
  t.is(await registry.pendingRender(number), undefined);
  await registry.close();
});

test('an ID-number correction moves the person key: the new ID finds the certificate, the old one no longer does', async (t) => {
  const { path, registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.wu);
  const job = await registry.correct(number, { idNo: NEW_ID.toLowerCase() }, `原号码 ${PEOPLE.wu.idNo} 录入错误`, T1, OPERATOR);
  t.is(job.printed.idNo, NEW_ID, 'stored upper case, like the person key');
  const q = { occupation: '电工', job: '', level: 4 as const };
  t.is((await registry.findByPerson({ idType: '201', idNo: NEW_ID }, q))?.number, number);
  t.is(await registry.findByPerson({ idType: '201', idNo: PEOPLE.wu.idNo }, q), undefined);
  const [c] = await registry.corrections({ number });
  t.is(c?.reason, `原号码 ${maskId(PEOPLE.wu.idNo)} 录入错误`, 'a full ID number typed into the reason is masked');
  t.is(c?.idNoBefore, PEOPLE.wu.idNo, 'the original ID number is kept for the 数据修改信息表');
  // The same transaction moved id_no and person_key: read the file directly.
  const raw = new Database(path, { readonly: true });
  const row = raw.prepare('SELECT id_no, person_key FROM certificates WHERE number = ?').get(number) as { id_no: string; person_key: string };
  raw.close();
  t.is(row.id_no, NEW_ID);
  t.is(row.person_key, job.certificate.personKey);
  await registry.close();
});

test('an ID-number correction that would give the person two live certificates for one qualification is refused and changes nothing', async (t) => {
  const { registry } = await fresh();
  const holder = await issuedCertificate(registry, { ...PEOPLE.zhao, idNo: NEW_ID, level: 3 }); // NEW_ID holds 电工 level 3
  const { number } = await issuedCertificate(registry, PEOPLE.li); // 电工 level 3
  const err = await refused(
    t,
    registry.correct(number, { idNo: NEW_ID }, '身份证号录入错误', T1, OPERATOR),
    new RegExp(`already holds live certificate ${holder.number} for 电工 level 3`),
  );
  t.is(err.code, 'E_REGISTRY');
  t.false(err.message.includes(NEW_ID));
  t.true(err.message.includes(maskId(NEW_ID)));
  t.is((await registry.getByNumber(number))?.idNo, PEOPLE.li.idNo);
  t.deepEqual(await registry.corrections({ number }), []);
  // Once the other certificate is revoked (第十八条) the correction goes through.
  await registry.revoke(holder.number, '重复发证', T1);
  t.is((await registry.correct(number, { idNo: NEW_ID }, '身份证号录入错误', T2, OPERATOR)).certificate.idNo, NEW_ID);
  await registry.close();
});

test('a new 居民身份证 number with a wrong GB 11643 check digit is refused', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  const wrong = NEW_ID.slice(0, 17) + (NEW_ID[17] === '1' ? '2' : '1');
  const err = await refused(t, registry.correct(number, { idNo: wrong }, '号码错误', T1, OPERATOR), /fails the GB 11643 check digit/);
  t.false(err.message.includes(wrong));
  await registry.close();
});

test('a photo correction changes no printed data and asks for a render with the new photo', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.chen);
  const before = await registry.getByNumber(number);
  const job = await registry.correct(number, { photo: true }, '照片非本人近照', T1, OPERATOR);
  t.true(job.photoChanged);
  t.deepEqual(job.printed, before?.printed);
  // A photo may go with the name; the name rule is untouched by photos.
  const j2 = await registry.correct(number, { name: '陈健国', photo: true }, '姓名与照片均需更正', T2, OPERATOR);
  t.deepEqual(j2.corrections.map((c) => c.fields), [['photo'], ['name', 'photo']]);
  await registry.close();
});

test('after a correction and recordDigest the old PDF is superseded and status(number, oldSha) says so', async (t) => {
  const { registry } = await fresh();
  const { number, sha256: old } = await issuedCertificate(registry, PEOPLE.li);
  const job = await registry.correct(number, { name: '李晓刚' }, '姓名录入错误', T1, OPERATOR);
  const fresh2 = { file: `${number}-v2.pdf`, sha256: sha('corrected pdf') };
  const after = await registry.recordDigest(number, fresh2, T2, job.reason, { operator: OPERATOR, through: job.revision });
  t.is(after.sha256, fresh2.sha256);
  t.is(after.pendingRender, undefined, 'nothing waits any more');
  t.true(after.corrected);

  t.like(await registry.status(number, old), { status: 'issued', digest: 'superseded', currentSha256: fresh2.sha256, corrected: true });
  t.like(await registry.status(number, fresh2.sha256), { digest: 'current' });
  t.is((await registry.status(number)).pendingRender, undefined);
  const [c] = await registry.corrections({ number });
  t.is(c?.appliedSha256, fresh2.sha256);
  t.is(c?.appliedAt, T2.toISOString());
  t.deepEqual((await registry.digests(number)).map((d) => [d.version, d.state]), [
    [1, 'superseded'],
    [2, 'current'],
  ]);
  t.deepEqual(await registry.pendingRenders(), []);
  await registry.close();
});

test('a correction recorded while the PDF was rendering stays pending for the next round', async (t) => {
  const { registry } = await fresh();
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  const job = await registry.correct(number, { name: '李晓刚' }, '第一次', T1, OPERATOR);
  // Someone else corrects the photo while job renders.
  await registry.correct(number, { photo: true }, '照片', T1, 'clerk-li');
  await registry.recordDigest(number, { file: 'v2.pdf', sha256: sha('v2') }, T2, job.reason, { operator: OPERATOR, through: job.revision });
  const next = await registry.pendingRender(number);
  t.truthy(next, 'still pending');
  t.deepEqual(next?.corrections.map((c) => c.seq), [2]);
  t.true(next?.photoChanged);
  t.is(next?.certificate.sha256, sha('v2'));
  await registry.close();
});

test('a correction of a certificate that is only numbered is carried by its first PDF', async (t) => {
  const { registry } = await fresh();
  const { certificate } = await registry.issue({
    issuer: (await import('../helpers/registry-fixtures.js')).HAIDIAN,
    person: { idType: '201', idNo: PEOPLE.zhao.idNo },
    qualification: { occupation: '电工', job: '', level: 5 },
    year: 2025,
    batchId: 'b1',
    printed: { name: '赵莉', idNo: PEOPLE.zhao.idNo },
    at: T1,
  });
  const job = await registry.correct(certificate.number, { name: '赵丽' }, '姓名录入错误', T1, OPERATOR);
  t.is(job.next, 'markIssued');
  await registry.markIssued(certificate.number, { file: 'v1.pdf', sha256: sha('first') }, T2, { operator: OPERATOR, through: job.revision });
  t.is(await registry.pendingRender(certificate.number), undefined);
  t.is((await registry.corrections({ number: certificate.number }))[0]?.appliedSha256, sha('first'));
  await registry.close();
});

test('a crash between the correction and the new PDF leaves it pending, listed after reopening, nothing applied twice', async (t) => {
  const { path, registry } = await fresh();
  const a = await issuedCertificate(registry, PEOPLE.li);
  const b = await issuedCertificate(registry, PEOPLE.wu);
  await registry.correct(a.number, { name: '李晓刚' }, '姓名录入错误', T1, OPERATOR);
  await registry.reissue(b.number, 'damaged', T1, OPERATOR, '证书破损');
  await registry.close(); // the process dies before rendering

  const again = await openSqliteRegistry(path);
  const jobs = await again.pendingRenders();
  t.deepEqual(jobs.map((j) => j.number).sort(), [a.number, b.number].sort());
  const ja = jobs.find((j) => j.number === a.number);
  t.is(ja?.printed.name, '李晓刚');
  t.is(ja?.certificate.sha256, a.sha256, 'the old PDF is still the current one');
  for (const j of jobs) await again.recordDigest(j.number, { file: `${j.number}-v2.pdf`, sha256: sha(`${j.number} v2`) }, T2, j.reason, { through: j.revision });
  t.deepEqual(await again.pendingRenders(), []);
  // Recording the same PDF again (a resume that ran twice) changes nothing.
  await again.recordDigest(a.number, { file: `${a.number}-v2.pdf`, sha256: sha(`${a.number} v2`) }, T3, 'again');
  t.is((await again.digests(a.number)).length, 2);
  await again.close();
});

test('a reissue keeps the number and the printed data, records the Beijing date, and its PDF supersedes the old one', async (t) => {
  const { registry } = await fresh();
  const { number, sha256: old } = await issuedCertificate(registry, PEOPLE.chen);
  const before = await registry.getByNumber(number);
  // 2025-07-31T17:30Z is 2025-08-01 01:30 in Beijing: the date printed is the Beijing one.
  const at = new Date('2025-07-31T17:30:00.000Z');
  const job = await registry.reissue(number, 'lost', at, OPERATOR, '持证人遗失纸质证书');
  t.is(job.number, number);
  t.deepEqual(job.printed, before?.printed, '第二十二条: the printed data is unchanged');
  t.deepEqual(job.reissue, { kind: 'lost', date: '2025-08-01' });
  t.regex(job.reason, /第二十二条 补发 2025-08-01: 持证人遗失纸质证书/);
  t.deepEqual((await registry.reissues(number)).map((r) => [r.seq, r.kind, r.date, r.reason]), [[1, 'lost', '2025-08-01', '持证人遗失纸质证书']]);

  await registry.recordDigest(number, { file: `${number}-补发.pdf`, sha256: sha('reissued') }, at, job.reason, { operator: OPERATOR, through: job.revision });
  t.like(await registry.status(number, old), { digest: 'superseded', lastReissue: { kind: 'lost', date: '2025-08-01' } });
  t.is((await registry.getByNumber(number))?.number, number);

  const damaged = await registry.reissue(number, 'damaged', T3, OPERATOR);
  t.deepEqual(damaged.reissue, { kind: 'damaged', date: '2025-08-02' });
  t.regex(damaged.reason, /换发 2025-08-02/);
  await refused(t, registry.reissue(number, 'stolen' as 'lost', T3, OPERATOR), /lost \(补发\) or damaged \(换发\) but received stolen/);
  await registry.close();
});

test('a certificate that was never issued cannot be reissued', async (t) => {
  const { registry } = await fresh();
  const { certificate } = await registry.issue({
    issuer: (await import('../helpers/registry-fixtures.js')).HAIDIAN,
    person: { idType: '201', idNo: PEOPLE.zhao.idNo },
    qualification: { occupation: '电工', job: '', level: 5 },
    year: 2025,
    batchId: 'b1',
    printed: { name: '赵丽' },
    at: T1,
  });
  await refused(t, registry.reissue(certificate.number, 'lost', T2, OPERATOR), /never issued .*nothing to reissue/);
  await registry.close();
});

test('revocation is logical: the certificate, its PDFs and its corrections stay, and the file itself refuses deletion', async (t) => {
  const { path, registry } = await fresh();
  const { number, sha256 } = await issuedCertificate(registry, PEOPLE.li);
  await registry.correct(number, { name: '李晓刚' }, '姓名录入错误', T1, OPERATOR);
  await registry.revoke(number, '第十八条: 取消认定结果', T2, { operator: OPERATOR });
  const rec = await registry.getByNumber(number);
  t.like(rec, { status: 'revoked', revokeReason: '第十八条: 取消认定结果', revokedAt: T2.toISOString(), corrected: true });
  t.is(rec?.pendingRender, undefined, 'a revoked certificate waits for nothing');
  t.like(await registry.status(number, sha256), { status: 'revoked', digest: 'current' });
  t.is((await registry.digests(number)).length, 1);
  t.is((await registry.corrections({ number })).length, 1);
  await registry.close();

  const raw = new Database(path);
  for (const sql of ['DELETE FROM certificates', 'DELETE FROM certificate_digests', 'DELETE FROM corrections']) {
    t.regex(sqlError(() => raw.prepare(sql).run()), /(only be deleted logically \(第十八条\)|never deleted)/, sql);
  }
  t.regex(sqlError(() => raw.prepare(`UPDATE corrections SET name_after = 'x'`).run()), /never changed/);
  t.is((raw.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n, 1);
  raw.close();
});
